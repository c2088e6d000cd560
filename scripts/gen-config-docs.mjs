#!/usr/bin/env node
// Writes schema/keepcache.schema.json and docs/configuration.md from the config schema
// (src/config/schema/, compiled to dist/ by `npm run build`). `--check` writes nothing and
// exits 1 when either file is out of date (the test suite runs the same comparison).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { describedJsonSchema, referenceMarkdown } = await import(
  join(root, "dist/src/config/schema/reference.js")
);
const files = {
  "schema/keepcache.schema.json": `${JSON.stringify(describedJsonSchema(), null, 2)}\n`,
  "docs/configuration.md": referenceMarkdown(),
};
let stale = 0;
for (const [rel, text] of Object.entries(files)) {
  const path = join(root, rel);
  let old = "";
  try {
    old = readFileSync(path, "utf8");
  } catch {}
  if (old === text) continue;
  if (process.argv.includes("--check")) {
    console.error(`${rel} is out of date: run npm run gen:config`);
    stale++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${rel}`);
  }
}
process.exitCode = stale ? 1 : 0;
