/**
 * The Node inspector is a debugger that runs any code in the process, unauthenticated, for
 * whoever reaches its port; as root that is a local root hole. keepcache therefore never
 * opens it by accident:
 * - SIGUSR1, which Node reserves to open it, is taken by the state dump (signals.ts), and
 *   its handler is installed here, before any subcommand is loaded;
 * - `--inspect*` arriving through NODE_OPTIONS (an environment an operator may not control,
 *   e.g. inherited by a service) is closed at startup and stripped from the environment the
 *   children inherit, with a warning;
 * - `keepcache --inspect[=[HOST:]PORT] <command>` opens it on purpose (default
 *   127.0.0.1:9229). `node --inspect bin/keepcache.js` on the command line is explicit too,
 *   and left alone. `--inspect-brk` in NODE_OPTIONS stops Node before any of this runs.
 */
import inspector from "node:inspector";
import { UsageError } from "../errors.js";
import { installStateDump } from "./signals.js";

const INSPECT_OPTION = /(^|\s)--inspect(-brk|-wait|-port|-publish-uid)?(=\S*)?(?=\s|$)/g;

/** NODE_OPTIONS without its inspector options. */
export function stripInspect(nodeOptions: string): string {
  return nodeOptions.replace(INSPECT_OPTION, " ").replace(/\s+/g, " ").trim();
}

/** `--inspect`, `--inspect=PORT`, `--inspect=HOST:PORT` → where to listen. */
export function parseInspect(flag: string): { host: string; port: number } {
  const value = flag.includes("=") ? flag.slice(flag.indexOf("=") + 1) : "";
  const i = value.lastIndexOf(":");
  const host = i >= 0 ? value.slice(0, i) : "127.0.0.1";
  const port = Number(i >= 0 ? value.slice(i + 1) : value || "9229");
  if (!Number.isInteger(port) || port < 0 || port > 65535 || host === "")
    throw new UsageError(`--inspect: '${value}' is not [HOST:]PORT`);
  return { host, port };
}

/**
 * Applies the policy above; returns argv without keepcache's own `--inspect` flag. Called
 * first thing by the entry point (main.ts), with the subcommand's name for the dump.
 */
export function guardProcess(argv: string[]): string[] {
  const rest = [...argv];
  const asked = rest[0]?.startsWith("--inspect") ? rest.shift() : undefined;
  installStateDump(rest[0] ?? "keepcache");
  const opts = process.env.NODE_OPTIONS ?? "";
  const viaEnv = stripInspect(opts) !== opts.replace(/\s+/g, " ").trim();
  if (viaEnv) {
    process.env.NODE_OPTIONS = stripInspect(opts);
    if (asked === undefined && inspector.url() !== undefined) {
      inspector.close();
      process.stderr.write(
        "keepcache: closed the Node inspector that NODE_OPTIONS opened (--inspect); use 'keepcache --inspect[=[HOST:]PORT] <command>' to debug on purpose\n",
      );
    }
  }
  if (asked !== undefined && inspector.url() === undefined) {
    const { host, port } = parseInspect(asked);
    inspector.open(port, host);
    process.stderr.write(`keepcache: Node inspector on ${inspector.url()} (--inspect)\n`);
  }
  return rest;
}
