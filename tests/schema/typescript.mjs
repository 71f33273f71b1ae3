// A typed client of /openapi.json: openapi-typescript generates lintel-api.d.ts from the shared
// server's document, and tsc --strict type-checks client.ts, which uses it (both pinned in
// web/package-lock.json). Usage: node typescript.mjs REPLIES_DIR OUT_DIR (the shared fixture
// names its document in $LINTEL_TEST_SHARED/spec)
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { finish } from "./lib.mjs";

const [dir, out] = process.argv.slice(2);
const spec = path.join(dir, readFileSync(path.join(process.env.LINTEL_TEST_SHARED, "spec"), "utf8").trim());
const modules = process.env.LINTEL_TEST_NODE_MODULES;
const here = path.dirname(fileURLToPath(import.meta.url));
const failures = [];
let passed = 0;
mkdirSync(out, { recursive: true });
copyFileSync(path.join(here, "client.ts"), path.join(out, "client.ts"));
const steps = [
  ["openapi-typescript", [path.join(modules, "openapi-typescript/bin/cli.js"), spec, "-o", path.join(out, "lintel-api.d.ts")]],
  ["tsc", [path.join(modules, "typescript/bin/tsc"), "--noEmit", "--strict", "--target", "es2022",
           "--module", "es2022", "--moduleResolution", "bundler", path.join(out, "client.ts")]],
];
for (const [what, args] of steps) {
  try {
    execFileSync(process.execPath, args, { stdio: "pipe", timeout: 120000 });
    passed++;
    console.log(`ok - ${what}`);
  } catch (e) {
    failures.push(`${what}: ${e.stdout || ""}${e.stderr || ""}${e.message}`);
  }
}
finish("typescript client", passed, failures);
