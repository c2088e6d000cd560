/**
 * Runs a configured script (MISC_CHECK, notify_up/notify_down) the way keepalived does: the
 * command line is split into words (double or single quotes group words) and executed without a
 * shell, as a configured user, in its own process group so a timeout kills its children too.
 */
import { spawn } from "node:child_process";
import { KeepcacheError } from "../errors.js";
import { insecureReason, resolveOnPath } from "./script-security.js";
import { lookupUser } from "./users.js";

export interface ScriptOptions {
  user?: string;
  /** Extra arguments appended after the configured words. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Refuse insecure scripts when running as root (default true, keepalived's secure mode). */
  secure?: boolean;
}

export interface ScriptOutcome {
  /** Exit code, or undefined when killed by a signal. */
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  timedOut: boolean;
}

/** Splits a command line into words; quotes group, backslash escapes outside single quotes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === "\\" && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (ch === " " || ch === "\t") {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
}

/** Throws KC_PERMISSION if the script may not run (unknown user, insecure path as root). */
export function prepareScript(command: string, o: ScriptOptions = {}) {
  const words = splitCommand(command);
  if (words.length === 0) throw new KeepcacheError("KC_PERMISSION", "empty script command");
  const file = resolveOnPath(words[0]);
  const isRoot = process.getuid?.() === 0;
  if (isRoot && o.secure !== false) {
    const why = insecureReason(file);
    if (why) throw new KeepcacheError("KC_PERMISSION", `refusing insecure script: ${why}`);
  }
  let ids: { uid: number; gid: number } | undefined;
  if (o.user !== undefined) {
    ids = lookupUser(o.user);
    if (!ids) throw new KeepcacheError("KC_PERMISSION", `unknown script user ${o.user}`);
    if (!isRoot && ids.uid !== process.getuid?.())
      throw new KeepcacheError("KC_PERMISSION", `cannot run scripts as ${o.user} when not root`);
  }
  return { file, args: [...words.slice(1), ...(o.args ?? [])], ids };
}

/** Runs the script; on abort sends SIGTERM to its group, then SIGKILL 1 s later. Never throws. */
export function runScript(
  command: string,
  signal: AbortSignal,
  o: ScriptOptions = {},
): Promise<ScriptOutcome> {
  return new Promise((resolve, reject) => {
    let prep: ReturnType<typeof prepareScript>;
    try {
      prep = prepareScript(command, o);
    } catch (e) {
      return reject(e);
    }
    const child = spawn(prep.file, prep.args, {
      stdio: "ignore",
      detached: true,
      env: o.env ?? process.env,
      ...(prep.ids ? { uid: prep.ids.uid, gid: prep.ids.gid } : {}),
    });
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      timedOut = true;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), 1000);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    child.once("error", (e) => {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
      reject(new KeepcacheError("KC_PERMISSION", `cannot run ${prep.file}: ${e.message}`));
    });
    child.once("exit", (code, sig) => {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(killTimer);
      resolve({ code: code ?? undefined, signal: sig ?? undefined, timedOut });
    });
  });
}
