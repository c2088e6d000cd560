/**
 * `keepcache vrrp -c FILE`: runs only the VRRP part of a config (virtual IP failover), until
 * SIGTERM/SIGINT, then leaves MASTER with a priority-0 advert and removes the VIPs. FILE is
 * keepcache YAML or a keepalived.conf, which is imported on the fly (the same mapping as
 * `keepcache import`; unmapped lines are logged).
 */
import { loadConfigFile } from "../config/file.js";
import type { Config } from "../config/index.js";
import { KeepcacheError, UsageError } from "../errors.js";
import { child, type Logger } from "../log.js";
import type { VrrpRuntime } from "../vrrp/runtime.js";
import { parseFlags, verboseLevel } from "./flags.js";

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

export async function main(argv: string[]): Promise<number> {
  const values = parseFlags(argv, VRRP_FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.config) throw new UsageError(`-c FILE is required\n\n${USAGE}`);
  const log = child("vrrp");
  log.level = verboseLevel(values.verbose?.length ?? 0) ?? log.level;
  const config = loadConfigOrKeepalived(values.config, log);
  if (!config.vrrp || config.vrrp.instances.length === 0) {
    throw new KeepcacheError("KC_CONFIG_INVALID", `${values.config}: no vrrp instances`);
  }
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
  runtime = await startVrrp(config.vrrp, log);
  if (signalled) await runtime.stop();
  else await stopped;
  return 0;
}
