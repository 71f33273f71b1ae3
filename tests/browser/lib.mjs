// Shared by the browser tests: Debian's chromium driven by playwright-core, with every request
// that leaves the test server's origin blocked, so a page that needs the internet fails here.
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const require = createRequire(path.join(process.env.LINTEL_TEST_NODE_MODULES, "x.js"));
const { chromium } = require("playwright-core");

// The shared server of the http tests (tests/support/lt_fixture.c).
export function baseUrl() {
  return readFileSync(path.join(process.env.LINTEL_TEST_SHARED, "url"), "utf8").trim();
}

// A lintel of its own (port 0, a new data dir), for a test that changes what others rely on
// (roles, sessions). Returns {url, stop}; stop() waits for a clean exit.
export async function privateServer(extraEnv = {}) {
  const data = mkdtempSync(path.join(tmpdir(), "lintel-browser-"));
  const child = spawn(process.env.LINTEL_TEST_BIN, [], {
    env: { ...process.env, LINTEL_PORT: "0", LINTEL_DATA_DIR: data, LINTEL_PASSWORD_COST: "3",
           LINTEL_PLUGIN_DIR: process.env.LINTEL_TEST_PLUGIN_DIR, LINTEL_ADMIN_PASSWORD: ADMIN_PASSWORD,
           ...extraEnv },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // A test that times out exits at once: the server must not outlive it.
  process.on("exit", () => child.exitCode === null && child.kill("SIGKILL"));
  let log = "";
  const url = await new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      log += d;
      const m = /listening on (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`lintel exited (${code}) before listening:\n${log}`)));
  });
  const stop = () => new Promise((resolve, reject) => {
    child.removeAllListeners("exit");
    child.on("exit", (code) => {
      rmSync(data, { recursive: true, force: true });
      code === 0 ? resolve() : reject(new Error(`lintel exited with ${code}:\n${log}`));
    });
    child.kill("SIGTERM");
  });
  return { url, stop };
}

export const ADMIN_PASSWORD = "admin-password-for-tests"; // LT_ADMIN_PASSWORD

export function artifact(name) {
  const dir = path.join(process.env.LINTEL_TEST_ARTIFACTS, "browser");
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

export async function api(base, method, p, token, body) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

export function unique(prefix) {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok - ${what}`);
}

// Starts chromium with an empty profile and the network cut off at the origin of base.
// Returns {context, page, blocked, close}; blocked lists every request that was refused.
export async function browser(base) {
  const profile = mkdtempSync(path.join(tmpdir(), "lintel-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.LINTEL_TEST_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    timeout: 60000,
  });
  const origin = new URL(base).origin;
  const blocked = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + "/") || url.startsWith("data:")) return route.continue();
    blocked.push(url);
    return route.abort("blockedbyclient");
  });
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  return {
    context, page, blocked, errors,
    close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

// Runs fn(); on failure keeps a screenshot and the page's errors, then exits 1. Bounded.
export async function run(name, fn, timeoutMs = 150000) {
  const timer = setTimeout(() => { console.error(`${name}: timed out`); process.exit(1); }, timeoutMs);
  let b = null;
  try {
    await fn(async (base) => (b = await browser(base)));
    console.log(`${name}: passed`);
  } catch (e) {
    console.error(`${name}: ${e.stack || e}`);
    if (b) {
      console.error(`blocked requests: ${JSON.stringify(b.blocked)}`);
      console.error(`page errors: ${JSON.stringify(b.errors)}`);
      await b.page.screenshot({ path: artifact(`${name}-failure.png`), fullPage: true }).catch(() => {});
    }
    process.exitCode = 1;
  } finally {
    if (b) await b.close().catch(() => {});
    clearTimeout(timer);
  }
}
