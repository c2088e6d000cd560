/** The contracts of a TcpService with its control plane and its owner. */

/** Passive health signals to the control plane (the data plane reports, never decides). */
export interface HealthReporter {
  reportFailure(serverId: string, reason: string): void;
  reportSuccess(serverId: string): void;
}

export interface TcpServiceOptions {
  /** Bound of the wait queue (clients beyond it are closed at once). */
  maxQueue?: number;
  /** Connect attempts per client, each on a different server (HAProxy `retries` + 1). */
  maxAttempts?: number;
  /** Bound of the persistence table. */
  maxAffinity?: number;
}
