/**
 * Starting and stopping real server processes (memcached, redis-server, nutcracker, keepcache
 * itself) for tests and benchmarks. Every process started here is killed by stopAll(), which
 * tests call in an `after` hook and benchmarks at exit, so a failure leaves no orphans.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchRedisArgs } from "../src/cli/up-procs.js";
import { waitForPort } from "./ports.js";

export interface Proc {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<Proc>();

/** The repository root (works from tools/ under tsx and from dist/tools/ after tsc). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above tools/");
    dir = up;
  }
  return dir;
}

/** Path of the keepcache CLI entry (bin/keepcache.js runs the compiled dist/). */
export function keepcacheBin(): string {
  return join(repoRoot(), "bin", "keepcache.js");
}

export interface StartOptions {
  /** Wait until this port accepts connections before resolving. */
  port?: number;
  host?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The child's stdout and stderr as one text, its last 100-200 kB, for failure messages. */
export function captureOutput(child: ChildProcess): () => string {
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => out;
}

export async function start(cmd: string, args: string[], opts: StartOptions = {}): Promise<Proc> {
  const child = spawn(cmd, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  const output = captureOutput(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const proc: Proc = {
    child,
    output,
    async stop(signal = "SIGTERM") {
      live.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  live.add(proc);
  if (opts.port !== undefined) {
    const failed = new Promise<never>((_, reject) =>
      child.once("exit", (code, sig) =>
        reject(new Error(`${cmd} exited (${code ?? sig}) before listening:\n${output()}`)),
      ),
    );
    try {
      await Promise.race([waitForPort(opts.port, opts.host, opts.timeoutMs), failed]);
    } catch (err) {
      await proc.stop("SIGKILL");
      throw err;
    }
    failed.catch(() => {});
  }
  return proc;
}

/** Whether a process with this pid exists (one we may not signal counts: EPERM). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stops every process started by this module that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop("SIGKILL")));
}

/** Real memcached on a given port, loopback only, no UDP. */
export function startMemcached(port: number, extra: string[] = []): Promise<Proc> {
  return start(
    "memcached",
    ["-l", "127.0.0.1", "-p", String(port), "-U", "0", "-u", "root", ...extra],
    {
      port,
    },
  );
}

/**
 * Real redis-server on a given port with no persistence. Its working directory is a fresh temp
 * dir: a replica's full sync writes the received RDB there, never into the repository.
 */
export function startRedis(port: number, extra: string[] = []): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), "kc-redis-"));
  return start("redis-server", [...scratchRedisArgs(port, dir), ...extra], { port });
}

/**
 * SIGSTOPs a process and waits until the kernel shows every thread of it stopped (state T in
 * /proc/PID/task/TID/stat). kill() returns before the target has stopped: a request sent right
 * after could still be answered by a thread running on the other core, which is exactly what
 * the hung-backend tests must rule out.
 */
export async function freeze(child: ChildProcess, ms = 2000): Promise<void> {
  child.kill("SIGSTOP");
  const pid = child.pid;
  if (pid === undefined) throw new Error("freeze: the process has no pid");
  const end = Date.now() + ms;
  const stopped = (tid: string) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1");
    // Field 3, after the parenthesized command name (which may contain spaces).
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
  };
  for (;;) {
    if (readdirSync(`/proc/${pid}/task`).every(stopped)) return;
    if (Date.now() > end) throw new Error(`freeze: pid ${pid} not stopped after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
