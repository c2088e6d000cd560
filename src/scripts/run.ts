/**
 * Running a script the way keepalived does: without a shell unless asked for (command.ts), as a
 * configured user, in its own process group so that a timeout or an abort kills its children
 * too: SIGTERM to the group, then SIGKILL after a grace period (keepalived sends SIGTERM to a
 * script that overruns its timeout and SIGKILL if it is still there later).
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { KeepcacheError } from "../errors.js";
import { commandArgv } from "./command.js";
import { findOnPath } from "./path.js";
import { ROOT, type ScriptFs, scriptSecurityProblem } from "./security.js";
import { lookupUser, type UserIds } from "./users.js";

export interface ScriptOutcome {
  /** Exit code, or undefined when killed by a signal. */
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** The abort signal or the timeout ended it. */
  timedOut: boolean;
}

export interface SpawnOptions {
  ids?: UserIds | undefined;
  env?: NodeJS.ProcessEnv;
  /** Kills the process group when aborted. */
  signal?: AbortSignal;
  /** Kills the process group after this long. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL (default 1000 ms). */
  killGraceMs?: number;
}

/** The real file system, for scriptSecurityProblem. */
export const realFs: ScriptFs = {
  stat(path) {
    try {
      const s = statSync(path);
      return { uid: s.uid, gid: s.gid, mode: s.mode };
    } catch {
      return undefined;
    }
  },
  exists: (p) => existsSync(p),
};

/**
 * Starts argv[0] with argv[1..]; resolves when it exits. Rejects with KC_PERMISSION when it
 * cannot be started at all (missing file, not executable, bad uid).
 */
export function spawnScript(argv: readonly string[], o: SpawnOptions = {}): Promise<ScriptOutcome> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) throw new KeepcacheError("KC_PERMISSION", "empty script command");
    const child = spawn(file, args, {
      stdio: "ignore",
      detached: true,
      env: o.env ?? process.env,
      ...(o.ids ? { uid: o.ids.uid, gid: o.ids.gid } : {}),
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
    const stop = () => {
      if (timedOut) return;
      timedOut = true;
      killGroup("SIGTERM");
      killTimer = setTimeout(() => killGroup("SIGKILL"), o.killGraceMs ?? 1000);
    };
    const timer = o.timeoutMs === undefined ? undefined : setTimeout(stop, o.timeoutMs);
    if (o.signal?.aborted) stop();
    else o.signal?.addEventListener("abort", stop, { once: true });
    const done = () => {
      o.signal?.removeEventListener("abort", stop);
      clearTimeout(timer);
      clearTimeout(killTimer);
    };
    child.once("error", (e) => {
      done();
      reject(new KeepcacheError("KC_PERMISSION", `cannot run ${file}: ${e.message}`, { cause: e }));
    });
    child.once("exit", (code, sig) => {
      done();
      resolve({ code: code ?? undefined, signal: sig ?? undefined, timedOut });
    });
  });
}

export interface ScriptOptions extends Omit<SpawnOptions, "ids"> {
  /** Run as this user (a name or a numeric uid); needs root unless it is ourselves. */
  user?: string;
  /** Extra arguments appended after the line's words. */
  args?: string[];
  /** Allow shell syntax in the line (runs it through bash -c). Default false. */
  shell?: boolean;
  /** enable_script_security: refuse insecure scripts when running as root. Default true. */
  secure?: boolean;
}

/**
 * Turns a configured script line into an argv and the ids to run it as. Throws KC_PERMISSION
 * when it may not run: an empty line, an unknown user, another user while not root, or (as root,
 * with `secure`) a file a non-root user could change.
 */
export function prepareScript(line: string, o: ScriptOptions = {}) {
  const shell = o.shell ?? false;
  const words = commandArgv(line, { shell, exists: realFs.exists });
  if (words.length === 0) throw new KeepcacheError("KC_PERMISSION", "empty script command");
  let ids: UserIds | undefined;
  const isRoot = process.getuid?.() === 0;
  if (o.user !== undefined) {
    ids = lookupUser(o.user);
    if (!ids) throw new KeepcacheError("KC_PERMISSION", `unknown script user ${o.user}`);
    if (!isRoot && ids.uid !== process.getuid?.())
      throw new KeepcacheError("KC_PERMISSION", `cannot run scripts as ${o.user} when not root`);
  }
  if (isRoot && o.secure !== false) {
    const why = scriptSecurityProblem(line, { ...realFs, shell, runAs: ids ?? ROOT });
    if (why) throw new KeepcacheError("KC_PERMISSION", `refusing insecure script: ${why}`);
  }
  const file = words[0].includes("/") ? words[0] : (findOnPath(words[0]) ?? words[0]);
  return { argv: [file, ...words.slice(1), ...(o.args ?? [])], ids };
}

/** prepareScript, then spawnScript. Rejects with KC_PERMISSION if it may not or cannot run. */
export async function runScript(line: string, o: ScriptOptions = {}): Promise<ScriptOutcome> {
  const { argv, ids } = prepareScript(line, o);
  return spawnScript(argv, { ...o, ids });
}
