/**
 * `keepcache vrrp -c FILE`: runs only the VRRP part of a config (virtual IP failover), until
 * SIGTERM/SIGINT, then leaves MASTER with a priority-0 advert and removes the VIPs (an
 * uncaught error does the same before exiting). SIGHUP re-reads FILE and applies it as
 * keepalived's reload does; SIGUSR1 writes a state dump (signals.ts). FILE is
 * keepcache YAML or a keepalived.conf, which is imported on the fly (the same mapping as
 * `keepcache import`; unmapped lines are logged).
 */
import { loadConfigFile } from "../config/file.js";
import { type Config, ConfigErrors } from "../config/index.js";
import { ConfigError, UsageError } from "../errors.js";
import { child, configureLog, type Logger } from "../log.js";
import type { VrrpRuntime } from "../vrrp/runtime.js";
import { logLevel, parseFlags } from "./flags.js";
import { leaveCleanlyOnCrash, logReloadRefused } from "./lifecycle.js";
import { addDumpSection, onSighup } from "./signals.js";

const USAGE = `usage: keepcache vrrp -c FILE [-v]

  -c, --config FILE   keepcache YAML or keepalived.conf with vrrp instances
  -v, --verbose       log more (-vv for every advert drop)
  -h, --help          show this help`;

/** Loads keepcache YAML, or imports a keepalived.conf; `keepcache run` uses it as well. */
export function loadConfigOrKeepalived(file: string, log?: Logger): Config {
  const { config, unmapped } = loadConfigFile(file);
  for (const u of unmapped)
    log?.warn({ file: u.file, line: u.line, why: u.why }, "keepalived.conf line not used");
  return config;
}

const VRRP_FLAGS = {
  config: { type: "string", short: "c" },
  verbose: { type: "boolean", short: "v", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

/** The log settings of `config` at `level` (-v wins over log.level). */
function applyLog(config: Config, verbose: number): void {
  configureLog({ ...config.log, level: logLevel(verbose, config.log.level) });
}

export async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, VRRP_FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = values.config;
  if (!file) throw new UsageError(`-c FILE is required\n\n${USAGE}`);
  const verbose = values.verbose?.length ?? 0;
  const log = child("vrrp");
  const config = loadConfigOrKeepalived(file, log);
  if (!config.vrrp || config.vrrp.instances.length === 0) {
    throw new ConfigErrors(file, [
      new ConfigError(file, undefined, "vrrp", "no vrrp instances to run"),
    ]);
  }
  applyLog(config, verbose);
  const { startVrrp } = await import("../vrrp/runtime.js");
  // Handlers first: a signal during startup must still end with the VIPs removed.
  let runtime: VrrpRuntime | undefined;
  let signalled = false;
  let done: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onSignal = (sig: string) => {
    log.info({ signal: sig }, "shutting down");
    signalled = true;
    runtime?.stop().then(done, done);
  };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));
  leaveCleanlyOnCrash(log, () => runtime?.stop());
  addDumpSection("vrrp", () => runtime?.status() ?? []);
  // SIGHUP: re-read FILE; VRRP changes apply as keepalived's reload (runtime.reload); an
  // invalid file is logged and the running instances stay as they are.
  onSighup(async () => {
    log.info({ file }, "SIGHUP: reloading");
    try {
      const next = loadConfigOrKeepalived(file, log);
      if (!next.vrrp || next.vrrp.instances.length === 0)
        throw new ConfigErrors(file, [
          new ConfigError(file, undefined, "vrrp", "no vrrp instances to run"),
        ]);
      applyLog(next, verbose);
      await runtime?.reload(next.vrrp);
    } catch (err) {
      logReloadRefused(log, file, err);
    }
  });
  runtime = await startVrrp(config.vrrp, log);
  if (signalled) await runtime.stop();
  else await stopped;
  return 0;
}
