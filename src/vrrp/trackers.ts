/**
 * Trackers that move an instance's priority or put it in FAULT (keepalived.conf(5):
 * vrrp_script / track_script, track_interface, track_file). Sign semantics, as keepalived:
 *   weight > 0: add weight while the check succeeds;  weight < 0: add it while it fails;
 *   weight = 0: a failure forces FAULT. track_file: value × weight is added; weight 0 and a
 *   non-zero value forces FAULT.
 * I/O (exec, files, link state) is injected; realEnv() gives the production one.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import type { Clock, TimerHandle } from "./clock.js";
import { checkScriptSecurity, needsShell, scriptExecutable } from "./script-security.js";

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
  insecure(runAsUid = this.cfg.uid ?? 0): string | undefined {
    const shell = needsShell(this.cfg.script);
    const exe = scriptExecutable(this.cfg.script, (p) => this.env.exists(p));
    const paths = [shell ? shellPath(this.env) : undefined, exe].filter((x): x is string => !!x);
    if (paths.length === 0) return `cannot find the executable of "${this.cfg.script}"`;
    for (const p of paths) {
      const v = checkScriptSecurity(p, (x) => this.env.stat(x), runAsUid);
      if (!v.ok) return `${v.path}: ${v.why}`;
    }
    return undefined;
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

function shellPath(env: TrackerEnv): string {
  // `</dev/tcp/host/port` checks (seed 004) need bash; Debian's /bin/sh is dash.
  return env.exists("/bin/bash") ? "/bin/bash" : "/bin/sh";
}

/** Production I/O: spawn with a kill on timeout, /sys/class/net operstate, plain files. */
export function realEnv(): TrackerEnv {
  const env: TrackerEnv = {
    exec(command, opts) {
      return new Promise((resolve) => {
        const shell = needsShell(command);
        const argv = shell ? [shellPath(env), "-c", command] : command.trim().split(/\s+/);
        const child = spawn(argv[0], argv.slice(1), {
          stdio: "ignore",
          uid: opts.uid,
          gid: opts.gid,
          detached: true,
        });
        let timedOut = false;
        const t = setTimeout(() => {
          timedOut = true;
          // Kill the whole process group: a shell's children must not outlive the check.
          try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
          } catch {
            child.kill("SIGKILL");
          }
        }, opts.timeoutMs);
        child.on("error", () => {
          clearTimeout(t);
          resolve({ code: null, timedOut });
        });
        child.on("close", (code) => {
          clearTimeout(t);
          resolve({ code, timedOut });
        });
      });
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
    stat(path) {
      try {
        const s = statSync(path);
        return { uid: s.uid, gid: s.gid, mode: s.mode };
      } catch {
        return undefined;
      }
    },
    exists: (p) => existsSync(p),
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
