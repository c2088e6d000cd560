/**
 * The twemproxy-compatible stats port (nc_stats.c): every connection gets one JSON document and
 * is closed. Field names and nesting are nutcracker's ("service", "source", "version", "uptime",
 * "timestamp", "total_connections", "curr_connections", then one object per pool holding the
 * pool counters and one object per server), so existing nutcracker monitoring works unchanged.
 * Unlike nutcracker (which aggregates every 30 s), values are read fresh for each connection.
 *
 * A replica set is listed as its MEMBERS, each under "<set>/<host>:<port>" with its
 * own counters (requests go to the members; the set itself carries none), so a tool that sums
 * a pool's servers still gets the pool's traffic, and a member's failures show by name.
 *
 * With worker processes (workers/), counters are totals over every process: workers' reports
 * are added into the primary's counters objects (workers/merge.ts), and each stats request
 * first asks the workers for fresh ones (bounded wait) and adds their current queue gauges.
 */
import net from "node:net";
import os from "node:os";
import { type MetricTable, proxyPoolMetrics, proxyServerMetrics } from "../metrics/table.js";
import { listenOn } from "../util/listen.js";
import { VERSION } from "../version.js";
import type { ProxyPool } from "./pool.js";
import type { BackendServer } from "./server.js";

export interface StatsSource {
  pools(): Iterable<ProxyPool>;
  readonly startedAt: number;
  readonly global: { total_connections: number; curr_connections: number };
  /** Worker processes' fresh counters and queue gauges (absent with one process). */
  readonly workers?: StatsWorkers | undefined;
}

export interface QueueGauges {
  in_queue: number;
  in_queue_bytes: number;
  out_queue: number;
}

export interface StatsWorkers {
  refresh(): Promise<void>;
  /** The worker processes' last reported queue gauges of a pool's server, summed. */
  queues(pool: string, server: string): QueueGauges;
}

/** The `nc` names of a metric table, in declaration order. */
function ncFields(table: MetricTable): Array<[string, string]> {
  return Object.entries(table)
    .filter(([, d]) => d.nc !== undefined)
    .map(([k, d]) => [k, d.nc as string]);
}
const POOL_FIELDS = ncFields(proxyPoolMetrics);
const SERVER_FIELDS = ncFields(proxyServerMetrics);

export function statsDocument(src: StatsSource): Record<string, unknown> {
  const now = Date.now();
  const doc: Record<string, unknown> = {
    service: "nutcracker",
    source: os.hostname(),
    version: VERSION,
    uptime: Math.floor((now - src.startedAt) / 1000),
    timestamp: Math.floor(now / 1000),
    total_connections: src.global.total_connections,
    curr_connections: src.global.curr_connections,
  };
  for (const pool of src.pools()) {
    const p: Record<string, unknown> = {};
    const pc = pool.counters as Record<string, number>;
    for (const [k, nc] of POOL_FIELDS) p[nc] = pc[k];
    // Named by BackendServer.name, which a set gives its members as "set/host:port".
    for (const s of pool.servers)
      for (const b of s.backends) p[b.name] = serverStats(b, src.workers);
    doc[pool.name] = p;
  }
  return doc;
}

/**
 * twemproxy's queue gauges for one server in THIS process, read from its connections now:
 * in_queue counts connections with requests waiting to be written (and their bytes), out_queue
 * the requests sent and not yet answered. A worker reports these (workers/worker-pool.ts);
 * everything that shows a server's queues reads serverQueues() below.
 */
export function queueGauges(s: BackendServer): QueueGauges {
  let inQ = 0;
  let inQBytes = 0;
  let outQ = 0;
  s.forEachConn((c) => {
    outQ += c.inflightCount;
    inQBytes += c.out.pending;
    if (c.out.pending > 0) inQ++;
  });
  return { in_queue: inQ, in_queue_bytes: inQBytes, out_queue: outQ };
}

/**
 * The one reader of a server's queue gauges as the stats port, /metrics and the dashboard
 * show them: totals over every process (this one's connections now, plus each worker's last
 * report, refreshed before a stats port answer and every second otherwise).
 */
export function serverQueues(s: BackendServer, workers: StatsWorkers | undefined): QueueGauges {
  const q = queueGauges(s);
  if (workers === undefined) return q;
  const r = workers.queues(s.pool.name, s.name);
  q.in_queue += r.in_queue;
  q.in_queue_bytes += r.in_queue_bytes;
  q.out_queue += r.out_queue;
  return q;
}

/** One server object: its counters, and its queue gauges over every process. */
function serverStats(s: BackendServer, workers: StatsWorkers | undefined): Record<string, number> {
  const q = serverQueues(s, workers);
  const sc: Record<string, number> = { ...(s.counters as unknown as Record<string, number>), ...q };
  sc.out_queue_bytes = 0;
  const so: Record<string, number> = {};
  for (const [k, nc] of SERVER_FIELDS) so[nc] = sc[k];
  return so;
}

export class StatsServer {
  private server: net.Server | undefined;

  constructor(private readonly src: StatsSource) {}

  async listen(port: number, host: string): Promise<net.AddressInfo> {
    const srv = net.createServer((sock) => {
      sock.on("error", () => sock.destroy());
      const w = this.src.workers;
      if (w === undefined) sock.end(`${JSON.stringify(statsDocument(this.src))}\n`);
      else
        void w.refresh().then(() => {
          if (!sock.destroyed) sock.end(`${JSON.stringify(statsDocument(this.src))}\n`);
        });
    });
    this.server = srv;
    await listenOn(srv, { port, host }, "stats port");
    return srv.address() as net.AddressInfo;
  }

  async close(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    if (srv) await new Promise<void>((r) => srv.close(() => r()));
  }
}
