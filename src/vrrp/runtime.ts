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

export async function startVrrp(
  config: VrrpConfig,
  log: Logger,
  opts: VrrpRuntimeOptions = {},
): Promise<VrrpRuntime> {
  const clock = opts.clock ?? new RealClock();
  const env = opts.env ?? realEnv();
  const root = process.getuid?.() === 0;
  if (root) {
    const problems = securityProblems(config, env);
    if (problems.length && config.enable_script_security) {
      throw new KeepcacheError(
        "KC_PERMISSION",
        `enable_script_security: refusing scripts a non-root user could change:\n  ${problems.join("\n  ")}`,
      );
    }
    // keepalived runs them anyway without enable_script_security, with this warning.
    for (const p of problems) log.warn(`SECURITY: ${p} (set enable_script_security to refuse it)`);
  }

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

  const routers: Router[] = [];
  for (const c of config.instances) {
    const vips = c.virtual_ipaddress.map((l) => l.trim().split(/[\s/]/)[0]);
    routers.push(
      new Router(c, {
        clock,
        log,
        src: sourceAddress(c, vips),
        notify: (a) => runNotify(notifyCommands(c, a)),
      }),
    );
  }
  const byName = new Map(routers.map((r) => [r.cfg.name, r]));

  for (const g of config.sync_groups) {
    const members = g.group.map((n) => byName.get(n)?.inst).filter((x) => x !== undefined);
    new SyncGroup(g.name, members, (a) => {
      if (a.type === "notify") runNotify(notifyCommands(g, a));
    });
  }

  const scripts = new Map<string, ScriptTracker>();
  const bindings: TrackerBinding[] = [];
  const bindingOf = new Map<ScriptTracker, TrackerBinding[]>();
  for (const r of routers) {
    const set = new TrackerSet();
    const binding = new TrackerBinding(set, r.inst);
    // keepalived puts an instance in FAULT while its own interface is down.
    set.add(new InterfaceTracker(r.cfg.interface, 0, env));
    for (const t of r.cfg.track_interface)
      set.add(new InterfaceTracker(t.name, t.weight ?? 0, env));
    for (const f of r.cfg.track_file) set.add(new FileTracker(f.path, f.weight, env));
    for (const t of r.cfg.track_script) {
      const sc = config.scripts[t.name];
      if (!sc)
        throw new KeepcacheError(
          "KC_CONFIG_INVALID",
          `${r.cfg.name}: track_script '${t.name}' is not defined`,
        );
      let tracker = scripts.get(t.name);
      if (!tracker) {
        tracker = new ScriptTracker(scriptConfig(t.name, sc, userIds(sc.user)), env, clock);
        scripts.set(t.name, tracker);
      }
      set.add(tracker, t.weight);
      const list = bindingOf.get(tracker) ?? [];
      list.push(binding);
      bindingOf.set(tracker, list);
    }
    bindings.push(binding);
  }
  for (const [tracker, list] of bindingOf)
    tracker.listeners.push(() => {
      for (const b of list) b.refresh();
    });

  // Initial tracker state before startup, so a down interface starts in FAULT.
  for (const b of bindings) b.refresh();
  const started: Router[] = [];
  try {
    for (const r of routers) {
      await r.start();
      started.push(r);
    }
  } catch (err) {
    for (const r of started) await r.stop(config.shutdown_adverts);
    throw err;
  }
  for (const t of scripts.values()) t.start();

  const pollMs = opts.pollMs ?? 500;
  let poll: TimerHandle | undefined;
  const tick = () => {
    for (const b of bindings) b.refresh();
    poll = clock.setTimer(tick, pollMs);
  };
  poll = clock.setTimer(tick, pollMs);

  let stopping: Promise<void> | undefined;
  log.info({ instances: routers.map((r) => r.status()) }, "VRRP started");
  return {
    status: () => routers.map((r) => r.status()),
    forceBackup(instance, on = true) {
      const r = byName.get(instance);
      if (!r) throw new KeepcacheError("KC_VRRP", `no VRRP instance named '${instance}'`);
      log.info({ instance, hold: on }, on ? "operator: hold in BACKUP" : "operator: release hold");
      r.inst.forceBackup(on);
    },
    stop() {
      stopping ??= (async () => {
        if (poll) clock.clearTimer(poll);
        for (const t of scripts.values()) t.stop();
        await Promise.all(routers.map((r) => r.stop(config.shutdown_adverts)));
        log.info("VRRP stopped");
      })();
      return stopping;
    },
  };
}
