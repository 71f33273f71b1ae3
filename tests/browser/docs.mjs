// /docs in headless Chromium with the network cut off: Swagger UI comes from lintel itself,
// shows every operation of every loaded plugin, takes a bearer token, and "Try it out" works.
import { api, artifact, baseUrl, check, run, unique } from "./lib.mjs";

await run("docs", async (open) => {
  const base = baseUrl();
  const doc = (await api(base, "GET", "/openapi.json")).json;
  const password = "browser-test-password";
  const reg = await api(base, "POST", "/api/auth/register", null, { username: unique("docs"), password });
  check(reg.status === 201, "a user registers");
  const token = reg.json.access_token;

  const { page, blocked } = await open(base);
  await page.goto(base + "/docs", { waitUntil: "load" });
  await page.waitForSelector(".opblock", { timeout: 30000 });

  // Every operation of the document is on the page, under its tag (one tag per plugin).
  const expected = [];
  for (const [p, ops] of Object.entries(doc.paths))
    for (const [m, op] of Object.entries(ops))
      if (["get", "put", "post", "delete", "patch", "head", "options"].includes(m))
        expected.push(`operations-${op.tags[0]}-${op.operationId}`);
  const shown = await page.$$eval(".opblock", (els) => els.map((e) => e.id));
  const missing = expected.filter((id) => !shown.includes(id));
  check(expected.length > 20 && missing.length === 0,
        `all ${expected.length} operations rendered (missing: ${missing.join(", ") || "none"})`);
  const tags = await page.$$eval(".opblock-tag", (els) => els.map((e) => e.getAttribute("data-tag")));
  for (const t of doc.tags.map((t) => t.name)) check(tags.includes(t), `tag ${t} shown`);

  await page.screenshot({ path: artifact("docs-overview.png"), fullPage: false });

  // Authorize with the bearer token.
  await page.click("button.authorize");
  await page.fill(".modal-ux input[type=text], .modal-ux input:not([type])", token);
  await page.click(".modal-ux button.authorize");
  const modal = page.locator(".modal-ux");
  await modal.locator("button", { hasText: "Logout" }).waitFor({ timeout: 30000 });
  check(await modal.getByText("Authorized").isVisible(), "Authorize took the bearer token");
  await modal.locator("button", { hasText: "Close" }).click();

  // Try it out: GET /api/numbers/stats answers 200 through the page.
  const op = page.locator("#operations-numbers-get_api_numbers_stats");
  await op.locator(".opblock-summary").first().click();
  await op.locator("button.try-out__btn").click();
  const reply = page.waitForResponse((r) => r.url().endsWith("/api/numbers/stats"));
  await op.locator("button.execute").click();
  const r = await reply;
  check(r.status() === 200 && r.request().headers()["authorization"] === `Bearer ${token}`,
        `the page sent the token and got ${r.status()}`);
  await op.locator(".live-responses-table tr.response .response-col_status").first().waitFor({ timeout: 30000 });
  const status = (await op.locator(".live-responses-table tr.response .response-col_status").first().innerText()).trim();
  check(status.startsWith("200"), `the page shows status ${status}`);
  const body = await op.locator(".live-responses-table .microlight, .live-responses-table pre").first().innerText();
  check(body.includes('"count"'), "the page shows the stats body");

  // Try it out with query parameters: GET /api/datapoints?start&end&limit.
  const dp = page.locator("#operations-datapoints-get_api_datapoints");
  await dp.locator(".opblock-summary").first().click();
  await dp.locator("button.try-out__btn").click();
  const now = Math.floor(Date.now() / 1000);
  await dp.locator('tr[data-param-name="start"] input').fill(String(now - 86400));
  await dp.locator('tr[data-param-name="end"] input').fill(String(now + 3600));
  await dp.locator('tr[data-param-name="limit"] input').fill("5");
  const listed = page.waitForResponse((r) => r.url().includes("/api/datapoints?"));
  await dp.locator("button.execute").click();
  const lr = await listed;
  const q = new URL(lr.url()).searchParams;
  check(lr.status() === 200 && q.get("start") === String(now - 86400) &&
        q.get("end") === String(now + 3600) && q.get("limit") === "5",
        `GET ${new URL(lr.url()).search} answered ${lr.status()}`);
  const listBody = await lr.json();
  check(listBody.limit === 5 && Array.isArray(listBody.items), "the list honours limit=5");

  check(blocked.length === 0, `no request left the server's origin (${blocked.join(", ") || "none"})`);
  await op.scrollIntoViewIfNeeded();
  await page.screenshot({ path: artifact("docs.png"), fullPage: false });
  console.log(`screenshot: ${artifact("docs.png")}`);
});
