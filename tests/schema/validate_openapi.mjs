// Every distinct /openapi.json the http tests' servers served (default plugins, each
// compatibility profile, JSend) is a valid OpenAPI 3.1 document, as @readme/openapi-parser
// (the validator of swagger-parser's lineage) reads it, $refs resolved; every example in it (a
// request body's, a reply's) validates against the schema beside it (ajv, JSON Schema
// 2020-12); and every GET of the in-tree plugins that answers JSON shows an example reply.
// Usage: node validate_openapi.mjs DIR
import { distinctSpecs, finish, require } from "./lib.mjs";

const { validate, compileErrors } = require("@readme/openapi-parser");
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;
const failures = [];
let passed = 0;

// The plugins whose GET routes must show an example of their JSON reply (the tag is the owner).
const EXAMPLED = new Set(["numbers", "tasks", "users", "datapoints", "avatars", "account", "auth", "example"]);
const ptr = (...parts) => parts.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

// The examples of doc that do not validate, and the GETs that lack one: ["where: why"].
function exampleFailures(name, doc) {
  const out = [];
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(doc, name);
  const check = (where, media, at) => {
    if (!media?.schema || media.example === undefined) return false;
    const v = ajv.compile({ $ref: `${name}#${at}/schema` });
    if (!v(media.example)) out.push(`${name} ${where}: the example does not validate: ${ajv.errorsText(v.errors)}`);
    return true;
  };
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== "object" || !op.responses) continue;
      const opAt = `/${ptr("paths", path, method)}`;
      for (const [type, media] of Object.entries(op.requestBody?.content || {}))
        check(`${method.toUpperCase()} ${path} request ${type}`, media, `${opAt}/${ptr("requestBody", "content", type)}`);
      let shown = false, json200 = false;
      for (const [status, resp] of Object.entries(op.responses)) {
        for (const [type, media] of Object.entries(resp.content || {})) {
          const at = `${opAt}/${ptr("responses", status, "content", type)}`;
          const has = check(`${method.toUpperCase()} ${path} ${status} ${type}`, media, at);
          if (status === "200" && type === "application/json") {
            json200 = true;
            shown ||= has;
          }
        }
      }
      if (method === "get" && json200 && !shown && (op.tags || []).some((t) => EXAMPLED.has(t)))
        out.push(`${name} GET ${path}: no example of its 200 reply`);
    }
  }
  return out;
}

for (const { name, doc } of distinctSpecs(process.argv[2])) {
  const what = `${name} (${Object.keys(doc.paths || {}).length} paths, tags ${(doc.tags || []).map((t) => t.name).join(" ")})`;
  const result = await validate(structuredClone(doc));
  const examples = exampleFailures(name, doc);
  failures.push(...examples);
  if (examples.length > 0) continue;
  if (result.valid && result.warnings.length === 0) {
    passed++;
    console.log(`ok - ${what}`);
  } else {
    failures.push(`${what}: ${compileErrors(result)}`);
  }
}
finish("openapi documents", passed, failures);
