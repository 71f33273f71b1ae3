// /admin in headless Chromium with the network cut off: an admin logs in through the form, sees
// the chart of points this test created (valid and invalid apart) with their statistics, gets
// a live update, changes a role, and revokes a user's session, whose token then gets 401; the
// audit trail on the page shows both.
import { ADMIN_PASSWORD, api, artifact, check, privateServer, run, unique } from "./lib.mjs";

// The four little-endian bytes of a float32, as the upstream sends them.
function f32(v) {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v, 0);
  return [...b];
}

// Its own server: the test makes a second admin, which the shared server's tests must not see.
const server = await privateServer();
await run("admin", async (open) => {
  const base = server.url;
  const login = await api(base, "POST", "/api/auth/login", null, { username: "admin", password: ADMIN_PASSWORD });
  check(login.status === 200, "the admin logs in through the API");
  const admin = login.json.access_token;

  // Points in a window of their own, 40 minutes ago (recent enough not to be "too old").
  const t0 = Math.floor(Date.now() / 1000) - 2400 - Math.floor(Math.random() * 600);
  const validValues = [1.5, 2.5, -0.75, 3.25, 0.5];
  const invalidValues = [10.5, -4.5, 7.25];
  const points = [
    ...validValues.map((v, i) => ({ time: t0 + i, value: f32(v), tags: ["browser"] })),
    ...invalidValues.map((v, i) => ({ time: t0 + 5 + i, value: f32(v), tags: ["system"] })),
  ];
  const created = await api(base, "POST", "/api/datapoints", admin, points);
  check(created.status === 201 && created.json.inserted === 8, "8 points stored (5 valid, 3 invalid)");

  // A user with an open session, to be revoked from the page.
  const password = "browser-test-password";
  const username = unique("adm");
  const reg = await api(base, "POST", "/api/auth/register", null, { username, password });
  check(reg.status === 201, "a user registers");
  const userToken = reg.json.access_token;
  check((await api(base, "GET", "/api/users/me", userToken)).status === 200, "its token works");

  const { page, blocked } = await open(base);
  await page.goto(base + "/admin", { waitUntil: "load" });
  await page.fill("#login-form input[name=username]", "admin");
  await page.fill("#login-form input[name=password]", ADMIN_PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector(`#users tr[data-user="${username}"]`, { timeout: 20000 });
  check(await page.isHidden("#login"), "the page logged in and lists the users");
  await page.waitForSelector("#ws-state:has-text('connected')", { timeout: 30000 });
  check(true, "the live socket is open");

  // The chart over exactly the test's window.
  const local = (s) => {
    const d = new Date(s * 1000);
    const p = (n) => String(n).padStart(2, "0");
    // Chromium normalizes "...:00" seconds away, and Playwright's fill then calls the value
    // malformed: give whole minutes without seconds, as the input itself shows them.
    const sec = d.getSeconds() === 0 ? "" : `:${p(d.getSeconds())}`;
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${sec}`;
  };
  await page.fill("#start", local(t0));
  await page.fill("#end", local(t0 + 20));
  await page.click("#range button[type=submit]");
  await page.waitForSelector("#points-count:has-text('8 of 8 points')", { timeout: 30000 });
  const series = await page.evaluate(() => chart.data.map((s) => s.filter((v) => v !== null)));
  check(JSON.stringify(series[1]) === JSON.stringify(validValues), `valid series ${JSON.stringify(series[1])}`);
  check(JSON.stringify(series[2]) === JSON.stringify(invalidValues), `invalid series ${JSON.stringify(series[2])}`);
  check(await page.locator("#chart canvas").count() === 1, "the chart is drawn");
  // The series chart: the valid points per minute from /api/datapoints/series (the window may
  // straddle a minute: the buckets together hold the 5 valid points, none of the invalid ones).
  await page.waitForSelector("#series-info:has-text('5 valid points in')", { timeout: 30000 });
  const buckets = await page.evaluate(() => seriesChart.data);
  const seriesApi = await api(base, "GET", `/api/datapoints/series?start=${t0}&end=${t0 + 20}&bucket=1m`, admin);
  check(seriesApi.status === 200 && JSON.stringify(buckets[1]) === JSON.stringify(seriesApi.json.items.map((b) => b.mean)),
        `the series chart draws the API's means ${JSON.stringify(buckets[1])}`);
  check(Math.min(...buckets[2]) === Math.min(...validValues) && Math.max(...buckets[3]) === Math.max(...validValues),
        `the series' min and max are the valid points' (${Math.min(...buckets[2])}, ${Math.max(...buckets[3])})`);
  check(await page.locator("#series-chart canvas").count() === 1, "the series chart is drawn");
  const stats = await api(base, "GET", `/api/datapoints/stats?start=${t0}&end=${t0 + 20}&valid=true`, admin);
  const cells = await page.locator('#stats tr[data-stats="valid"] td').allInnerTexts();
  check(cells[0] === "5" && cells[0] === String(stats.json.count) &&
        Number(cells[1]) === Number(stats.json.avg.toPrecision(6)),
        `valid statistics on the page ${JSON.stringify(cells)} match the API`);
  const invalidCells = await page.locator('#stats tr[data-stats="invalid"] td').allInnerTexts();
  check(invalidCells[0] === "3", `invalid statistics on the page ${JSON.stringify(invalidCells)}`);

  // Live: a point stored elsewhere reaches the page over /api/ws and the chart refreshes.
  const more = await api(base, "POST", "/api/datapoints", admin, [{ time: t0 + 10, value: f32(4.75), tags: [] }]);
  check(more.status === 201, "one more point stored through the API");
  await page.waitForSelector("#events li:has-text('datapoints.created')", { timeout: 30000 });
  await page.waitForSelector("#points-count:has-text('9 of 9 points')", { timeout: 30000 });
  check(true, "the page got the event and redrew the chart with 9 points");

  // Requests by status, from /metrics.
  await page.waitForSelector('#requests tr[data-status="200"]', { timeout: 30000 });
  check(true, "requests by status are shown");

  // Revoke the user's session from the page: its token stops working.
  await page.click(`#users tr[data-user="${username}"] button.sessions`);
  await page.waitForSelector("#sessions tbody tr", { timeout: 30000 });
  check((await page.locator("#sessions tbody tr").count()) === 1, "the user's one session is listed");
  await page.screenshot({ path: artifact("admin.png"), fullPage: true });
  console.log(`screenshot: ${artifact("admin.png")}`);
  await page.click("#sessions button.revoke");
  await page.waitForSelector("#sessions tbody tr", { state: "detached", timeout: 30000 });
  const after = await api(base, "GET", "/api/users/me", userToken);
  check(after.status === 401, `the revoked token gets ${after.status}`);

  // Role change from the page.
  const id = reg.json.user.id;
  const patched = page.waitForResponse(
    (r) => r.url().endsWith(`/api/users/${id}`) && r.request().method() === "PATCH", { timeout: 30000 });
  await page.selectOption(`#users tr[data-user="${username}"] select`, "admin");
  check((await patched).status() === 200, "the page sent the role change");
  const role = (await api(base, "GET", `/api/users/${id}`, admin)).json.role;
  check(role === "admin", "the role select made the user an admin");

  // The audit trail on the page: the role change and the revoked session, as /api/audit has them.
  const roleRow = `#audit tr[data-action="user.role"]:has-text("${username}")`;
  await page.waitForSelector(roleRow, { timeout: 30000 });
  const roleCells = await page.locator(roleRow).first().locator("td").allInnerTexts();
  check(roleCells[2] === username && roleCells[3] === String(id) && roleCells[6] === "user → admin",
        `the audit trail shows the role change ${JSON.stringify(roleCells)}`);
  const ended = await api(base, "GET", `/api/audit?action=session.ended&user_id=${id}`, admin);
  check(ended.status === 200 && ended.json.total === 1, "the API has the revoked session's audit row");
  const endedRow = `#audit tr[data-action="session.ended"]:has-text("${ended.json.items[0].subject}")`;
  check(await page.locator(endedRow).count() === 1, "the audit trail shows the revoked session");

  check(blocked.length === 0, `no request left the server's origin (${blocked.join(", ") || "none"})`);
});
await server.stop();
