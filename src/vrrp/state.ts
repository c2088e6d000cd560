/**
 * The VRRP router state machine (RFC 3768 §6.4, RFC 5798 §6.4 as updated by RFC 9568) plus
 * keepalived's FAULT state, preemption controls and tracker priorities. Pure: no sockets; time
 * comes from an injected Clock and every effect is an Action handed to `emit`.
 */
import assert from "node:assert";
import { compareIp } from "./addr.js";
import type { Clock, TimerHandle } from "./clock.js";
import { effectivePriority, masterDownIntervalMs, skewTimeMs } from "./timing.js";

export type VrrpState = "INIT" | "BACKUP" | "MASTER" | "FAULT";

export interface GarpSchedule {
  /** Bursts relative to the transition: keepalived sends garp_master_repeat at once and again after garp_master_delay. */
  bursts: { afterMs: number; count: number }[];
  /** garp_master_refresh: repeat while master; 0 = never. */
  refreshMs: number;
}

export type Action =
  | { type: "advert"; priority: number }
  | { type: "add_vips" }
  | { type: "remove_vips" }
  | { type: "garp"; schedule: GarpSchedule }
  | { type: "state"; from: VrrpState; to: VrrpState; reason: string }
  /** Run notify_<state> and the generic notify with keepalived's args: INSTANCE name STATE priority. */
  | { type: "notify"; state: "MASTER" | "BACKUP" | "FAULT" | "STOP"; argv: string[] };

export interface InstanceConfig {
  name: string;
  version: 2 | 3;
  vrid: number;
  /** Configured priority 1..255; 255 = address owner. */
  priority: number;
  /** Our advert interval in centiseconds. */
  adverIntCs: number;
  /** keepalived `state`: accepted for compatibility; startup timing is the same for both. */
  initialState: "MASTER" | "BACKUP";
  nopreempt: boolean;
  preemptDelayMs: number;
  /** Our primary address on the interface (the advert's IP source), for the tie-break. */
  primaryIp: string;
  garpRepeat?: number;
  garpDelayMs?: number;
  garpRefreshMs?: number;
}

export interface AdvertEvent {
  priority: number;
  src: string;
  adverIntCs: number;
}

/** Notified on every transition; sync groups use it to move their members together. */
export type TransitionListener = (inst: VrrpInstance, from: VrrpState, to: VrrpState) => void;

export class VrrpInstance {
  state: VrrpState = "INIT";
  private trackerSum = 0;
  private readonly faults = new Set<string>();
  private masterAdverCs: number;
  private adverTimer: TimerHandle | undefined;
  private downTimer: TimerHandle | undefined;
  private startedAt = 0;
  /** When we first saw the current lower-priority master (preempt_delay). */
  private lowerSince: number | undefined;
  /** forceBackup(): an operator keeps this router out of MASTER (admin API "drain"). */
  private held = false;
  /** Set while a sync group moves us, to avoid echoing the move back. */
  inGroupMove = false;
  readonly listeners: TransitionListener[] = [];

  constructor(
    readonly cfg: InstanceConfig,
    private readonly clock: Clock,
    private readonly emit: (a: Action) => void,
  ) {
    assert(cfg.priority >= 1 && cfg.priority <= 255, "priority must be 1..255");
    assert(cfg.adverIntCs >= 1 && cfg.adverIntCs <= 4095, "advert interval must fit 12 bits");
    this.masterAdverCs = cfg.adverIntCs;
  }

  get priority(): number {
    return effectivePriority(this.cfg.priority, this.trackerSum);
  }

  get masterDownMs(): number {
    return masterDownIntervalMs(this.cfg.version, this.priority, this.masterAdverCs);
  }

  get skewMs(): number {
    return skewTimeMs(this.cfg.version, this.priority, this.masterAdverCs);
  }

  /** Startup event (RFC 5798 §6.4.1). */
  startup(): void {
    assert.equal(this.state, "INIT");
    this.startedAt = this.clock.now();
    if (this.faults.size > 0) {
      this.toFault("fault at startup");
      return;
    }
    // RFC 5798 §6.4.1: only the address owner (255) starts as Master. keepalived's `state
    // MASTER` does not change this: keepalived 2.2.7 measured in a namespace sends its first
    // advert ~3.6 s after start with either state (priority 100, advert_int 1).
    if (this.priority === 255) this.toMaster("startup, address owner");
    else this.toBackup("startup");
  }

  /** Shutdown event: a Master sends priority 0 so backups wait only Skew_Time (§6.4.3). */
  shutdown(): void {
    const from = this.state;
    this.clearTimers();
    if (from === "MASTER") {
      this.emit({ type: "advert", priority: 0 });
      this.emit({ type: "remove_vips" });
    }
    this.state = "INIT";
    this.emit({ type: "state", from, to: "INIT", reason: "shutdown" });
    this.emit({ type: "notify", state: "STOP", argv: this.argv("STOP") });
  }

  /** A validated advert for our VRID. */
  receiveAdvert(ev: AdvertEvent): void {
    if (this.state === "BACKUP") this.backupAdvert(ev);
    else if (this.state === "MASTER") this.masterAdvert(ev);
    // INIT and FAULT ignore adverts (§6.4.1; keepalived's FAULT does not listen).
  }

  /** The sum of tracker weights changed (trackers.ts). */
  setTrackerSum(sum: number): void {
    const before = this.priority;
    this.trackerSum = sum;
    if (this.priority === before) return;
    if (this.state === "MASTER") {
      // Tell the backups at once so a now-better backup can preempt without waiting a tick.
      this.emit({ type: "advert", priority: this.priority });
    } else if (this.state === "BACKUP" && this.downTimer) {
      this.armDown(this.masterDownMs);
    }
  }

  /** A fault source (weight-0 tracker, interface down) switched on or off. */
  setFault(source: string, on: boolean): void {
    const was = this.faults.size > 0;
    if (on) this.faults.add(source);
    else this.faults.delete(source);
    const is = this.faults.size > 0;
    if (was === is || this.state === "INIT") return;
    if (is) this.toFault(`fault: ${source}`);
    else if (this.priority === 255) this.toMaster("fault cleared, address owner");
    else this.toBackup("fault cleared");
  }

  get faulted(): boolean {
    return this.faults.size > 0;
  }

  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Operator hold: leave MASTER the way a shutdown does (priority-0 advert, so a backup takes
   * over after Skew_Time, RFC 5798 §6.4.3) and stay BACKUP, still listening, until released.
   */
  forceBackup(on: boolean): void {
    this.held = on;
    if (!on) {
      if (this.state === "BACKUP" && !this.downTimer) this.armDown(this.masterDownMs);
      return;
    }
    if (this.state !== "MASTER") return;
    this.emit({ type: "advert", priority: 0 });
    this.toBackup("forced to backup by operator");
  }

  /** Sync-group moves (vrrp_sync_group): follow a sibling's transition. */
  groupMove(to: "MASTER" | "BACKUP" | "FAULT", why: string): void {
    if (this.state === to || this.state === "INIT") return;
    if (to === "MASTER" && this.held) return;
    this.inGroupMove = true;
    try {
      if (to === "MASTER") this.toMaster(why);
      else if (to === "BACKUP") this.toBackup(why);
      else this.toFault(why);
    } finally {
      this.inGroupMove = false;
    }
  }

  private backupAdvert(ev: AdvertEvent): void {
    if (ev.priority === 0) {
      // §6.4.2: the master is leaving; take over after Skew_Time only.
      this.armDown(this.skewMs);
      return;
    }
    const mine = this.priority;
    const preemptNow = !this.cfg.nopreempt && ev.priority < mine && this.preemptAllowed();
    if (!preemptNow) {
      if (ev.priority >= mine) this.lowerSince = undefined;
      // v3: learn the master's interval (RFC 5798 §6.4.2 as fixed by RFC 9568 §3).
      if (this.cfg.version === 3) this.masterAdverCs = ev.adverIntCs || this.cfg.adverIntCs;
      this.armDown(this.masterDownMs);
    }
    // Otherwise discard: our Master_Down_Timer expires and we preempt.
  }

  private preemptAllowed(): boolean {
    const now = this.clock.now();
    if (this.cfg.preemptDelayMs <= 0) return true;
    this.lowerSince ??= now;
    // keepalived: preempt_delay counts from startup or from first seeing the lower master.
    return now >= Math.max(this.startedAt, this.lowerSince) + this.cfg.preemptDelayMs;
  }

  private masterAdvert(ev: AdvertEvent): void {
    if (ev.priority === 0) {
      // §6.4.3: another master is leaving; re-assert at once.
      this.emit({ type: "advert", priority: this.priority });
      this.armAdver();
      return;
    }
    const mine = this.priority;
    const theyWin =
      ev.priority > mine || (ev.priority === mine && compareIp(ev.src, this.cfg.primaryIp) > 0);
    if (!theyWin) return;
    if (this.cfg.version === 3) this.masterAdverCs = ev.adverIntCs || this.cfg.adverIntCs;
    this.toBackup(`higher priority advert from ${ev.src} (${ev.priority})`);
  }

  private toMaster(reason: string): void {
    const from = this.state;
    this.clearTimers();
    this.lowerSince = undefined;
    this.state = "MASTER";
    this.emit({ type: "state", from, to: "MASTER", reason });
    this.emit({ type: "add_vips" });
    // §6.4.2 "Master_Down_Timer fires": send an advert, broadcast gratuitous ARP, arm Adver_Timer.
    this.emit({ type: "advert", priority: this.priority });
    const repeat = this.cfg.garpRepeat ?? 5;
    this.emit({
      type: "garp",
      schedule: {
        bursts: [
          { afterMs: 0, count: repeat },
          { afterMs: this.cfg.garpDelayMs ?? 5000, count: repeat },
        ],
        refreshMs: this.cfg.garpRefreshMs ?? 0,
      },
    });
    this.armAdver();
    this.emit({ type: "notify", state: "MASTER", argv: this.argv("MASTER") });
    this.fire(from, "MASTER");
  }

  private toBackup(reason: string): void {
    const from = this.state;
    this.clearTimers();
    this.state = "BACKUP";
    this.emit({ type: "state", from, to: "BACKUP", reason });
    if (from === "MASTER") this.emit({ type: "remove_vips" });
    if (from !== "MASTER") this.masterAdverCs = this.cfg.adverIntCs;
    this.armDown(this.masterDownMs);
    this.emit({ type: "notify", state: "BACKUP", argv: this.argv("BACKUP") });
    this.fire(from, "BACKUP");
  }

  private toFault(reason: string): void {
    const from = this.state;
    this.clearTimers();
    if (from === "MASTER") {
      // keepalived leaves MASTER with a priority-0 advert so a backup takes over in Skew_Time.
      this.emit({ type: "advert", priority: 0 });
      this.emit({ type: "remove_vips" });
    }
    this.state = "FAULT";
    this.emit({ type: "state", from, to: "FAULT", reason });
    this.emit({ type: "notify", state: "FAULT", argv: this.argv("FAULT") });
    this.fire(from, "FAULT");
  }

  private fire(from: VrrpState, to: VrrpState): void {
    for (const l of this.listeners) l(this, from, to);
  }

  private argv(state: string): string[] {
    return ["INSTANCE", this.cfg.name, state, String(this.priority)];
  }

  private armAdver(): void {
    if (this.adverTimer) this.clock.clearTimer(this.adverTimer);
    this.adverTimer = this.clock.setTimer(() => {
      this.adverTimer = undefined;
      if (this.state !== "MASTER") return;
      this.emit({ type: "advert", priority: this.priority });
      this.armAdver();
    }, this.cfg.adverIntCs * 10);
  }

  private armDown(ms: number): void {
    if (this.downTimer) this.clock.clearTimer(this.downTimer);
    this.downTimer = this.clock.setTimer(() => {
      this.downTimer = undefined;
      if (this.state === "BACKUP" && !this.held) this.toMaster("master down timer expired");
    }, ms);
  }

  private clearTimers(): void {
    if (this.adverTimer) this.clock.clearTimer(this.adverTimer);
    if (this.downTimer) this.clock.clearTimer(this.downTimer);
    this.adverTimer = undefined;
    this.downTimer = undefined;
  }
}
