/**
 * VRRP on a live host: builds a Router (router.ts) per configured instance, the shared
 * vrrp_script trackers, track_interface / track_file polling, sync groups and notify scripts,
 * and starts them. `stop()` leaves MASTER with priority-0 adverts (RFC 5798 §6.4.3, fast
 * takeover) and removes the VIPs; `forceBackup()` is the admin API's drain; `status()` feeds
 * the dashboard.
 */
import type { VrrpConfig, VrrpInstanceConfig } from "../config/index.js";
import { KeepcacheError } from "../errors.js";
import type { Logger } from "../log.js";
import { scriptSecurityProblem } from "../scripts/security.js";
import { lookupUser, type UserIds } from "../scripts/users.js";
import { type Clock, RealClock, type TimerHandle } from "./clock.js";
import { scriptConfig } from "./from-config.js";
import { Router, type RouterStatus } from "./router.js";
import { primaryIpv4 } from "./socket.js";
import type { Action } from "./state.js";
import { SyncGroup } from "./sync.js";
import {
  FileTracker,
  InterfaceTracker,
  realEnv,
  ScriptTracker,
  TrackerBinding,
  type TrackerEnv,
  TrackerSet,
} from "./trackers.js";

export type { RouterStatus as VrrpInstanceStatus } from "./router.js";

export interface VrrpRuntime {
  /** One entry per instance, in config order. */
  status(): RouterStatus[];
  /** Admin drain: hold `instance` in BACKUP (true) or release it (false). Throws if unknown. */
  forceBackup(instance: string, on?: boolean): void;
  /**
   * SIGHUP: applies a new config as keepalived's reload does. Unchanged instances carry on
   * untouched (their VIPs never leave); removed and changed ones stop with a priority-0
   * advert; new and changed ones start. Rejects, changing nothing, when `next` is invalid.
   */
  reload(next: VrrpConfig): Promise<VrrpReloadSummary>;
  /** Priority-0 adverts, VIPs removed, trackers and sockets closed. Idempotent. */
  stop(): Promise<void>;
}

export interface VrrpRuntimeOptions {
  clock?: Clock;
  env?: TrackerEnv;
  /** How often track_interface / track_file are re-read (keepalived uses netlink/inotify). */
  pollMs?: number;
}

type Notify = Extract<Action, { type: "notify" }>;

/** keepalived's notify: notify_<state> as written; the generic `notify` gets the four args. */
function notifyCommands(
  scripts: {
    notify_master?: string;
    notify_backup?: string;
    notify_fault?: string;
    notify_stop?: string;
    notify?: string;
  },
  a: Notify,
): string[] {
  const specific = {
    MASTER: scripts.notify_master,
    BACKUP: scripts.notify_backup,
    FAULT: scripts.notify_fault,
    STOP: scripts.notify_stop,
  }[a.state];
  const out: string[] = [];
  if (specific) out.push(specific);
  if (scripts.notify) out.push(`${scripts.notify} ${a.argv.map(shellWord).join(" ")}`);
  return out;
}

function shellWord(s: string): string {
  return /^[\w.:@%+=,/-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

function userIds(name: string | undefined): UserIds | undefined {
  if (name === undefined) return undefined;
  const ids = lookupUser(name);
  if (!ids)
    throw new KeepcacheError("KC_CONFIG_INVALID", `vrrp script user '${name}' does not exist`);
  return ids;
}

/** enable_script_security: every script and notify command must be safe to run as root. */
function securityProblems(config: VrrpConfig, env: TrackerEnv): string[] {
  const problems: string[] = [];
  const check = (what: string, command: string, runAs?: UserIds) => {
    const why = scriptSecurityProblem(command, {
      stat: (p) => env.stat(p),
      exists: (p) => env.exists(p),
      shell: true,
      ...(runAs ? { runAs } : {}),
    });
    if (why) problems.push(`${what}: ${why}`);
  };
  for (const [name, s] of Object.entries(config.scripts))
    check(`vrrp_script ${name}`, s.script, userIds(s.user));
  const notifies = [...config.instances, ...config.sync_groups];
  for (const n of notifies) {
    for (const key of [
      "notify_master",
      "notify_backup",
      "notify_fault",
      "notify_stop",
      "notify",
    ] as const) {
      const cmd = n[key];
      if (cmd) check(`${n.name} ${key}`, cmd);
    }
  }
  return problems;
}

function sourceAddress(c: VrrpInstanceConfig, vips: string[]): string {
  if (c.unicast_src_ip) return c.unicast_src_ip;
  const ip = primaryIpv4(c.interface, vips);
  if (!ip)
    throw new KeepcacheError(
      "KC_VRRP",
      `${c.name}: interface ${c.interface} has no IPv4 address to send adverts from`,
    );
  return ip;
}

/** What a reload did, by instance name. */
export interface VrrpReloadSummary {
  kept: string[];
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * Everything an instance's behaviour depends on: its own config, the vrrp_scripts it tracks,
 * and its sync group with every member's config (a group moves its members together, so one
 * changed member rebuilds the group). Equal signatures across a reload = the instance stays.
 */
function signature(c: VrrpInstanceConfig, config: VrrpConfig): string {
  const group = config.sync_groups.find((g) => g.group.includes(c.name));
  return JSON.stringify({
    c,
    scripts: c.track_script.map((t) => [t.name, config.scripts[t.name]]),
    group: group && {
      group,
      members: group.group.map((n) => config.instances.find((i) => i.name === n)),
    },
  });
}

interface Unit {
  router: Router;
  binding: TrackerBinding;
  signature: string;
}

interface ScriptEntry {
  tracker: ScriptTracker;
  signature: string;
}

export async function startVrrp(
  config: VrrpConfig,
  log: Logger,
  opts: VrrpRuntimeOptions = {},
): Promise<VrrpRuntime> {
  const clock = opts.clock ?? new RealClock();
  const env = opts.env ?? realEnv();
  const root = process.getuid?.() === 0;
  let current: VrrpConfig = { ...config, instances: [], sync_groups: [], scripts: {} };
  /** In config order (status() lists them so). */
  let units = new Map<string, Unit>();
  let scripts = new Map<string, ScriptEntry>();
  const refreshAll = () => {
    for (const u of units.values()) u.binding.refresh();
  };

  const runNotify = (commands: string[]) => {
    for (const cmd of commands) {
      env.exec(cmd, { timeoutMs: 60_000 }).then(
        (r) => {
          if (r.code !== 0)
            log.warn({ cmd, code: r.code, timedOut: r.timedOut }, "notify script failed");
        },
        (err: unknown) => log.warn({ err, cmd }, "notify script failed"),
      );
    }
  };

  const checkSecurity = (next: VrrpConfig) => {
    if (!root) return;
    const problems = securityProblems(next, env);
    if (problems.length && next.enable_script_security) {
      throw new KeepcacheError(
        "KC_PERMISSION",
        `enable_script_security: refusing scripts a non-root user could change:\n  ${problems.join("\n  ")}`,
      );
    }
    // keepalived runs them anyway without enable_script_security, with this warning.
    for (const p of problems) log.warn(`SECURITY: ${p} (set enable_script_security to refuse it)`);
  };

  /**
   * Moves from `current` to `next`, keepalived's reload: an instance whose signature is
   * unchanged is not touched (its state, VIPs and timers carry on); a removed or changed one
   * stops as on shutdown (priority-0 advert, VIPs removed); a new or changed one starts. All
   * new routers are built before anything stops, so an invalid instance refuses the whole
   * reload with nothing changed.
   */
  const apply = async (next: VrrpConfig, initial: boolean): Promise<VrrpReloadSummary> => {
    checkSecurity(next);
    const sigs = new Map(next.instances.map((c) => [c.name, signature(c, next)]));
    const kept = new Set(
      [...sigs].filter(([n, sig]) => units.get(n)?.signature === sig).map(([n]) => n),
    );
    const gone = [...units.keys()].filter((n) => !kept.has(n));
    const fresh = next.instances.filter((c) => !kept.has(c.name));

    const nextScripts = new Map<string, ScriptEntry>();
    const startedScripts: ScriptTracker[] = [];
    for (const c of next.instances) {
      for (const t of c.track_script) {
        const sc = next.scripts[t.name];
        if (!sc)
          throw new KeepcacheError(
            "KC_CONFIG_INVALID",
            `${c.name}: track_script '${t.name}' is not defined`,
          );
        if (nextScripts.has(t.name)) continue;
        const sig = JSON.stringify(sc);
        const old = scripts.get(t.name);
        if (old?.signature === sig) {
          nextScripts.set(t.name, old);
          continue;
        }
        const tracker = new ScriptTracker(scriptConfig(t.name, sc, userIds(sc.user)), env, clock);
        tracker.listeners.push(refreshAll);
        startedScripts.push(tracker);
        nextScripts.set(t.name, { tracker, signature: sig });
      }
    }

    const built = new Map<string, Unit>();
    for (const c of fresh) {
      const vips = c.virtual_ipaddress.map((l) => l.trim().split(/[\s/]/)[0]);
      const router = new Router(c, {
        clock,
        log,
        src: sourceAddress(c, vips),
        notify: (a) => runNotify(notifyCommands(c, a)),
      });
      const set = new TrackerSet();
      // keepalived puts an instance in FAULT while its own interface is down.
      set.add(new InterfaceTracker(c.interface, 0, env));
      for (const t of c.track_interface) set.add(new InterfaceTracker(t.name, t.weight ?? 0, env));
      for (const f of c.track_file) set.add(new FileTracker(f.path, f.weight, env));
      for (const t of c.track_script) {
        const e = nextScripts.get(t.name);
        if (e) set.add(e.tracker, t.weight);
      }
      built.set(c.name, {
        router,
        binding: new TrackerBinding(set, router.inst),
        signature: sigs.get(c.name) ?? "",
      });
    }
    // Groups with a new or changed member: every member is new (the signature has the group).
    for (const g of next.sync_groups) {
      const members = g.group.map((n) => built.get(n)?.router.inst);
      if (members.some((m) => m === undefined)) continue;
      new SyncGroup(
        g.name,
        members.filter((m) => m !== undefined),
        (a) => {
          if (a.type === "notify") runNotify(notifyCommands(g, a));
        },
      );
    }

    // Stop what leaves: priority-0 adverts and VIP removal, as on shutdown.
    await Promise.all(gone.map((n) => units.get(n)?.router.stop(current.shutdown_adverts)));
    for (const [name, e] of scripts) if (nextScripts.get(name) !== e) e.tracker.stop();
    scripts = nextScripts;

    // Initial tracker state before startup, so a down interface starts in FAULT.
    for (const u of built.values()) u.binding.refresh();
    const next_ = new Map<string, Unit>();
    const failed: unknown[] = [];
    for (const c of next.instances) {
      const old = units.get(c.name);
      if (kept.has(c.name) && old) {
        next_.set(c.name, old);
        continue;
      }
      const u = built.get(c.name);
      if (!u) continue;
      try {
        await u.router.start();
        next_.set(c.name, u);
      } catch (err) {
        if (initial) {
          for (const s of next_.values()) await s.router.stop(next.shutdown_adverts);
          for (const t of startedScripts) t.stop();
          throw err;
        }
        failed.push(err);
        log.error({ err, instance: c.name }, "VRRP instance failed to start");
      }
    }
    units = next_;
    current = next;
    for (const t of startedScripts) t.start();
    return {
      kept: [...kept],
      added: fresh.filter((c) => !gone.includes(c.name)).map((c) => c.name),
      changed: fresh.filter((c) => gone.includes(c.name)).map((c) => c.name),
      removed: gone.filter((n) => !sigs.has(n)),
    };
  };

  await apply(config, true);

  const pollMs = opts.pollMs ?? 500;
  let poll: TimerHandle | undefined;
  const tick = () => {
    refreshAll();
    poll = clock.setTimer(tick, pollMs);
  };
  poll = clock.setTimer(tick, pollMs);

  let stopping: Promise<void> | undefined;
  let reloading: Promise<unknown> = Promise.resolve();
  const routers = () => [...units.values()].map((u) => u.router);
  log.info({ instances: routers().map((r) => r.status()) }, "VRRP started");
  return {
    status: () => routers().map((r) => r.status()),
    forceBackup(instance, on = true) {
      const r = units.get(instance)?.router;
      if (!r) throw new KeepcacheError("KC_VRRP", `no VRRP instance named '${instance}'`);
      log.info({ instance, hold: on }, on ? "operator: hold in BACKUP" : "operator: release hold");
      r.inst.forceBackup(on);
    },
    reload(next) {
      if (stopping) return Promise.reject(new KeepcacheError("KC_VRRP", "VRRP is stopping"));
      const r = reloading.then(() => apply(next, false));
      reloading = r.catch(() => {});
      return r.then((sum) => {
        log.info(sum, "VRRP reloaded");
        return sum;
      });
    },
    stop() {
      stopping ??= (async () => {
        await reloading;
        if (poll) clock.clearTimer(poll);
        for (const e of scripts.values()) e.tracker.stop();
        await Promise.all(routers().map((r) => r.stop(current.shutdown_adverts)));
        log.info("VRRP stopped");
      })();
      return stopping;
    },
  };
}
