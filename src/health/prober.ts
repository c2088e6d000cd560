/**
 * The active health prober: one check loop per target, rise/fall hysteresis, transitions
 * published to subscribers, notify_up/notify_down scripts. HAProxy semantics: a server that is
 * up goes down after `fall` consecutive failures and comes back after `rise` consecutive
 * successes. keepalived's `retry` + `delay_before_retry` map onto `fall` + `interval`.
 *
 * A target's checks never overlap: the next one is scheduled `interval` ms after the previous
 * one finished (or timed out). Passive signals from the data path (a failed request or connect)
 * count like failed checks, so real traffic can take a server down before the next probe.
 */

import { formatHostPort } from "../config/schema/common.js";
import { runScript } from "../scripts/run.js";
import { TargetChecker } from "./checks/index.js";
import type { CheckResult, CheckTarget, HealthCheckConfig } from "./types.js";

export type HealthState = "up" | "down";

export interface ProbeSpec {
  /** Unique id, e.g. "mycat/10.0.0.1:8066". Events carry it as `target`. */
  id: string;
  target: CheckTarget;
  check: HealthCheckConfig;
  notifyUp?: string;
  notifyDown?: string;
  /** User for notify scripts (keepalived `script_user`). */
  scriptUser?: string;
  /** State before the first check (HAProxy and keepalived both assume up). */
  initial?: HealthState;
}

export interface Transition {
  type: "transition";
  target: string;
  from: HealthState;
  to: HealthState;
  reason: string;
  at: number;
}

/** misc_dynamic: the script asked for a new weight (undefined = back to the configured one). */
export interface WeightChange {
  type: "weight";
  target: string;
  weight: number | undefined;
  at: number;
}

export type ProbeEvent = Transition | WeightChange;

export type CheckRunner = (
  target: CheckTarget,
  cfg: HealthCheckConfig,
  signal: AbortSignal,
) => Promise<CheckResult>;

export interface ProberOptions {
  /** The check implementation (default: the real checks, a TargetChecker per target). */
  check?: CheckRunner;
  /** Called with notify-script failures (they never stop the prober). */
  onError?: (err: unknown) => void;
  /** Upper bound for a notify script's run time (ms). */
  notifyTimeoutMs?: number;
}

export interface TargetStatus {
  state: HealthState;
  since: number;
  weight: number | undefined;
  successes: number;
  failures: number;
  last: CheckResult | undefined;
  transitions: number;
}

interface Rec extends TargetStatus {
  spec: ProbeSpec;
  /** The real checks' state for this target (its kept connection); unset with opts.check. */
  checker: TargetChecker | undefined;
  timer: NodeJS.Timeout | undefined;
  ctl: AbortController | undefined;
  running: Promise<void> | undefined;
  removed: boolean;
}

class CheckTimeout extends Error {
  override name = "TimeoutError";
}

export class Prober {
  private readonly recs = new Map<string, Rec>();
  private readonly subs = new Set<(e: ProbeEvent) => void>();
  private readonly notifies = new Set<Promise<void>>();
  private readonly notifyCtl = new AbortController();
  private readonly check: CheckRunner | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: ProberOptions = {}) {
    this.check = opts.check;
  }

  add(spec: ProbeSpec): void {
    if (this.recs.has(spec.id)) throw new Error(`duplicate probe target ${spec.id}`);
    const rec: Rec = {
      spec,
      checker: this.check ? undefined : new TargetChecker(spec.target, spec.check),
      state: spec.initial ?? "up",
      since: Date.now(),
      weight: undefined,
      successes: 0,
      failures: 0,
      last: undefined,
      transitions: 0,
      timer: undefined,
      ctl: undefined,
      running: undefined,
      removed: false,
    };
    this.recs.set(spec.id, rec);
    if (this.started && !this.stopped) this.schedule(rec, 0);
  }

  /** Stops probing a target; an in-flight check is aborted and its result ignored. */
  remove(id: string): void {
    const rec = this.recs.get(id);
    if (!rec) return;
    rec.removed = true;
    clearTimeout(rec.timer);
    rec.ctl?.abort(new Error("removed"));
    rec.checker?.close();
    this.recs.delete(id);
  }

  subscribe(fn: (e: ProbeEvent) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  status(id: string): TargetStatus | undefined {
    const r = this.recs.get(id);
    if (!r) return undefined;
    const { state, since, weight, successes, failures, last, transitions } = r;
    return { state, since, weight, successes, failures, last, transitions };
  }

  ids(): string[] {
    return [...this.recs.keys()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const rec of this.recs.values()) this.schedule(rec, 0);
  }

  /** Passive failure from the data path: counts toward `fall` like a failed check. */
  reportFailure(id: string, reason = "passive failure"): void {
    const rec = this.recs.get(id);
    if (!rec || this.stopped) return;
    this.apply(rec, { ok: false, detail: reason, latencyMs: 0 }, false);
  }

  /** Passive success: clears the failure streak of an up target, never raises a down one. */
  reportSuccess(id: string): void {
    const rec = this.recs.get(id);
    if (rec && rec.state === "up") rec.failures = 0;
  }

  /** Cancels every timer, aborts in-flight checks and notify scripts, and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    const waits: Promise<void>[] = [];
    for (const rec of this.recs.values()) {
      clearTimeout(rec.timer);
      rec.timer = undefined;
      rec.ctl?.abort(new Error("prober stopped"));
      if (rec.running) waits.push(rec.running);
    }
    this.notifyCtl.abort(new Error("prober stopped"));
    await Promise.all([...waits, ...this.notifies]);
    for (const rec of this.recs.values()) rec.checker?.close();
  }

  private schedule(rec: Rec, delay: number): void {
    if (this.stopped || rec.removed) return;
    rec.timer = setTimeout(() => {
      rec.timer = undefined;
      rec.running = this.runOnce(rec).finally(() => {
        rec.running = undefined;
        this.schedule(rec, rec.spec.check.interval);
      });
    }, delay);
  }

  private async runOnce(rec: Rec): Promise<void> {
    const ctl = new AbortController();
    rec.ctl = ctl;
    const t = setTimeout(
      () => ctl.abort(new CheckTimeout(`check timed out after ${rec.spec.check.timeout} ms`)),
      rec.spec.check.timeout,
    );
    let result: CheckResult;
    try {
      result = this.check
        ? await this.check(rec.spec.target, rec.spec.check, ctl.signal)
        : await (rec.checker as TargetChecker).run(ctl.signal);
    } catch (e) {
      result = { ok: false, detail: (e as Error).message, latencyMs: 0 };
    } finally {
      clearTimeout(t);
      rec.ctl = undefined;
    }
    if (this.stopped || rec.removed) return;
    // A check that returned "ok" after its deadline still missed the deadline.
    if (ctl.signal.aborted && result.ok) result = { ...result, ok: false, detail: "timeout" };
    this.apply(rec, result, true);
  }

  private apply(rec: Rec, r: CheckResult, active: boolean): void {
    if (active) rec.last = r;
    const cfg = rec.spec.check;
    if (r.ok) {
      rec.failures = 0;
      rec.successes++;
      if (r.weight !== rec.weight) {
        rec.weight = r.weight;
        this.emit({ type: "weight", target: rec.spec.id, weight: r.weight, at: Date.now() });
      }
      if (rec.state === "down" && rec.successes >= Math.max(1, cfg.rise))
        this.transition(rec, "up", r.detail);
    } else {
      rec.successes = 0;
      rec.failures++;
      if (rec.state === "up" && rec.failures >= Math.max(1, cfg.fall))
        this.transition(rec, "down", r.detail);
    }
  }

  private transition(rec: Rec, to: HealthState, reason: string): void {
    const from = rec.state;
    rec.state = to;
    rec.since = Date.now();
    rec.transitions++;
    this.emit({ type: "transition", target: rec.spec.id, from, to, reason, at: rec.since });
    const script = to === "up" ? rec.spec.notifyUp : rec.spec.notifyDown;
    if (script) this.notify(script, rec);
  }

  /** keepalived runs checker notify scripts as configured, with no added arguments. */
  private notify(command: string, rec: Rec): void {
    const signal = AbortSignal.any([
      this.notifyCtl.signal,
      AbortSignal.timeout(this.opts.notifyTimeoutMs ?? 30_000),
    ]);
    const env = {
      ...process.env,
      KEEPCACHE_TARGET: rec.spec.id,
      KEEPCACHE_ADDRESS: formatHostPort(rec.spec.target.host, rec.spec.target.port),
      KEEPCACHE_STATE: rec.state,
    };
    const p = runScript(command, {
      signal,
      env,
      ...(rec.spec.scriptUser !== undefined ? { user: rec.spec.scriptUser } : {}),
    })
      .then(() => {})
      .catch((e) => this.opts.onError?.(e))
      .finally(() => this.notifies.delete(p));
    this.notifies.add(p);
  }

  private emit(e: ProbeEvent): void {
    for (const fn of this.subs) {
      try {
        fn(e);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }
}
