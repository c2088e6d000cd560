/**
 * A proxy's CPU time per request (user + system, all threads: /proc/PID/stat), measured around a
 * load run. On the project's 2 cores the proxy, the load generator and the server compete for
 * CPU, so a proxy's throughput at one request per client in flight follows this cost, and its
 * user/system split tells what is the proxy's own work from what is the kernel's socket I/O.
 */
import { cpuOf } from "../../tools/cpu.js";
import type { Proc } from "../../tools/procs.js";
import type { Row } from "../lib/table.js";
import { median } from "./rounds.js";

/** CPU of a proxy process per request, in µs. */
export interface Cost {
  user: number;
  total: number;
}

/** Runs `load` and returns what it cost `proc` per request (`requests` counts them). */
export async function costOf<T>(
  proc: Proc,
  load: () => Promise<T>,
  requests: (result: T) => number,
): Promise<{ result: T; cost: Cost }> {
  const pid = proc.child.pid as number;
  const a = cpuOf(pid);
  const result = await load();
  const b = cpuOf(pid);
  const n = requests(result);
  const user = (b.user - a.user) / n;
  return { result, cost: { user, total: user + (b.system - a.system) / n } };
}

/** Each figure's median over the runs. */
export function medianCost(cs: Cost[]): Cost {
  return { user: median(cs.map((c) => c.user)), total: median(cs.map((c) => c.total)) };
}

const perRequest = (c: Cost) => `${c.total.toFixed(1)} µs (user ${c.user.toFixed(1)})`;

/** An info row: keepcache's CPU per request against nutcracker's (ratio: theirs over ours). */
export function costRow(label: string, nc: Cost, kc: Cost): Row {
  return {
    name: label,
    anchor: perRequest(nc),
    keepcache: perRequest(kc),
    ratio: nc.total / kc.total,
    target: "info",
    pass: kc.total <= nc.total,
    info: true,
  };
}
