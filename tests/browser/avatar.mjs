// An avatar in an <img> (issue 18 "Avatars in browsers"): a freshly uploaded image shows on a
// page through the signed URL of the upload reply, without any Authorization header; a forged
// signature and the unsigned URL do not load.
import { api, artifact, baseUrl, check, run, unique } from "./lib.mjs";

await run("avatar", async (open) => {
  const base = baseUrl();
  const reg = await api(base, "POST", "/api/auth/register", null,
                        { username: unique("img"), password: "browser-avatar-password" });
  check(reg.status === 201, "a user registers");
  const token = reg.json.access_token;

  const { page, blocked } = await open(base);
  await page.goto(base + "/health");
  // The page draws a 24x16 image and uploads it as the app would (a canvas PNG, PUT with the
  // token); the reply's signed URL is what an <img> gets.
  const up = await page.evaluate(async (tok) => {
    const canvas = document.createElement("canvas");
    canvas.width = 24;
    canvas.height = 16;
    const g = canvas.getContext("2d");
    g.fillStyle = "#3a7";
    g.fillRect(0, 0, 24, 16);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    const r = await fetch("/api/users/me/avatar", {
      method: "PUT", headers: { Authorization: `Bearer ${tok}`, "Content-Type": "image/png" },
      body: blob });
    return { status: r.status, body: await r.json() };
  }, token);
  check(up.status === 200 && typeof up.body.signed_url === "string" &&
        up.body.signed_url.startsWith(up.body.avatar_url + "&exp="),
        "the upload reply gives a signed URL");
  const signed = up.body.signed_url;
  const forged = signed.replace(/sig=(.)/, (m, c) => `sig=${c === "A" ? "B" : "A"}`);
  // The page has no token: only the signature can let the image through.
  const sizes = await page.evaluate(async (urls) => {
    const load = (src) => new Promise((resolve) => {
      const img = document.createElement("img");
      img.onload = () => resolve({ ok: true, w: img.naturalWidth, h: img.naturalHeight });
      img.onerror = () => resolve({ ok: false, w: img.naturalWidth, h: img.naturalHeight });
      img.src = src;
      document.body.appendChild(img);
    });
    return Promise.all(urls.map(load));
  }, [signed, forged, up.body.avatar_url]);
  check(sizes[0].ok && sizes[0].w === 24 && sizes[0].h === 16,
        `the <img> shows the fresh avatar (naturalWidth ${sizes[0].w} > 0)`);
  check(!sizes[1].ok && sizes[1].w === 0, "a forged signature does not load (403)");
  check(!sizes[2].ok && sizes[2].w === 0, "the unsigned URL needs a token (401)");
  await page.screenshot({ path: artifact("avatar.png") });
  check(blocked.length === 0, "nothing left the test server");
});
