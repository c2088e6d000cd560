/**
 * Running the keepcache CLI once to completion, for tests of how it refuses to start: exit
 * code, stderr, and what the process cost (CPU time and peak memory, read by a preload hook
 * in the child at exit, so no external `time` tool is needed).
 */
import { spawn } from "node:child_process";
import { keepcacheBin } from "../../tools/procs.js";

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** User + system CPU time of the keepcache process, in ms. */
  cpuMs: number;
  /** Its peak resident set size, in MB. */
  maxRssMb: number;
}

/** Writes process.resourceUsage() to fd 3 on exit (process.exit included). */
const USAGE_HOOK = `data:text/javascript,${encodeURIComponent(
  'import fs from "node:fs"; process.on("exit", () => { try { fs.writeSync(3, JSON.stringify(process.resourceUsage())); } catch {} });',
)}`;

export function runCli(
  args: string[],
  opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", USAGE_HOOK, keepcacheBin(), ...args], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      cwd: opts.cwd,
      env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json", ...opts.env },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const usage: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    (child.stdio[3] as NodeJS.ReadableStream).on("data", (d: Buffer) => usage.push(d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`keepcache ${args.join(" ")} still running after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs ?? 15_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      const u = JSON.parse(
        Buffer.concat(usage).toString() || "{}",
      ) as Partial<NodeJS.ResourceUsage>;
      resolve({
        status,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        cpuMs: ((u.userCPUTime ?? Number.NaN) + (u.systemCPUTime ?? 0)) / 1000,
        maxRssMb: (u.maxRSS ?? Number.NaN) / 1024,
      });
    });
  });
}
