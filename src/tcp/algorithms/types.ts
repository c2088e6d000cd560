/**
 * The contract of a balance algorithm: given the servers that may take a new connection right
 * now (up, weight > 0, below maxconn; already filtered by the service), pick one. Algorithms
 * keep only their own rotation state; they never see health or decide eligibility.
 */
export interface Candidate {
  /** Stable server id (the address), used for rotation state and hashing. */
  readonly id: string;
  /** Effective weight (> 0): configured or dynamic weight, scaled by slowstart. */
  readonly weight: number;
  /** Connections currently open to the server. */
  readonly active: number;
}

export interface PickContext {
  /** The client's IP address (for sh). */
  clientIp: string;
}

export interface Algorithm {
  readonly name: string;
  /** Returns an index into `c` (which is non-empty). */
  pick(c: readonly Candidate[], ctx: PickContext): number;
}
