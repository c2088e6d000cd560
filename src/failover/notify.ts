/**
 * Notify scripts on failover transitions, with the arguments of Sentinel's
 * client-reconfig-script (sentinel.conf, sentinel.md):
 *   <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>
 * role is "leader" (this proxy did the failover) or "observer" (it followed one); state is
 * "failover" (Sentinel documents it as currently always "failover"). Like Sentinel, the script
 * runs without a shell and is killed after 60 s (sentinelRunPendingScripts,
 * SENTINEL_SCRIPT_MAX_RUNTIME).
 */
import type { Logger } from "../log.js";
import { spawnScript } from "../scripts/run.js";

export const SCRIPT_MAX_RUNTIME_MS = 60_000;

export interface Transition {
  masterName: string;
  role: "leader" | "observer";
  state: "failover";
  from: { host: string; port: number };
  to: { host: string; port: number };
}

export function reconfigArgs(t: Transition): string[] {
  return [
    t.masterName,
    t.role,
    t.state,
    t.from.host,
    String(t.from.port),
    t.to.host,
    String(t.to.port),
  ];
}

export function runNotify(script: string | undefined, t: Transition, log: Logger): void {
  if (script === undefined) return;
  const args = reconfigArgs(t);
  const warn = (err: string) => log.warn({ script, args, err }, "failover notify script failed");
  spawnScript([script, ...args], { timeoutMs: SCRIPT_MAX_RUNTIME_MS }).then(
    (r) => {
      if (r.code !== 0) warn(r.timedOut ? "timed out, killed" : `exit ${r.code ?? r.signal}`);
    },
    (e: Error) => warn(e.message),
  );
}
