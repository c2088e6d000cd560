/**
 * `keepcache run` (the compiled CLI) as a test process: a suite's scratch directory for its
 * config files, starting the CLI on a config with a JSON log, and bounded polling.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { keepcacheBin, type Proc, start, stopAll } from "../../tools/procs.js";

/**
 * A fresh temp directory for the file's config files. An `after` hook stops every process
 * started through procs.ts, runs `cleanup`, and removes the directory.
 */
export function suiteDir(prefix: string, cleanup?: () => Promise<void> | void): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(async () => {
    await stopAll();
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Polls `cond` every 25 ms; throws naming `what` after `ms`. */
export async function until(
  cond: () => Promise<boolean> | boolean,
  what: string,
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface RunOptions {
  /** The port to wait for (the first pool's listen port). */
  listen: number;
  /** The twemproxy stats port (`-s`). */
  stats: number;
  /** More CLI arguments (`-v`). */
  args?: string[];
  /** The environment; KEEPCACHE_LOG_FORMAT=json is always set. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Writes `yaml` to `file` (unless undefined: the file is there already) and starts
 * `keepcache run -c file -s stats`; resolves once `listen` accepts connections.
 */
export function startRun(file: string, yaml: string | undefined, o: RunOptions): Promise<Proc> {
  if (yaml !== undefined) writeFileSync(file, yaml);
  const env = { ...(o.env ?? process.env), KEEPCACHE_LOG_FORMAT: "json" };
  const args = [keepcacheBin(), "run", "-c", file, "-s", String(o.stats), ...(o.args ?? [])];
  return start(process.execPath, args, { port: o.listen, env });
}

/** Rewrites the config file and sends SIGHUP: a reload of the running `keepcache run`. */
export function reloadWith(proc: Proc, file: string, yaml: string): void {
  writeFileSync(file, yaml);
  proc.child.kill("SIGHUP");
}
