// Shared by the schema checks: the pinned npm packages of web/package-lock.json, and the
// OpenAPI documents the http tests' servers served (tests/support/lt_record.c).
import { createRequire } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

export const require = createRequire(path.join(process.env.LINTEL_TEST_NODE_MODULES, "x.js"));

// Every document of this run's directory: {name: document}.
export function specs(dir) {
  const out = {};
  for (const f of readdirSync(dir))
    if (/^spec-.*\.json$/.test(f)) out[f] = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
  return out;
}

// The documents that differ in content, each once: [{name, doc}].
export function distinctSpecs(dir) {
  const seen = new Map();
  for (const [name, doc] of Object.entries(specs(dir))) {
    const text = JSON.stringify(doc);
    if (!seen.has(text)) seen.set(text, { name, doc });
  }
  return [...seen.values()];
}

// Exits 1 with the failures listed (the first of each kind, "what: why", with a count), else
// 0; the plain closing line is what ctest's log shows.
export function finish(what, passed, failures) {
  const kinds = new Map();
  for (const f of failures) {
    const k = f.split(": ")[0];
    if (kinds.has(k)) kinds.get(k).n++;
    else kinds.set(k, { n: 1, first: f });
  }
  for (const { n, first } of kinds.values()) console.log(`not ok - ${first}${n > 1 ? ` (${n} times)` : ""}`);
  console.log(`${what}: ${passed} passed, ${failures.length} failed`);
  process.exit(failures.length === 0 && passed > 0 ? 0 : 1);
}
