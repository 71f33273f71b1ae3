// Every distinct /openapi.json the http tests' servers served (default plugins, each
// compatibility profile, JSend) is a valid OpenAPI 3.1 document, as @readme/openapi-parser
// (the validator of swagger-parser's lineage) reads it, $refs resolved.
// Usage: node validate_openapi.mjs DIR
import { distinctSpecs, finish, require } from "./lib.mjs";

const { validate, compileErrors } = require("@readme/openapi-parser");
const failures = [];
let passed = 0;
for (const { name, doc } of distinctSpecs(process.argv[2])) {
  const what = `${name} (${Object.keys(doc.paths || {}).length} paths, tags ${(doc.tags || []).map((t) => t.name).join(" ")})`;
  const result = await validate(structuredClone(doc));
  if (result.valid && result.warnings.length === 0) {
    passed++;
    console.log(`ok - ${what}`);
  } else {
    failures.push(`${what}: ${compileErrors(result)}`);
  }
}
finish("openapi documents", passed, failures);
