/**
 * `keepcache check -c FILE`: validates a config (keepcache's own, a nutcracker.yml or a
 * keepalived.conf: whatever `run` and `vrrp` accept) and prints a one-line summary, or every
 * problem on its own line (exit 2), like `nutcracker -t` but naming the line and key of each
 * problem. keepalived.conf lines that do not carry over are listed as warnings.
 */
import { loadConfigFile } from "../config/file.js";
import { ConfigErrors, ConfigReadError } from "../config/load.js";
import { UsageError } from "../errors.js";
import { parseFlags } from "./flags.js";

const USAGE = "usage: keepcache check -c FILE";

/** Where output goes; tests pass their own sinks. */
export interface CheckIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: CheckIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export async function main(argv: string[], io: CheckIo = stdio): Promise<number> {
  const values = parseFlags(
    argv,
    { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } },
    USAGE,
  );
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const file = values.config;
  if (!file) throw new UsageError(`missing -c FILE\n${USAGE}`);
  try {
    const { config: cfg, unmapped } = loadConfigFile(file);
    for (const u of unmapped) io.err(`${u.file}:${u.line}: warning: not used: ${u.why}\n`);
    const servers = cfg.pools.reduce((n, p) => n + p.servers.length, 0);
    const parts: string[] = [];
    // A keepalived.conf has no proxy pools: say what it has.
    if (cfg.pools.length || !(cfg.tcp.length || cfg.vrrp))
      parts.push(
        `${cfg.pools.length} pool${cfg.pools.length === 1 ? "" : "s"}`,
        `${servers} server${servers === 1 ? "" : "s"}`,
      );
    if (cfg.tcp.length) parts.push(`${cfg.tcp.length} tcp service(s)`);
    if (cfg.vrrp) parts.push(`${cfg.vrrp.instances.length} vrrp instance(s)`);
    if (cfg.admin) parts.push("admin");
    io.out(`${file}: ok (${parts.join(", ")})\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigErrors) {
      for (const e of err.errors) io.err(`${e.message}\n`);
      return 2;
    }
    if (err instanceof ConfigReadError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
