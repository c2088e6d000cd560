// Runs every compiled test file (dist/test/**/*.test.js) with node's own test runner.
// Pass a substring to run only matching files: `node scripts/run-tests.mjs store`.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = "dist/test";
const filter = process.argv.slice(2);
const files = readdirSync(root, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.js"))
  .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
  .sort()
  .map((f) => join(root, f));
if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
// --test-force-exit: a failed assertion can skip a test's cleanup and leave timers alive; the
// file must still end, or one red test would hang the whole suite. --test-timeout bounds any
// single test (the slowest real ones take well under a minute).
const r = spawnSync(
  process.execPath,
  ["--test", "--test-reporter=spec", "--test-force-exit", "--test-timeout=180000", ...files],
  {
    stdio: "inherit",
  },
);
process.exit(r.status ?? 1);
