/**
 * Trackers that move an instance's priority or put it in FAULT (keepalived.conf(5):
 * vrrp_script / track_script, track_interface, track_file). Sign semantics, as keepalived:
 *   weight > 0: add weight while the check succeeds;  weight < 0: add it while it fails;
 *   weight = 0: a failure forces FAULT. track_file: value × weight is added; weight 0 and a
 *   non-zero value forces FAULT.
 * I/O (exec, files, link state) is injected; realEnv() gives the production one.
 */
import { readFileSync } from "node:fs";
import { commandArgv } from "../scripts/command.js";
import { realFs, spawnScript } from "../scripts/run.js";
import { scriptSecurityProblem } from "../scripts/security.js";
import type { Clock, TimerHandle } from "./clock.js";

export interface ExecResult {
  code: number | null;
  timedOut: boolean;
}

export interface TrackerEnv {
  exec(
    command: string,
    opts: { timeoutMs: number; uid?: number; gid?: number },
  ): Promise<ExecResult>;
  readFile(path: string): string | undefined;
  linkUp(ifname: string): boolean;
  stat(path: string): { uid: number; gid: number; mode: number } | undefined;
  exists(path: string): boolean;
}

/** What a tracker contributes right now. */
export interface Contribution {
  weight: number;
  fault: boolean;
}

export interface Tracker {
  readonly name: string;
  current(): Contribution;
}

export interface ScriptConfig {
  name: string;
  script: string;
  intervalMs: number;
  timeoutMs: number;
  weight: number;
  rise: number;
  fall: number;
  uid?: number;
  gid?: number;
  /** keepalived `init_fail`: start in the failed state. */
  initFail?: boolean;
}

/** One vrrp_script; several instances may share it, each with its own weight override. */
export class ScriptTracker implements Tracker {
  private ok: boolean;
  private streak = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;
  readonly listeners: (() => void)[] = [];

  constructor(
    readonly cfg: ScriptConfig,
    private readonly env: TrackerEnv,
    private readonly clock: Clock,
  ) {
    this.ok = !cfg.initFail;
  }

  get name(): string {
    return this.cfg.name;
  }

  get healthy(): boolean {
    return this.ok;
  }

  current(weight = this.cfg.weight): Contribution {
    if (weight === 0) return { weight: 0, fault: !this.ok };
    if (weight > 0) return { weight: this.ok ? weight : 0, fault: false };
    return { weight: this.ok ? 0 : weight, fault: false };
  }

  /** Feeds one result through rise/fall; returns true when the state flipped. */
  record(success: boolean): boolean {
    if (success === this.ok) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak < (success ? this.cfg.rise : this.cfg.fall)) return false;
    this.ok = success;
    this.streak = 0;
    for (const l of this.listeners) l();
    return true;
  }

  /** Runs the script once (a timeout counts as a failure, as in keepalived). */
  async runOnce(): Promise<boolean> {
    const r = await this.env.exec(this.cfg.script, {
      timeoutMs: this.cfg.timeoutMs,
      uid: this.cfg.uid,
      gid: this.cfg.gid,
    });
    return this.record(!r.timedOut && r.code === 0);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.timer = this.clock.setTimer(tick, this.cfg.intervalMs);
      // Never overlap runs of one script; a slow script simply skips an interval.
      if (this.running) return;
      this.running = true;
      this.runOnce()
        .catch(() => this.record(false))
        .finally(() => {
          this.running = false;
        });
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
  }

  /** enable_script_security: returns why the script may not run, or undefined. */
  insecure(): string | undefined {
    const { uid, gid } = this.cfg;
    return scriptSecurityProblem(this.cfg.script, {
      stat: (p) => this.env.stat(p),
      exists: (p) => this.env.exists(p),
      shell: true,
      ...(uid !== undefined ? { runAs: { uid, gid: gid ?? uid } } : {}),
    });
  }
}

/** track_interface: the link's operational state. */
export class InterfaceTracker implements Tracker {
  constructor(
    readonly name: string,
    readonly weight: number,
    private readonly env: TrackerEnv,
  ) {}
  current(): Contribution {
    const up = this.env.linkUp(this.name);
    if (this.weight === 0) return { weight: 0, fault: !up };
    if (this.weight > 0) return { weight: up ? this.weight : 0, fault: false };
    return { weight: up ? 0 : this.weight, fault: false };
  }
}

/** track_file: an integer in a file times the weight; a missing or non-numeric file reads as 0. */
export class FileTracker implements Tracker {
  constructor(
    readonly name: string,
    readonly weight: number,
    private readonly env: TrackerEnv,
  ) {}
  value(): number {
    const text = this.env.readFile(this.name);
    const n = text === undefined ? 0 : Number.parseInt(text.trim(), 10);
    return Number.isFinite(n) ? n : 0;
  }
  current(): Contribution {
    const v = this.value();
    if (this.weight === 0) return { weight: 0, fault: v !== 0 };
    // keepalived clamps the product to ±253 so one file cannot wrap the priority range.
    return { weight: Math.max(-253, Math.min(253, v * this.weight)), fault: false };
  }
}

/** An instance's trackers, each with its effective weight; sums them. */
export class TrackerSet {
  readonly entries: { tracker: Tracker; weight?: number }[] = [];
  add(tracker: Tracker, weight?: number): void {
    this.entries.push({ tracker, weight });
  }
  evaluate(): { sum: number; faults: string[] } {
    let sum = 0;
    const faults: string[] = [];
    for (const e of this.entries) {
      const c =
        e.tracker instanceof ScriptTracker
          ? e.tracker.current(e.weight ?? e.tracker.cfg.weight)
          : e.tracker.current();
      sum += c.weight;
      if (c.fault) faults.push(e.tracker.name);
    }
    return { sum, faults };
  }
}

/** Production I/O: spawn with a kill on timeout, /sys/class/net operstate, plain files. */
export function realEnv(): TrackerEnv {
  const env: TrackerEnv = {
    exec(command, opts) {
      // Shell syntax is allowed: keepalived users write `</dev/tcp/host/port` checks.
      const argv = commandArgv(command, { shell: true, exists: realFs.exists });
      const ids = opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : undefined;
      return spawnScript(argv, { ids, timeoutMs: opts.timeoutMs }).then(
        (r) => ({ code: r.code ?? null, timedOut: r.timedOut }),
        () => ({ code: null, timedOut: false }),
      );
    },
    readFile(path) {
      try {
        return readFileSync(path, "utf8");
      } catch {
        return undefined;
      }
    },
    linkUp(ifname) {
      const s = env.readFile(`/sys/class/net/${ifname}/operstate`)?.trim();
      // "unknown" is what loopback and some virtual links report while working.
      return s === "up" || s === "unknown";
    },
    stat: realFs.stat,
    exists: realFs.exists,
  };
  return env;
}

/** What TrackerBinding drives: VrrpInstance satisfies it. */
export interface PrioritySink {
  setTrackerSum(sum: number): void;
  setFault(source: string, on: boolean): void;
}

/** Pushes a TrackerSet's state into an instance; call refresh() whenever a tracker changes. */
export class TrackerBinding {
  private faults = new Set<string>();
  constructor(
    readonly set: TrackerSet,
    private readonly sink: PrioritySink,
  ) {}
  refresh(): void {
    const { sum, faults } = this.set.evaluate();
    const now = new Set(faults.map((f) => `track:${f}`));
    for (const f of now) if (!this.faults.has(f)) this.sink.setFault(f, true);
    for (const f of this.faults) if (!now.has(f)) this.sink.setFault(f, false);
    this.faults = now;
    this.sink.setTrackerSum(sum);
  }
}
