/**
 * keepalived's vrrp_sync_group: member instances change state together. If one becomes MASTER
 * the others follow; if one falls to BACKUP the others do; if one enters FAULT all enter FAULT
 * and stay there until every member's faults clear (keepalived.conf(5), "VRRP synchronization
 * group").
 */
import type { Action, VrrpInstance, VrrpState } from "./state.js";

export class SyncGroup {
  state: VrrpState = "INIT";
  private moving = false;

  constructor(
    readonly name: string,
    readonly members: VrrpInstance[],
    private readonly emit: (a: Action) => void,
  ) {
    for (const m of members) m.listeners.push((inst, _from, to) => this.follow(inst, to));
  }

  private follow(origin: VrrpInstance, to: VrrpState): void {
    if (this.moving || origin.inGroupMove || to === "INIT") return;
    // A member leaving FAULT while a sibling is still faulty goes straight back to FAULT.
    const target: "MASTER" | "BACKUP" | "FAULT" = this.members.some((m) => m.faulted)
      ? "FAULT"
      : to;
    this.moving = true;
    try {
      for (const m of this.members)
        m.groupMove(target, `sync group ${this.name}: ${origin.cfg.name} ${to}`);
    } finally {
      this.moving = false;
    }
    if (target !== this.state) {
      this.state = target;
      this.emit({ type: "notify", state: target, argv: ["GROUP", this.name, target] });
    }
  }
}
