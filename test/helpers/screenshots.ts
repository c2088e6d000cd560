/**
 * Where browser tests put their screenshots. A normal test run must not rewrite tracked files
 * (a clean checkout stays clean after `npm test`), so screenshots go to a temporary directory;
 * `KEEPCACHE_SCREENSHOTS=1 npm test` writes them to docs/screenshots/, the copies the README shows.
 */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../../tools/procs.js";

export function screenshotPath(name: string): string {
  const dir =
    process.env.KEEPCACHE_SCREENSHOTS === "1"
      ? join(repoRoot(), "docs", "screenshots")
      : join(tmpdir(), "keepcache-screenshots");
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
