// Runs every compiled test file (dist/test/**/*.test.js) with node's own test runner.
// Pass a substring to run only matching files: `node scripts/run-tests.mjs store`.
import { spawn } from "node:child_process";
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
// No --test-force-exit: on Node 20 it can end a file's process while results are still being
// reported, so tests that ran vanish from the report (the count is then only a lower bound,
// and a failure could be lost with them: nodejs/node#54327 and its kin). A test that leaves a
// handle open after a failed assertion would instead keep its file alive; the whole run is
// therefore bounded here, and a run past the bound is killed, with its process group, and red.
// --test-timeout bounds any single test (the slowest real ones take well under a minute).
const LIMIT_MS = 14 * 60 * 1000;
const child = spawn(
  process.execPath,
  ["--test", "--test-reporter=spec", "--test-timeout=180000", ...files],
  { stdio: "inherit", detached: true },
);
/** The run has its own process group (so a hung run is killed whole): pass signals on. */
const killRun = (signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
};
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => killRun(sig));
const timer = setTimeout(() => {
  console.error(
    `run-tests: still running after ${LIMIT_MS / 60000} min: killed (a test left a handle open?)`,
  );
  killRun("SIGKILL");
  process.exit(1);
}, LIMIT_MS);
child.on("exit", (code, signal) => {
  clearTimeout(timer);
  process.exit(code ?? (signal ? 1 : 0));
});
