/**
 * Which proxy decides a builtin failover when several share a pool: the one holding
 * the VRRP MASTER role of the set's `failover_vrrp_instance`. Without that setting, this proxy
 * decides (a single proxy). The process that runs VRRP hands its status to the Leadership it
 * gave the set controllers (`leadership.follow(() => vrrp.status())`); with an instance
 * configured and no status yet, or the instance not MASTER here, this proxy only follows the
 * roles it observes.
 */
export interface VrrpInstanceState {
  name: string;
  state: string;
}

export class Leadership {
  private source: (() => readonly VrrpInstanceState[]) | undefined;

  /** Decisions follow this VRRP status from now on (undefined: no VRRP, never decide). */
  follow(fn: (() => readonly VrrpInstanceState[]) | undefined): void {
    this.source = fn;
  }

  mayDecide(instance: string | undefined): boolean {
    if (instance === undefined) return true;
    if (this.source === undefined) return false;
    return this.source().some((s) => s.name === instance && s.state === "MASTER");
  }
}
