/**
 * `/healthz` and `/readyz` for load balancers and orchestrators (Kubernetes probes, HAProxy
 * `option httpchk`). Both answer without the admin token, so they say nothing but the names
 * of the checks: no pool, server or address.
 *   - /healthz: the process answers HTTP (liveness);
 *   - /readyz: every registered check passes (200), else 503 with the failing check names.
 */
export interface ReadyCheck {
  /** A fixed, non-identifying name: "config_loaded", "pools_listening", "shards_live". */
  name: string;
  ok(): boolean;
}

export interface Readiness {
  ready: boolean;
  failing: string[];
}

export class ReadyChecks {
  private readonly checks = new Set<ReadyCheck>();

  /** Returns the undo. */
  register(check: ReadyCheck): () => void {
    this.checks.add(check);
    return () => {
      this.checks.delete(check);
    };
  }

  evaluate(): Readiness {
    const failing = new Set<string>();
    for (const c of this.checks) {
      let ok: boolean;
      try {
        ok = c.ok();
      } catch {
        ok = false;
      }
      if (!ok) failing.add(c.name);
    }
    return { ready: failing.size === 0, failing: [...failing] };
  }
}
