/**
 * Helpers of the proxy worker-process tests: a one-pool config, start `keepcache run`
 * (compiled CLI) and wait for its worker, stop it and check no worker outlives it, read its
 * JSON log, find which process holds each accepted client connection (`ss -p`: the kernel's
 * view, so "both processes served" is observed, not reported).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import type { Proc } from "../../tools/procs.js";
import { startRun, until } from "../helpers/keepcache-run.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange } from "./proxy-harness.js";

export interface PoolOptions {
  /** Pool lines (without indent) before `servers:`. */
  extra?: string[];
  workers?: number;
  timeout?: number;
}

/** `workers: N` and one memcached pool `alpha` (ketama, fnv1a_64) over `servers`. */
export function mcConf(listen: number, servers: number[], o: PoolOptions = {}): string {
  return [
    `workers: ${o.workers ?? 2}`,
    "alpha:",
    `  listen: 127.0.0.1:${listen}`,
    "  hash: fnv1a_64",
    "  distribution: ketama",
    `  timeout: ${o.timeout ?? 500}`,
    ...(o.extra ?? []).map((l) => `  ${l}`),
    "  servers:",
    ...servers.map((p) => `    - 127.0.0.1:${p}:1`),
    "",
  ].join("\n");
}

/** A text-protocol client that the proxy has accepted (it answered `version`). */
export async function mcClient(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  assert.match(await c.call("version\r\n"), /^VERSION /);
  return c;
}

/** Starts `keepcache run` on `yaml` and waits until a worker serves too. */
export async function runProxy(
  file: string,
  yaml: string,
  listen: number,
  stats: number,
): Promise<Proc> {
  const proc = await startRun(file, yaml, { listen, stats });
  // The primary listens first; wait until the workers serve too.
  await until(() => workerPids(proc).length > 0, "a worker serving", 8000);
  return proc;
}

/** SIGTERM: the primary exits 0 and takes its workers (default: those that logged) along. */
export async function stopProxy(proc: Proc, workers = workerPids(proc)): Promise<void> {
  await proc.stop("SIGTERM");
  assert.equal(proc.child.exitCode, 0, proc.output().slice(-3000));
  await until(() => workers.every((p) => !alive(p)), "workers to exit with the primary", 3000);
}

/** JSON log records with this message. */
export function logRecords(proc: Proc, msg: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of proc.output().split("\n")) {
    if (!line.includes(msg)) continue;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      if (r.msg === msg) out.push(r);
    } catch {}
  }
  return out;
}

/** Pids of the worker processes that logged serving a pool (live or not). */
export function workerPids(proc: Proc): number[] {
  return [...new Set(logRecords(proc, "pool serving in worker").map((r) => Number(r.pid)))];
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Established connections accepted on `port`, counted by the pid that holds each. */
export function acceptedBy(port: number): Map<number, number> {
  const text = execFileSync("ss", ["-Htnp", "state", "established", `( sport = :${port} )`], {
    encoding: "latin1",
  });
  const out = new Map<number, number>();
  for (const m of text.matchAll(/pid=(\d+)/g)) {
    const pid = Number(m[1]);
    out.set(pid, (out.get(pid) ?? 0) + 1);
  }
  return out;
}

/**
 * Opens connections (each answered once by `open`, so the proxy has accepted it) in batches
 * until at least `n` of them and connections held by two processes; bounded in count and time.
 */
export async function openSpread<C>(port: number, n: number, open: () => Promise<C>): Promise<C[]> {
  const conns: C[] = [];
  const deadline = Date.now() + 8000;
  while (conns.length < 400 && Date.now() < deadline) {
    conns.push(...(await Promise.all(Array.from({ length: 10 }, open))));
    if (conns.length >= n && acceptedBy(port).size >= 2) return conns;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`connections never spread over 2 processes: ${[...acceptedBy(port)]}`);
}

export interface StatsDoc {
  total_connections: number;
  curr_connections: number;
  [pool: string]: unknown;
}

/** One server's (or a pool's) numbers in a stats document. */
export function numbers(doc: unknown, ...path: string[]): Record<string, number> {
  let o = doc as Record<string, unknown>;
  for (const p of path) o = o[p] as Record<string, unknown>;
  return o as Record<string, number>;
}

export async function statsDoc(port: number): Promise<StatsDoc> {
  return JSON.parse(await exchange(port, "", (s) => s.endsWith("}\n")));
}
