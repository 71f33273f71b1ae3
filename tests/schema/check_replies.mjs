// Validates every reply the http tests recorded (LINTEL_TEST_REPLIES) against the schema its
// server's /openapi.json declares for that route, status and media type (ajv, JSON Schema
// 2020-12 as OpenAPI 3.1 has it). A reply whose status or media type the route does not
// declare, or a JSON reply without a schema, fails. Usage: node check_replies.mjs DIR [MIN]
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { finish, require, specs } from "./lib.mjs";

const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const dir = process.argv[2];
const min = Number(process.argv[3] || 1);
const docs = specs(dir);
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
for (const [name, doc] of Object.entries(docs)) ajv.addSchema(doc, name);

const ptr = (...parts) => parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

// The path template of doc that matches the concrete path, as lintel's router picks it among
// the routes of method (any method when none has it: a 405): the same number of segments, a
// literal segment beating a {param}, earlier ones first.
function template(doc, p, method) {
  const withMethod = Object.keys(doc.paths).filter((t) => doc.paths[t][method]);
  return match(withMethod, p) || match(Object.keys(doc.paths), p);
}

function match(templates, p) {
  if (templates.includes(p)) return p;
  const segs = p.split("/");
  let best = null, bestKey = null;
  for (const t of templates) {
    const ts = t.split("/");
    if (ts.length !== segs.length) continue;
    let key = "", ok = true;
    for (let i = 0; i < ts.length && ok; i++) {
      const param = /^\{.*\}$/.test(ts[i]);
      ok = param ? segs[i] !== "" : ts[i] === segs[i];
      key += param ? "1" : "0";
    }
    if (ok && (bestKey === null || key < bestKey)) [best, bestKey] = [t, key];
  }
  return best;
}

// The response object (and its JSON pointer) for status, following a $ref into components.
function response(doc, op, opPtr, status) {
  for (const k of [String(status), `${String(status)[0]}XX`, "default"]) {
    let r = op.responses?.[k], at = `${opPtr}/${ptr("responses", k)}`;
    if (!r) continue;
    if (r.$ref) {
      at = r.$ref.slice(1);
      r = at.split("/").slice(1).reduce((o, s) => o?.[s.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
    }
    return { r, at, key: k };
  }
  return null;
}

// The declared media type that covers the reply's content type (exact, type/*, */*).
function media(content, type) {
  const base = (type || "").split(";")[0].trim().toLowerCase();
  for (const k of [base, `${base.split("/")[0]}/*`, "*/*"]) if (content?.[k]) return k;
  return null;
}

const failures = [];
const compiled = new Map();
let passed = 0, records = 0;
const kinds = { schema: 0, empty: 0, bytes: 0, options: 0 };
for (const f of readdirSync(dir).filter((f) => /^replies-.*\.jsonl$/.test(f)).sort()) {
  for (const line of readFileSync(path.join(dir, f), "utf8").split("\n")) {
    if (!line) continue;
    records++;
    const rec = JSON.parse(line);
    const url = new URL(rec.path, "http://x");
    const doc = docs[rec.spec];
    const method = rec.method === "HEAD" ? "get" : rec.method.toLowerCase();
    const t = doc ? template(doc, url.pathname, method) : null;
    const what = `${rec.method} ${t || url.pathname} -> ${rec.status}`;
    if (!doc) {
      failures.push(`${what}: the server (${rec.server}) served no /openapi.json to check against`);
      continue;
    }
    if (rec.method === "OPTIONS") {
      // CORS preflights and Allow answers: the host's, with no body
      if (rec.len === 0) passed++, kinds.options++;
      else failures.push(`${what}: OPTIONS answered a body`);
      continue;
    }
    let op = t ? doc.paths[t][method] : null;
    let opPtr = t ? `/${ptr("paths", t, method)}` : null;
    if (!op) {
      // no such route (404), not this method (405), or refused before routing (429): the
      // host's own problem; a success there is a route the document does not list
      op = { responses: { default: { $ref: "#/components/responses/Error" } } };
      opPtr = "/components/x-none";
      if (rec.status < 400) {
        failures.push(`${what}: no operation ${method.toUpperCase()} ${t || url.pathname} declared`);
        continue;
      }
    }
    const found = response(doc, op, opPtr, rec.status);
    if (!found || !found.r) {
      failures.push(`${what}: status ${rec.status} not declared for ${method.toUpperCase()} ${t}`);
      continue;
    }
    if (rec.len === 0 || rec.method === "HEAD") {
      if (rec.len === 0 && found.r.content && rec.method !== "HEAD" && rec.status !== 304)
        failures.push(`${what}: declared a body (${Object.keys(found.r.content)}) but none came`);
      else passed++, kinds.empty++;
      continue;
    }
    const m = media(found.r.content, rec.type);
    if (!m) {
      failures.push(`${what}: content type ${rec.type} not declared (${Object.keys(found.r.content || {}).join(", ") || "no body"})`);
      continue;
    }
    if (!/json/.test(rec.type || "")) {
      passed++, kinds.bytes++;
      continue;
    }
    if (rec.body === undefined || rec.body === null && rec.len > 4) {
      failures.push(`${what}: the body is not JSON`);
      continue;
    }
    if (!found.r.content[m].schema) {
      failures.push(`${what}: no schema declared for ${m}`);
      continue;
    }
    const id = `${rec.spec}#${found.at}/${ptr("content", m, "schema")}`;
    let validate = compiled.get(id);
    if (!validate) {
      validate = ajv.compile({ $ref: id });
      compiled.set(id, validate);
    }
    if (validate(rec.body)) passed++, kinds.schema++;
    else failures.push(`${what}: ${ajv.errorsText(validate.errors, { dataVar: "body" })}; body ${JSON.stringify(rec.body).slice(0, 300)}`);
  }
}
if (records < min) failures.push(`only ${records} replies recorded in ${dir} (expected at least ${min})`);
console.log(`${kinds.schema} JSON bodies valid against their declared schema (${compiled.size} ` +
            `schemas), ${kinds.empty} without a body, ${kinds.bytes} of another media type, ` +
            `${kinds.options} OPTIONS`);
finish("replies", passed, failures);
