/**
 * Totals across processes. Each worker reports its absolute counters; the primary adds the
 * DIFFERENCE since that worker's previous report into its own pool and server counters objects.
 * Every reader of those objects (the twemproxy stats port, /metrics, the dashboard) then shows
 * the sum over all processes without knowing workers exist, and a dead worker's counters stay
 * in the totals (retired) by construction, so counters never go back; only its gauges (open
 * connections) are taken out again, since its connections died with it.
 */
import type { Histogram } from "../../metrics/histogram.js";
import { type MetricTable, proxyPoolMetrics, proxyServerMetrics } from "../../metrics/table.js";
import type { ProxyPool } from "../pool.js";
import type { BackendServer } from "../server.js";
import type { PoolReport, ServerReport, WireHistogram, WorkerReport } from "./ipc.js";

function gaugesOf(t: MetricTable): Set<string> {
  return new Set(Object.entries(t).flatMap(([k, d]) => (d.type === "gauge" ? [k] : [])));
}
const POOL_GAUGES = gaugesOf(proxyPoolMetrics);
const SERVER_GAUGES = gaugesOf(proxyServerMetrics);
/**
 * Not summed: the ejection time is the primary's decision (workers never eject), and the queue
 * gauges are read live from connections (stats.ts queueGauges; workers' come in `q`).
 */
const SERVER_SKIP = new Set(["server_ejected_at", "in_queue", "in_queue_bytes", "out_queue"]);
const NONE = new Set<string>();

/** What the merge needs of the primary: its live pool of a name, if that gen is current. */
export interface MergeTarget {
  pool(name: string, gen: number): ProxyPool | undefined;
  readonly global: { total_connections: number; curr_connections: number };
}

/** Adds now - was into `into`; a counter that went down was reset (a rebuilt object). */
export function addDelta(
  into: Record<string, number>,
  now: Record<string, number>,
  was: Record<string, number> | undefined,
  gauges: ReadonlySet<string>,
  skip: ReadonlySet<string> = NONE,
): void {
  for (const k of Object.keys(now)) {
    if (skip.has(k) || !(k in into)) continue;
    let d = now[k] - (was?.[k] ?? 0);
    if (d < 0 && !gauges.has(k)) d = now[k];
    into[k] += d;
  }
}

/** Takes the gauges of `was` out of `into` (the process that had them is gone). */
export function dropGauges(
  into: Record<string, number>,
  was: Record<string, number>,
  gauges: ReadonlySet<string>,
): void {
  for (const k of gauges) if (k in was && k in into) into[k] -= was[k];
}

function addHistogram(into: Histogram, now: WireHistogram, was: WireHistogram | undefined): void {
  const reset =
    was === undefined || now.count < was.count || now.counts.length !== was.counts.length;
  if (now.counts.length !== into.counts.length) return;
  for (let i = 0; i < now.counts.length; i++)
    into.counts[i] += now.counts[i] - (reset ? 0 : was.counts[i]);
  into.sum += now.sum - (reset ? 0 : was.sum);
  into.count += now.count - (reset ? 0 : was.count);
}

/** A pool's server or replica-set member by stats name. */
export function serverByName(pool: ProxyPool, name: string): BackendServer | undefined {
  for (const s of pool.servers) for (const b of s.backends) if (b.name === name) return b;
  return undefined;
}

/** One worker's side of the totals: its last report. */
export class WorkerTotals {
  last: WorkerReport = { global: { total_connections: 0, curr_connections: 0 }, pools: {} };

  constructor(private readonly target: MergeTarget) {}

  /** Adds what changed since the previous report into the primary's counters. */
  add(r: WorkerReport): void {
    const g = this.target.global;
    addDelta(g, r.global, this.last.global, new Set(["curr_connections"]));
    for (const [name, now] of Object.entries(r.pools)) {
      const pool = this.target.pool(name, now.gen);
      if (pool === undefined) continue;
      const was = this.last.pools[name]?.gen === now.gen ? this.last.pools[name] : undefined;
      this.addPool(pool, now, was);
    }
    this.last = r;
  }

  /** The worker died: its totals stay, its open connections are gone. */
  retire(): void {
    const g = this.target.global;
    g.curr_connections -= this.last.global.curr_connections;
    for (const [name, was] of Object.entries(this.last.pools)) {
      const pool = this.target.pool(name, was.gen);
      if (pool === undefined) continue;
      dropGauges(pool.counters as unknown as Record<string, number>, was.c, POOL_GAUGES);
      for (const [sname, sw] of Object.entries(was.servers)) {
        const s = serverByName(pool, sname);
        if (s === undefined || s.label !== sw.label) continue;
        const gauges = new Set([...SERVER_GAUGES].filter((k) => !SERVER_SKIP.has(k)));
        dropGauges(s.counters as unknown as Record<string, number>, sw.c, gauges);
      }
    }
    this.last = { global: { total_connections: 0, curr_connections: 0 }, pools: {} };
  }

  /** This worker's current queue gauges of one server (the stats port adds them). */
  queues(pool: string, server: string): ServerReport["q"] | undefined {
    return this.last.pools[pool]?.servers[server]?.q;
  }

  private addPool(pool: ProxyPool, now: PoolReport, was: PoolReport | undefined): void {
    addDelta(pool.counters as unknown as Record<string, number>, now.c, was?.c, POOL_GAUGES);
    for (const [sname, sr] of Object.entries(now.servers)) {
      const s = serverByName(pool, sname);
      if (s === undefined || s.label !== sr.label) continue;
      const sw = was?.servers[sname]?.label === sr.label ? was.servers[sname] : undefined;
      addDelta(
        s.counters as unknown as Record<string, number>,
        sr.c,
        sw?.c,
        SERVER_GAUGES,
        SERVER_SKIP,
      );
      addHistogram(s.latency, sr.lat, sw?.lat);
    }
  }
}
