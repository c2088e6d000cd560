/**
 * The node's `stats` replies (protocol.txt "Statistics"), as name/value pairs that the text and
 * binary sessions render in their own framing. Counter names come from the metrics table, so
 * `stats`, `/metrics` and the dashboard cannot disagree.
 */
import { nodeMetrics, storeMetrics } from "../metrics/table.js";
import { VERSION } from "../version.js";
import type { NodeContext } from "./context.js";
import { replicationStats } from "./replication/stats.js";

export type StatPairs = Array<[string, string]>;

export function generalStats(ctx: NodeContext): StatPairs {
  const now = Math.floor(Date.now() / 1000);
  const ru = process.resourceUsage();
  const out: StatPairs = [
    ["pid", String(process.pid)],
    ["uptime", String(now - ctx.startedAt)],
    ["time", String(now)],
    ["version", VERSION],
    ["libevent", `node-${process.versions.node}`],
    ["pointer_size", "64"],
    ["rusage_user", (ru.userCPUTime / 1e6).toFixed(6)],
    ["rusage_system", (ru.systemCPUTime / 1e6).toFixed(6)],
    ["max_connections", String(ctx.options.connLimit)],
  ];
  const c = ctx.counters as Record<string, number>;
  for (const [key, def] of Object.entries(nodeMetrics)) {
    if ("stat" in def && def.stat) out.push([def.stat, String(c[key])]);
  }
  out.push(["threads", "1"]);
  const s = ctx.store.stats(ctx.now()) as unknown as Record<string, number | boolean>;
  for (const [key, def] of Object.entries(storeMetrics)) {
    const v = s[key];
    out.push([def.stat, String(typeof v === "boolean" ? Number(v) : v)]);
  }
  if (ctx.repl) out.push(...replicationStats(ctx.repl));
  return out;
}

export function settingsStats(ctx: NodeContext): StatPairs {
  const o = ctx.options;
  return [
    ["maxbytes", String(o.memoryLimitMb * 1024 * 1024)],
    ["maxconns", String(o.connLimit)],
    ["tcpport", String(o.port)],
    ["udpport", "0"],
    ["inter", o.host],
    ["verbosity", String(ctx.verbosity)],
    ["evictions", "on"],
    ["growth_factor", "1.25"],
    ["item_size_max", String(o.maxItemSize)],
    ["cas_enabled", "yes"],
    ["binding_protocol", "auto-negotiate"],
    ["num_threads", "1"],
    ["flush_enabled", "yes"],
    ["meta_response_old", "no"],
  ];
}

export function itemsStats(ctx: NodeContext): StatPairs {
  const out: StatPairs = [];
  for (const k of ctx.store.slabStats(ctx.now())) {
    if (k.items === 0 && k.tombstones === 0) continue;
    const p = `items:${k.id}:`;
    out.push(
      [`${p}number`, String(k.items)],
      [`${p}age`, String(k.age)],
      [`${p}evicted`, String(k.evicted)],
      [`${p}evicted_unfetched`, String(k.evictedUnfetched)],
      [`${p}evicted_time`, String(k.evictedTime)],
      [`${p}outofmemory`, String(k.outOfMemory)],
      [`${p}reclaimed`, String(k.reclaimed)],
      [`${p}expired_unfetched`, String(k.expiredUnfetched)],
    );
  }
  return out;
}

export function slabsStats(ctx: NodeContext): StatPairs {
  const out: StatPairs = [];
  for (const k of ctx.store.slabStats(ctx.now())) {
    if (k.totalPages === 0) continue;
    const p = `${k.id}:`;
    out.push(
      [`${p}chunk_size`, String(k.chunkSize)],
      [`${p}chunks_per_page`, String(k.chunksPerPage)],
      [`${p}total_pages`, String(k.totalPages)],
      [`${p}total_chunks`, String(k.totalChunks)],
      [`${p}used_chunks`, String(k.usedChunks)],
      [`${p}free_chunks`, String(k.freeChunks)],
      [`${p}free_chunks_end`, String(k.freeChunksEnd)],
    );
  }
  const s = ctx.store.stats(ctx.now());
  out.push(["active_slabs", String(out.length / 7)], ["total_malloced", String(s.totalMalloced)]);
  return out;
}

/** `stats sizes`: item counts by 32-byte size bucket, as memcached reports them. */
export function sizesStats(ctx: NodeContext): StatPairs {
  return [...ctx.store.sizes(ctx.now())].map(([size, n]) => [String(size), String(n)]);
}

/** Renders pairs as the text protocol's STAT lines, ending with END. */
export function renderText(pairs: StatPairs): string {
  let s = "";
  for (const [k, v] of pairs) s += `STAT ${k} ${v}\r\n`;
  return `${s}END\r\n`;
}
