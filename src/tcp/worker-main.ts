/**
 * Entry of a TCP data-plane worker process (forked by WorkerPool). It serves the services the
 * primary sends, each on the primary's listening socket, routes by the snapshots the primary
 * pushes, reports passive health and its counters, and never decides health itself. It exits
 * when the primary goes away (IPC disconnect), so no worker outlives its primary.
 */
import type net from "node:net";
import { installWorkerSignals } from "../workers/worker-signals.js";
import { type FromWorker, refreeze, type ToWorker } from "./ipc.js";
import { TcpService } from "./service.js";

installWorkerSignals();

const STATS_MS = Number(process.env.KEEPCACHE_TCP_STATS_MS ?? 1000);
const services = new Map<string, TcpService>();

function send(m: FromWorker): void {
  if (process.connected) process.send?.(m);
}

const reporter = {
  reportFailure: (id: string, reason: string) => send({ t: "health", id, ok: false, reason }),
  reportSuccess: (id: string) => send({ t: "health", id, ok: true, reason: "" }),
};

async function shutdown(code: number): Promise<never> {
  clearInterval(stats);
  await Promise.allSettled([...services.values()].map((s) => s.close()));
  process.exit(code);
}

process.on("message", (m: ToWorker, handle?: net.Server) => {
  switch (m.t) {
    case "service": {
      if (!handle) return;
      void services.get(m.name)?.close({ drain: true });
      const check = m.cfg.check !== undefined;
      const svc = new TcpService(
        m.name,
        m.cfg,
        refreeze(m.snap),
        check ? reporter : undefined,
        m.opts,
      );
      svc.adopt(handle);
      services.set(m.name, svc);
      send({ t: "serving", name: m.name });
      return;
    }
    case "reconfigure":
      services.get(m.name)?.reconfigure(m.cfg, refreeze(m.snap));
      return;
    case "snapshot":
      services.get(m.name)?.setSnapshot(refreeze(m.snap));
      return;
    case "remove": {
      const svc = services.get(m.name);
      services.delete(m.name);
      void svc?.close({ drain: m.drain });
      return;
    }
    case "stop":
      void shutdown(0);
      return;
  }
});
process.on("disconnect", () => void shutdown(0));

const stats = setInterval(() => {
  const out: Record<string, ReturnType<TcpService["liveCounters"]>> = {};
  for (const [name, s] of services) out[name] = s.liveCounters();
  send({ t: "counters", services: out });
}, STATS_MS);

send({ t: "ready" });
