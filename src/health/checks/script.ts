/**
 * keepalived MISC_CHECK: exit 0 = up, 1 = down; with misc_dynamic, exit 2..255 = up with
 * weight = code - 2 (keepalived.conf(5), "misc_dynamic"); without it any non-zero exit is down.
 * The prober's timeout (misc_timeout) aborts the signal, which kills the script's process group.
 */
import { runScript } from "../../scripts/run.js";
import type { CheckFn } from "../types.js";
import { fail, pass, stopwatch } from "./result.js";

export interface ScriptCheckOptions {
  command: string;
  dynamic?: boolean;
  user?: string;
  /** Allow scripts writable by non-root users even as root (default false). */
  insecure?: boolean;
}

export const scriptCheck: CheckFn<ScriptCheckOptions> = async (_target, o, signal) => {
  const elapsed = stopwatch();
  try {
    const r = await runScript(o.command, {
      signal,
      ...(o.user !== undefined ? { user: o.user } : {}),
      secure: !o.insecure,
    });
    if (r.timedOut) return fail(elapsed, "timeout, killed");
    if (r.code === undefined) return fail(elapsed, `killed by ${r.signal}`);
    if (r.code === 0) return pass(elapsed, "exit 0");
    if (r.code === 1 || !o.dynamic) return fail(elapsed, `exit ${r.code}`);
    return pass(elapsed, `exit ${r.code}`, r.code - 2);
  } catch (e) {
    return fail(elapsed, (e as Error).message);
  }
};
