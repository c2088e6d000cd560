/**
 * Which proxy decides a builtin failover when several share a pool: the one holding
 * the VRRP MASTER role of the set's `failover_vrrp_instance`. Without that setting, this proxy
 * decides (a single proxy). The VRRP runtime registers its status source here when it starts
 * (`setVrrpStatusSource(() => vrrp.status())`); with an instance configured and no source, or
 * the instance not MASTER here, this proxy only follows the roles it observes.
 */
export interface VrrpInstanceState {
  name: string;
  state: string;
}

let source: (() => readonly VrrpInstanceState[]) | undefined;

export function setVrrpStatusSource(fn: (() => readonly VrrpInstanceState[]) | undefined): void {
  source = fn;
}

export function mayDecide(instance: string | undefined): boolean {
  if (instance === undefined) return true;
  if (source === undefined) return false;
  return source().some((s) => s.name === instance && s.state === "MASTER");
}
