/**
 * The control state of one pool entry (a server, a replica-set member or a set), as the pool's
 * control plane holds it (control.ts) and the admin plane reads it through a server.
 */

/** Operator state: "draining" and "disabled" take the entry out of the table (no new requests). */
/** Operator state: "draining" and "disabled" take the entry out of the table (no new requests). */
export type AdminState = "enabled" | "draining" | "disabled";

/** The control state of one server, replica-set member or set. */
export interface TargetState {
  /** Passive ejection: ms timestamp until which the server stays out (0: not ejected). */
  ejectedUntil: number;
  ejectTimer: NodeJS.Timeout | undefined;
  /** The active health checker says down. */
  healthDown: boolean;
  adminState: AdminState;
  /** Weight set through the admin API, replacing the configured one until a reload. */
  weightOverride: number | undefined;
}
