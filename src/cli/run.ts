/**
 * `keepcache run -c FILE`: runs what FILE describes (a nutcracker.yml unchanged, or keepcache's
 * native YAML): every proxy pool, every `tcp:` service, and the twemproxy-compatible stats port
 * (nutcracker's -s/--stats-port and -a/--stats-addr, same defaults), and with `admin:` in the
 * YAML or --admin HOST:PORT the dashboard, /metrics and action API (src/admin/run-admin.ts).
 *
 * Signals: SIGHUP reopens log.file, re-reads and validates FILE; an invalid file is logged and
 * the running config stays; a valid one is swapped in without dropping client connections, and
 * its VRRP instances are applied as keepalived's reload does (unchanged instances keep their
 * VIPs; vrrp/runtime.ts reload). SIGUSR1 writes a state dump (signals.ts). SIGTERM/SIGINT stop:
 * VIPs first.
 */
import { type AdminListen, parseAdminListen } from "../admin/listen.js";
import type { RunAdmin } from "../admin/run-admin.js";
import type { Config } from "../config/index.js";
import { ConfigErrors, ConfigReadError } from "../config/load.js";
import { KeepcacheError, UsageError } from "../errors.js";
import { child, configureLog, type Logger } from "../log.js";
import type { ProxyService } from "../proxy/proxy.js";
import { NUTCRACKER_FLAGS, nutcrackerVerbose } from "./compat.js";
import { daemonize, writePidFile } from "./daemon.js";
import { poolsDump, tcpDump, workersDump } from "./dumps.js";
import { logLevel, parseFlags } from "./flags.js";
import { leaveCleanlyOnCrash, logReloadRefused } from "./lifecycle.js";
import { addDumpSection, onSighup, sighupSettled } from "./signals.js";
import { parseIntFlag } from "./size.js";
import { loadConfigOrKeepalived } from "./vrrp.js";

export const runUsage = `usage: keepcache run -c FILE [options]

  -c, --conf-file FILE    config: keepcache YAML, a twemproxy nutcracker.yml or a keepalived.conf
  -s, --stats-port N      twemproxy-compatible stats port (default 22222; 0 = any free port)
  -a, --stats-addr ADDR   stats address (default 127.0.0.1)
  --admin HOST:PORT       dashboard, /metrics and JSON API (overrides admin.listen;
                          action token: admin.token or env KEEPCACHE_ADMIN_TOKEN)
  -v, --verbose           log more (-vv for debug traces; nutcracker's -v N works too)
  -t, --test-conf         check the config and exit, as \`keepcache check\`
  -d, --daemonize         run in the background (for init scripts; not under systemd)
  -p, --pid-file FILE     write the pid to FILE
  -o, --output FILE       with -d: append the log to FILE
  -h, --help              show this help

nutcracker's -D, -i N and -m N are accepted and ignored with a warning.`;

interface RunArgs {
  file: string;
  statsPort: number;
  statsAddr: string;
  verbosity: number;
  admin: AdminListen | undefined;
  testConf: boolean;
  daemonize: boolean;
  pidFile: string | undefined;
  output: string | undefined;
}

const RUN_FLAGS = {
  "conf-file": { type: "string", short: "c" },
  "stats-port": { type: "string", short: "s" },
  "stats-addr": { type: "string", short: "a" },
  admin: { type: "string" },
  verbose: { type: "boolean", short: "v", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

function parseRunArgs(argv: string[]): RunArgs {
  const v = parseFlags(nutcrackerVerbose(argv), RUN_FLAGS, runUsage, { flags: NUTCRACKER_FLAGS });
  if (!v["conf-file"]) throw new UsageError(`missing -c FILE\n\n${runUsage}`);
  return {
    file: v["conf-file"],
    statsPort:
      v["stats-port"] === undefined
        ? 22222
        : parseIntFlag("-s/--stats-port", v["stats-port"], 0, 65535),
    statsAddr: v["stats-addr"] ?? "127.0.0.1",
    verbosity: v.verbose?.length ?? 0,
    admin: v.admin === undefined ? undefined : parseAdminListen("--admin", v.admin),
    testConf: v["test-conf"] === true,
    daemonize: v.daemonize === true,
    pidFile: v["pid-file"],
    output: v.output,
  };
}

/** Loads FILE; on failure logs every problem and returns undefined. */
async function load(file: string, log: Logger): Promise<Config | undefined> {
  try {
    // A keepalived.conf is imported on the fly (the mapped parts, as `keepcache import`).
    return loadConfigOrKeepalived(file, log);
  } catch (err) {
    if (err instanceof ConfigErrors) {
      for (const e of err.errors) log.error({ file }, e.message);
      return undefined;
    }
    if (err instanceof ConfigReadError) {
      log.error({ file }, err.message);
      return undefined;
    }
    throw err;
  }
}

/** The `tcp:` services, started through src/tcp; restarted on reload when they changed. */
class TcpPart {
  balancer: import("../tcp/index.js").TcpBalancer | undefined;
  readonly addresses = new Map<string, string>();
  private shape = "[]";
  private workers: number | "auto" = 1;
  constructor(private readonly log: Logger) {}
  async apply(cfg: Config): Promise<void> {
    const shape = JSON.stringify([cfg.tcp, cfg.workers]);
    if (shape === this.shape) return;
    // A different worker count needs new processes: restart instead of reloading in place.
    if (this.balancer && cfg.tcp.length > 0 && this.workers === cfg.workers) {
      // SIGHUP: unchanged listeners keep their sockets and connections; changed servers and
      // settings apply to new connections (TcpBalancer.reload).
      const sum = await this.balancer.reload(Object.fromEntries(cfg.tcp.map((s) => [s.name, s])));
      this.shape = shape;
      this.addresses.clear();
      for (const [name, a] of this.balancer.addresses()) this.addresses.set(name, a);
      this.log.info(sum, "tcp services reloaded");
      return;
    }
    await this.stop();
    this.shape = shape;
    if (cfg.tcp.length === 0) return;
    const { TcpBalancer } = await import("../tcp/index.js");
    this.workers = cfg.workers;
    const b = new TcpBalancer(Object.fromEntries(cfg.tcp.map((s) => [s.name, s])), {
      workers: cfg.workers,
      onError: (err) => this.log.warn({ err }, "tcp balancer error"),
    });
    const addrs = await b.start();
    this.balancer = b;
    for (const [name, a] of addrs) {
      this.addresses.set(name, typeof a === "string" ? a : `${a.address}:${a.port}`);
      this.log.info({ service: name, listen: a }, "tcp service listening");
    }
  }
  async stop(): Promise<void> {
    await this.balancer?.stop();
    this.balancer = undefined;
    this.shape = "[]";
  }
}

/** The admin plane when --admin or `admin:` asks for it (the flag wins over the file). */
async function startAdmin(
  args: RunArgs,
  cfg: Config,
  proxy: ProxyService,
): Promise<RunAdmin | undefined> {
  const listen = args.admin ?? cfg.admin?.listen;
  if (listen === undefined) return undefined;
  const { RunAdmin } = await import("../admin/run-admin.js");
  return new RunAdmin(
    {
      listen,
      token: cfg.admin?.token ?? process.env.KEEPCACHE_ADMIN_TOKEN,
      metricsToken: cfg.admin?.metrics_token ?? process.env.KEEPCACHE_METRICS_TOKEN,
      source: args.admin !== undefined ? "--admin" : args.file,
      log: child("admin"),
    },
    proxy,
  );
}

/** The config's `log:` (file, format) and the level of every logger of this process. */
function applyLog(args: RunArgs, cfg: Config | undefined): void {
  configureLog({ ...cfg?.log, level: logLevel(args.verbosity, cfg?.log.level) });
}

/**
 * The `vrrp:` part across reloads: started when instances appear, reloaded in place (only
 * changed instances restart), stopped when the section goes. Builtin failover of a set with
 * failover_vrrp_instance is decided only by the proxy that holds that instance's MASTER role.
 */
class VrrpPart {
  runtime: import("../vrrp/runtime.js").VrrpRuntime | undefined;
  async apply(cfg: Config): Promise<void> {
    const want = cfg.vrrp?.instances.length ? cfg.vrrp : undefined;
    if (want === undefined) {
      await this.stop();
      return;
    }
    if (this.runtime !== undefined) {
      await this.runtime.reload(want);
      return;
    }
    const { startVrrp } = await import("../vrrp/runtime.js");
    const running = await startVrrp(want, child("vrrp"));
    this.runtime = running;
    const { setVrrpStatusSource } = await import("../failover/leader.js");
    setVrrpStatusSource(() => running.status());
  }
  async stop(): Promise<void> {
    const r = this.runtime;
    this.runtime = undefined;
    await r?.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`${runUsage}\n`);
    return 0;
  }
  const args = parseRunArgs(argv);
  // nutcracker -t: test the configuration and exit.
  if (args.testConf) return (await import("./check.js")).main(["-c", args.file]);
  const log = child("run");
  applyLog(args, undefined);
  const cfg = await load(args.file, log);
  if (cfg === undefined) return 2;
  // -d starts the same command in the background once the config is known to be valid.
  if (args.daemonize && daemonize(args.output) !== undefined) return 0;
  if (args.pidFile !== undefined) writePidFile(args.pidFile);
  applyLog(args, cfg);
  // Loaded once the config is valid: a refused file costs only its own parsing.
  const { ProxyService } = await import("../proxy/proxy.js");
  const { StatsServer } = await import("../proxy/stats.js");
  const proxy = new ProxyService(child("proxy"));
  const tcp = new TcpPart(log);
  const stats = new StatsServer(proxy);
  const vrrp = new VrrpPart();
  let admin: RunAdmin | undefined;
  let sentinel: import("../sentinel/server.js").SentinelServer | undefined;
  let current = cfg;
  const tcpView = {
    get balancer() {
      return tcp.balancer;
    },
    listen: (n: string) => tcp.addresses.get(n) ?? "",
  };
  try {
    // Before anything binds: a refused admin listener (no token off loopback) stops startup.
    admin = await startAdmin(args, cfg, proxy);
    // workers > 1: the pools' listeners are served by worker processes too (proxy/workers/).
    await proxy.start(cfg.pools, cfg.workers);
    if (cfg.sentinel !== undefined) {
      // In this (primary) process: the failover controllers it answers from live here.
      const { SentinelServer } = await import("../sentinel/server.js");
      sentinel = new SentinelServer(proxy, cfg.sentinel, child("sentinel"));
      await sentinel.listen();
      admin?.setSentinel(sentinel.counters);
    }
    await tcp.apply(cfg);
    admin?.setTcp(cfg, tcpView);
    const sa = await stats.listen(args.statsPort, args.statsAddr);
    log.info({ host: sa.address, port: sa.port }, "stats port listening");
    // VRRP last: take the VIP only once the services behind it listen.
    await vrrp.apply(cfg);
    admin?.setVrrp(vrrp.runtime);
    await admin?.listen();
  } catch (err) {
    await Promise.allSettled([
      vrrp.stop(),
      admin?.close(),
      sentinel?.close(),
      proxy.stop(),
      tcp.stop(),
      stats.close(),
    ]);
    // A port that cannot be opened or a refused setting: the CLI prints its one line.
    if (err instanceof KeepcacheError) throw err;
    log.error({ err }, "startup failed");
    return 1;
  }
  leaveCleanlyOnCrash(log, () => vrrp.stop());
  addDumpSection("pools", () => poolsDump(proxy));
  addDumpSection("tcp", () => tcpDump(tcp.balancer, current, tcpView.listen));
  addDumpSection("vrrp", () => vrrp.runtime?.status() ?? []);
  addDumpSection("workers", () => workersDump(proxy, tcp.balancer));
  admin?.configLoaded(true);
  log.info(
    {
      file: args.file,
      pools: cfg.pools.length,
      tcp: cfg.tcp.length,
      vrrp: vrrp.runtime?.status().length ?? 0,
      admin: admin?.server.url(),
    },
    "keepcache run ready",
  );

  const reload = async () => {
    log.info({ file: args.file }, "SIGHUP: reloading");
    const next = await load(args.file, log);
    if (next === undefined) {
      log.error({ file: args.file }, "reload rejected: the running config stays");
      admin?.configLoaded(false);
      return;
    }
    try {
      applyLog(args, next);
      await proxy.reload(next);
      await tcp.apply(next);
      if (JSON.stringify(next.sentinel) !== JSON.stringify(cfg.sentinel))
        log.warn({ file: args.file }, "sentinel: section changes take effect at restart only");
      current = next;
      admin?.reloaded();
      admin?.setTcp(next, tcpView);
      await vrrp.apply(next);
      admin?.setVrrp(vrrp.runtime);
      log.info({ file: args.file, pools: next.pools.length }, "reload done");
      admin?.configLoaded(true);
    } catch (err) {
      logReloadRefused(log, args.file, err);
      admin?.configLoaded(false);
    }
  };
  const undoHup = onSighup(reload);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, "shutting down");
      undoHup();
      sighupSettled()
        .then(() => vrrp.stop()) // VIP first, so clients move before the services close
        .catch((err: unknown) => log.error({ err }, "vrrp stop failed"))
        .then(() =>
          Promise.allSettled([
            admin?.close(),
            sentinel?.close(),
            proxy.stop(),
            tcp.stop(),
            stats.close(),
          ]),
        )
        .then(() => resolve());
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}
