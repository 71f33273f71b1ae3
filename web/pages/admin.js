// The /admin page: users (role, sessions), the audit trail (/api/audit), data points over a time range (uPlot, valid and
// invalid apart, with /api/datapoints/stats; and the valid points' per-bucket mean, min and max
// from /api/datapoints/series), requests by status from /metrics, and live
// events from /api/ws. Plain DOM: every value goes in as text, never as HTML.
"use strict";

const TOKEN_KEY = "lintel.admin.token";
let token = sessionStorage.getItem(TOKEN_KEY);
let chart = null;
let seriesChart = null;
let socket = null;
let lastScrape = null;

const $ = (id) => document.getElementById(id);

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  const { dataset, ...rest } = props;
  Object.assign(e, rest);
  Object.assign(e.dataset, dataset || {});
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

function showError(text) {
  $("status").textContent = text;
}

// Calls the API with the admin token; a 401 sends the page back to the login form.
async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    logout("Your session ended: log in again.");
    throw new Error("401");
  }
  const text = await r.text();
  const data = text && (r.headers.get("Content-Type") || "").includes("json") ? JSON.parse(text) : text;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${(data && data.detail) || ""}`);
  return data;
}

// ---- login ----

async function login(ev) {
  ev.preventDefault();
  const form = new FormData(ev.target);
  $("login-error").textContent = "";
  const r = await fetch("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password") }),
  });
  const data = await r.json();
  if (!r.ok) {
    $("login-error").textContent = data.detail || `login failed (${r.status})`;
    return;
  }
  token = data.access_token;
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
}

function logout(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (socket) socket.close();
  $("app").hidden = true;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

async function start() {
  let me;
  try {
    me = await api("GET", "/api/users/me");
  } catch (e) {
    return;
  }
  if (me.role !== "admin") {
    logout(`${me.username} is not an admin: this page is for admins.`);
    return;
  }
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${me.username} (admin)`;
  defaultRange();
  await Promise.allSettled([loadUsers(), loadAudit(false), loadPoints(), loadRequests()]);
  connectLive();
}

// ---- users and sessions ----

async function loadUsers() {
  const list = await api("GET", "/api/users?limit=1000");
  const rows = (list.items || list).map((u) => {
    const role = el("select", { ariaLabel: `role of ${u.username}` },
      el("option", { value: "user", selected: u.role === "user" }, "user"),
      el("option", { value: "admin", selected: u.role === "admin" }, "admin"));
    role.addEventListener("change", () => changeRole(u, role.value));
    const sessions = el("button", { className: "sessions" }, "Sessions");
    sessions.addEventListener("click", () => loadSessions(u));
    return el("tr", { dataset: { user: u.username } },
      el("td", { className: "num" }, u.id), el("td", {}, u.username), el("td", {}, u.email || ""),
      el("td", {}, role), el("td", {}, u.created_at), el("td", {}, sessions));
  });
  $("users").tBodies[0].replaceChildren(...rows);
}

async function changeRole(user, role) {
  try {
    await api("PATCH", `/api/users/${user.id}`, { role });
    showError("");
  } catch (e) {
    showError(e.message);
  }
  await Promise.allSettled([loadUsers(), loadAudit(false)]);
}

async function loadSessions(user) {
  const list = await api("GET", `/api/users/${user.id}/sessions`);
  const rows = list.map((s) => {
    const revoke = el("button", { className: "revoke" }, "Revoke");
    revoke.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/users/${user.id}/sessions/${encodeURIComponent(s.id)}`);
      } catch (e) {
        showError(e.message);
      }
      if (token) await Promise.allSettled([loadSessions(user), loadAudit(false)]);
    });
    return el("tr", { dataset: { session: s.id } },
      el("td", {}, s.id.slice(0, 12) + "…"), el("td", {}, s.scope), el("td", {}, s.created_at),
      el("td", {}, s.last_used_at || ""), el("td", { title: s.user_agent || "" }, s.client_addr || ""),
      el("td", {}, revoke));
  });
  $("sessions-user").textContent = user.username;
  $("sessions").tBodies[0].replaceChildren(...rows);
  $("sessions-section").hidden = false;
}

// ---- audit trail ----

const AUDIT_PAGE = 50;
let auditShown = 0;

// "old → new" of an event that has them (a role change, a session's end reason), else "".
function auditChange(a) {
  if (a.old_value == null && a.new_value == null) return "";
  return `${a.old_value ?? ""} → ${a.new_value ?? ""}`;
}

// The newest events; more appends the next page instead of starting over.
async function loadAudit(more) {
  const offset = more ? auditShown : 0;
  const list = await api("GET", `/api/audit?limit=${AUDIT_PAGE}&offset=${offset}`);
  const rows = list.items.map((a) => el("tr", { dataset: { action: a.action } },
    el("td", {}, a.at), el("td", {}, a.action), el("td", {}, a.subject ?? ""),
    el("td", { className: "num" }, a.user_id ?? ""), el("td", { className: "num" }, a.actor_id ?? ""),
    el("td", {}, a.addr ?? ""), el("td", {}, auditChange(a))));
  const body = $("audit").tBodies[0];
  if (more) body.append(...rows);
  else body.replaceChildren(...rows);
  auditShown = offset + list.items.length;
  $("audit-count").textContent = `(${auditShown} of ${list.total})`;
  $("audit-more").hidden = auditShown >= list.total;
}

// ---- data points ----

// datetime-local text for a Date, in local time.
function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function defaultRange() {
  if ($("end").value) return;
  const now = new Date();
  $("end").value = localInput(new Date(now.getTime() + 3600e3));
  $("start").value = localInput(new Date(now.getTime() - 24 * 3600e3));
}

function rangeQuery() {
  const start = Math.floor(new Date($("start").value).getTime() / 1000);
  const end = Math.floor(new Date($("end").value).getTime() / 1000);
  return `start=${start}&end=${end}`;
}

// Every point of the range, up to 10 pages of 1000 (admins see valid and invalid ones).
async function fetchPoints(query) {
  const points = [];
  let total = 0;
  for (let page = 0; page < 10; page++) {
    const list = await api("GET", `/api/datapoints?${query}&limit=1000&offset=${page * 1000}`);
    points.push(...list.items);
    total = list.total;
    if (points.length >= total || list.items.length === 0) break;
  }
  return { points, total };
}

function drawChart(points) {
  const xs = points.map((p) => Date.parse(p.time) / 1000);
  const valid = points.map((p) => (p.valid ? p.value : null));
  const invalid = points.map((p) => (p.valid ? null : p.value));
  const dots = (color) => ({ stroke: color, fill: color, paths: () => null, points: { show: true, size: 6, fill: color } });
  const opts = {
    width: Math.max(400, $("chart").clientWidth || 900),
    height: 300,
    series: [{}, { label: "valid", ...dots("#1a7f37") }, { label: "invalid", ...dots("#cf222e") }],
    axes: [{}, { label: "value" }],
  };
  if (chart) chart.destroy();
  chart = new uPlot(opts, [xs, valid, invalid], $("chart"));
}

function statsRow(label, s) {
  const num = (v) => el("td", { className: "num" }, v === null || v === undefined ? "–" : Number(v).toPrecision(6));
  return el("tr", { dataset: { stats: label } }, el("th", {}, label), el("td", { className: "num" }, s.count),
    num(s.avg), num(s.min), num(s.max), num(s.median), num(s.stddev));
}

// The narrowest bucket that keeps the series of [start, end] (Unix seconds) under 1500 buckets.
function bucketFor(start, end) {
  const span = Math.max(0, end - start);
  if (span / 60 < 1500) return "1m";
  if (span / 3600 < 1500) return "1h";
  return "1d";
}

// The valid points per bucket: mean as a line, min and max as a band around it.
function drawSeries(series, start, end) {
  const width = { "1m": 60, "1h": 3600, "1d": 86400 }[series.bucket];
  const xs = series.items.map((b) => Date.parse(b.time) / 1000);
  const line = (color, width, dash) => ({ stroke: color, width, dash, points: { show: true, size: 4 } });
  const opts = {
    width: Math.max(400, $("series-chart").clientWidth || 900),
    height: 220,
    // the chosen range (from the start of its first bucket), not the data's
    scales: { x: { time: true, range: () => [Math.floor(start / width) * width, end] } },
    series: [{}, { label: "mean", ...line("#0969da", 2) }, { label: "min", ...line("#8c959f", 1, [4, 4]) },
      { label: "max", ...line("#8c959f", 1, [4, 4]) }],
    axes: [{}, { label: "valid value" }],
  };
  if (seriesChart) seriesChart.destroy();
  seriesChart = new uPlot(opts, [xs, series.items.map((b) => b.mean), series.items.map((b) => b.min),
    series.items.map((b) => b.max)], $("series-chart"));
  const points = series.items.reduce((n, b) => n + b.count, 0);
  $("series-info").textContent = `${points} valid points in ${series.items.length} bucket${series.items.length === 1 ? "" : "s"} of ${series.bucket}`;
}

let pointsSeq = 0; // only the latest request draws: an older, slower one is dropped

async function loadPoints(ev) {
  if (ev) ev.preventDefault();
  const query = rangeQuery();
  const [start, end] = query.match(/-?\d+/g).map(Number);
  const seq = ++pointsSeq;
  try {
    const [{ points, total }, valid, invalid, series] = await Promise.all([
      fetchPoints(query),
      api("GET", `/api/datapoints/stats?${query}&valid=true`),
      api("GET", `/api/datapoints/stats?${query}&valid=false`),
      api("GET", `/api/datapoints/series?${query}&bucket=${bucketFor(start, end)}`),
    ]);
    if (seq !== pointsSeq) return;
    drawChart(points);
    drawSeries(series, start, end);
    $("points-count").textContent = `${points.length} of ${total} points`;
    $("stats").tBodies[0].replaceChildren(statsRow("valid", valid), statsRow("invalid", invalid));
  } catch (e) {
    showError(e.message);
  }
}

// ---- requests per status, from the Prometheus text of /metrics ----

function requestsByStatus(text) {
  const by = new Map();
  for (const line of text.split("\n")) {
    const m = /^lintel_http_requests_total\{.*status="(\d{3})"\} (\d+)$/.exec(line);
    if (m) by.set(m[1], (by.get(m[1]) || 0) + Number(m[2]));
  }
  return by;
}

async function loadRequests() {
  if (!token) return;
  try {
    const now = requestsByStatus(await api("GET", "/metrics"));
    const rows = [...now.keys()].sort().map((status) => {
      const recent = lastScrape ? now.get(status) - (lastScrape.get(status) || 0) : "";
      return el("tr", { dataset: { status } }, el("td", {}, status),
        el("td", { className: "num" }, now.get(status)), el("td", { className: "num" }, recent));
    });
    $("requests").tBodies[0].replaceChildren(...rows);
    lastScrape = now;
  } catch (e) {
    showError(e.message);
  }
}

// ---- live events ----

function connectLive() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  // Browsers cannot set Authorization on a WebSocket: the API takes ?access_token= here only.
  socket = new WebSocket(`${scheme}//${location.host}/api/ws?access_token=${encodeURIComponent(token)}`);
  const ws = socket;
  ws.addEventListener("open", () => ($("ws-state").textContent = "(connected)"));
  ws.addEventListener("message", (m) => {
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    const list = $("events");
    list.prepend(el("li", {}, `${ev.at || ""} ${ev.event} ${JSON.stringify(ev)}`));
    while (list.children.length > 50) list.lastChild.remove();
    if (ev.event === "datapoints.created") loadPoints();
  });
  ws.addEventListener("close", (c) => {
    $("ws-state").textContent = `(closed: ${c.code})`;
    if (c.code === 4401 || c.code === 1008) logout("Your session ended: log in again.");
    else if (token && socket === ws) setTimeout(() => token && socket === ws && connectLive(), 3000);
  });
}

// ---- wiring ----

$("login-form").addEventListener("submit", login);
$("range").addEventListener("submit", loadPoints);
$("audit-refresh").addEventListener("click", () => loadAudit(false).catch((e) => showError(e.message)));
$("audit-more").addEventListener("click", () => loadAudit(true).catch((e) => showError(e.message)));
$("logout").addEventListener("click", async () => {
  await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  logout("");
});
setInterval(loadRequests, 10000);
if (token) start();
