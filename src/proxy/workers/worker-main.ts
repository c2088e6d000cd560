/**
 * Entry of a proxy data-plane worker process (forked by ProxyWorkers, primary.ts). It serves
 * the pools the primary sends, each on the primary's listening socket (the kernel hands every
 * accepted connection to one process), routes by the tables the primary pushes, reports
 * passive failures and its counters, and decides nothing itself. It exits when the primary
 * goes away (IPC disconnect), so no worker outlives its primary.
 */
import type net from "node:net";
import { child } from "../../log.js";
import { installWorkerSignals } from "../../workers/worker-signals.js";
import { driverFor } from "../drivers.js";
import { HeldListener } from "./handoff.js";
import type { FromWorker, ToWorker, WorkerReport } from "./ipc.js";
import { WorkerProxyPool } from "./worker-pool.js";

installWorkerSignals();

const STATS_MS = Number(process.env.KEEPCACHE_PROXY_STATS_MS ?? 1000);
const log = child("proxy-worker");
const pools = new Map<string, WorkerProxyPool>();
const global = { total_connections: 0, curr_connections: 0 };

function send(m: FromWorker): void {
  if (process.connected) process.send?.(m);
}

function report(seq: number): void {
  const r: WorkerReport = { global: { ...global }, pools: {} };
  for (const [name, p] of pools) r.pools[name] = p.report();
  send({ t: "counters", seq, report: r });
}

async function shutdown(code: number): Promise<never> {
  clearInterval(stats);
  await Promise.allSettled([...pools.values()].map((p) => p.close()));
  process.exit(code);
}

/** Messages are handled one at a time: a pool's "config" must not overtake its "pool". */
let chain = Promise.resolve();

async function handle(m: ToWorker, held: HeldListener | undefined): Promise<void> {
  switch (m.t) {
    case "pool": {
      if (held === undefined) return;
      const old = pools.get(m.cfg.name);
      if (old) await old.close();
      let pool: WorkerProxyPool;
      try {
        const driver = await driverFor(m.cfg);
        pool = new WorkerProxyPool(
          m.cfg,
          { driver, prober: undefined, log, global },
          m.gen,
          m.table,
        );
      } catch (err) {
        held.discard();
        throw err;
      }
      pool.send = send;
      pool.setTable(m.table);
      pool.adopt(held);
      pools.set(m.cfg.name, pool);
      log.info({ pool: m.cfg.name, gen: m.gen }, "pool serving in worker");
      send({ t: "serving", name: m.cfg.name, gen: m.gen });
      return;
    }
    case "config": {
      const p = pools.get(m.name);
      if (p?.gen === m.gen) p.reconfigure(m.cfg, m.table);
      return;
    }
    case "table": {
      const p = pools.get(m.name);
      if (p?.gen === m.gen) p.setTable(m.table);
      return;
    }
    case "remove": {
      const p = pools.get(m.name);
      if (p?.gen !== m.gen) return;
      pools.delete(m.name);
      await p.close();
      send({ t: "removed", name: m.name, gen: m.gen });
      return;
    }
    case "report":
      report(m.seq);
      return;
    case "stop":
      await shutdown(0);
      return;
  }
}

process.on("message", (m: ToWorker, server?: net.Server) => {
  // Claimed now, not in the chain: the received listener already accepts (handoff.ts).
  const held = server === undefined ? undefined : new HeldListener(server);
  chain = chain
    .then(() => handle(m, held))
    .catch((err: unknown) => log.error({ err, message: m.t }, "worker message failed"));
});
process.on("disconnect", () => void shutdown(0));

const stats = setInterval(() => report(0), STATS_MS);
stats.unref();

log.debug({ level: log.level }, "proxy worker started");
send({ t: "ready" });
