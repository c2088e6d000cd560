/**
 * Wires the VRRP runtime (src/vrrp/runtime.ts) into an AdminServer: a "vrrp" status provider
 * per instance, keepcache_vrrp_* gauges and counters (labelled {vrrp_instance}: Prometheus
 * gives `instance` to the scrape target), the "force backup" / "release" actions
 * (the runtime's operator hold: the instance stays BACKUP whatever its priority, so the peer
 * takes the VIP), and an event for every state change (polled; VRRP changes at most a few
 * times a second).
 */
import { VRRP_STATES, vrrpMetrics } from "../../metrics/table.js";
import type { VrrpInstanceStatus, VrrpRuntime } from "../../vrrp/runtime.js";
import { ActionError } from "../actions.js";
import type { AdminServer } from "../http.js";
import type { VrrpStatus } from "../status.js";

export type VrrpLike = Pick<VrrpRuntime, "status" | "forceBackup">;

export function vrrpStatus(r: VrrpInstanceStatus): VrrpStatus {
  const out: VrrpStatus = {
    name: r.name,
    vrid: r.vrid,
    interface: r.interface,
    state: r.state,
    priority: r.basePriority,
    effectivePriority: r.priority,
    vips: r.vips,
    since: r.since,
  };
  if (r.masterIp !== undefined) out.master = r.masterIp;
  if (r.held) out.held = true;
  return out;
}

export function attachVrrp(
  admin: AdminServer,
  vrrp: VrrpLike,
  opts: { watchMs?: number } = {},
): () => void {
  const undo: (() => void)[] = [];
  const find = (name: string) => vrrp.status().find((s) => s.name === name);
  const last = new Map<string, string>();
  for (const inst of vrrp.status()) {
    const name = inst.name;
    last.set(name, inst.state);
    undo.push(
      admin.status.register({
        kind: "vrrp",
        name,
        snapshot: () => {
          const s = find(name);
          if (s === undefined) throw new Error("instance stopped");
          return vrrpStatus(s);
        },
      }),
      admin.metrics.registerSource(
        vrrpMetrics,
        { subsystem: "vrrp", labels: { vrrp_instance: name } },
        () => {
          const s = find(name);
          if (s === undefined) return undefined;
          const state: Record<string, number> = {};
          for (const v of VRRP_STATES) state[v] = v === s.state ? 1 : 0;
          return {
            state,
            transitions: s.transitions,
            master: s.state === "MASTER" ? 1 : 0,
            priority: s.priority,
            base_priority: s.basePriority,
            adverts_sent: s.advertsSent,
            adverts_received: s.advertsReceived,
          };
        },
      ),
    );
  }
  undo.push(
    admin.actions.register({
      kind: "vrrp",
      name: "*",
      handle: (a) => {
        if (a.kind !== "vrrp") throw new ActionError(400, "not a VRRP action");
        if (find(a.instance) === undefined) {
          throw new ActionError(404, `no VRRP instance named '${a.instance}'`);
        }
        const hold = a.op === "backup";
        vrrp.forceBackup(a.instance, hold);
        return {
          message: hold
            ? `${a.instance} held in BACKUP: the peer takes the VIP`
            : `${a.instance} released: it competes for MASTER by priority again`,
        };
      },
    }),
  );
  const timer = setInterval(() => {
    for (const s of vrrp.status()) {
      const was = last.get(s.name);
      if (was === s.state) continue;
      last.set(s.name, s.state);
      admin.events.push({
        kind: "vrrp",
        subject: s.name,
        message: `${was ?? "INIT"} -> ${s.state} (priority ${s.priority})`,
        level: s.state === "FAULT" ? "error" : "info",
        data: { from: was, to: s.state, vips: s.vips },
      });
    }
  }, opts.watchMs ?? 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const u of undo) u();
  };
}
