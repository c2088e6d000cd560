/**
 * Messages between the primary (control plane: probing, config, metrics) and the worker
 * processes (data plane). Everything crosses as JSON over the fork IPC channel; the only
 * handle sent is a service's listening socket, with the "service" message.
 */
import type { LiveCounters } from "./links.js";
import type { TcpServiceOptions } from "./service.js";
import type { RoutingSnapshot, TcpServiceShape } from "./snapshot.js";

export type ToWorker =
  /** Serve this service on the listening socket sent along. */
  | {
      t: "service";
      name: string;
      cfg: TcpServiceShape;
      snap: RoutingSnapshot;
      opts: TcpServiceOptions;
    }
  | { t: "reconfigure"; name: string; cfg: TcpServiceShape; snap: RoutingSnapshot }
  | { t: "snapshot"; name: string; snap: RoutingSnapshot }
  /** Stop accepting; `drain` leaves open connections to end by themselves. */
  | { t: "remove"; name: string; drain: boolean }
  | { t: "stop" };

export type FromWorker =
  | { t: "ready" }
  /** The worker serves `name` (it adopted the listening socket). */
  | { t: "serving"; name: string }
  /** Live counters of every service the worker serves (sent every statsIntervalMs). */
  | { t: "counters"; services: Record<string, LiveCounters> }
  /** A passive health signal from a connect attempt (ok = connected). */
  | { t: "health"; id: string; ok: boolean; reason: string };

/** Snapshots lose their frozenness over IPC; the data plane reads them as immutable again. */
export function refreeze(s: RoutingSnapshot): RoutingSnapshot {
  for (const v of s.servers) Object.freeze(v);
  Object.freeze(s.servers);
  return Object.freeze(s);
}
