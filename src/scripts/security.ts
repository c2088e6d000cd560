/**
 * keepalived's `enable_script_security` (keepalived.conf(5): "Don't run scripts configured to be
 * run as root if any part of the path is writable by a non-root user"), with the rule of
 * keepalived's check_script_secure (lib/notify.c):
 *   - only a script that runs as root (uid 0 or gid 0, or a setuid/setgid-root file) is checked;
 *   - the file and every directory above it must be owned by root;
 *   - none may be writable by everyone, or by a group other than root's;
 *   - except that a directory with the sticky bit (like /tmp) may be writable: nobody but its
 *     root owner can replace or rename the root-owned entries in it, and an entry someone else
 *     planted is owned by them and refused by the ownership rule.
 * Pure over an injected stat so the rule is tested without a root-owned tree.
 */
import { posix } from "node:path";
import { needsShell, shellPath, splitCommand } from "./command.js";
import { findOnPath } from "./path.js";
import type { UserIds } from "./users.js";

export interface StatLike {
  uid: number;
  gid: number;
  mode: number;
}

export type StatFn = (path: string) => StatLike | undefined;

export type SecurityVerdict = { ok: true } | { ok: false; path: string; why: string };

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_ISVTX = 0o1000;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_IXUSR = 0o100;
const S_IXGRP = 0o010;

export const ROOT: UserIds = { uid: 0, gid: 0 };

/** Checks `file` and every directory above it for a script that runs as `runAs`. */
export function checkScriptSecurity(
  file: string,
  stat: StatFn,
  runAs: UserIds = ROOT,
): SecurityVerdict {
  if (!posix.isAbsolute(file)) return { ok: false, path: file, why: "not an absolute path" };
  let p = posix.normalize(file);
  const top = stat(p);
  if (!top) return { ok: false, path: p, why: "does not exist" };
  const setRoot =
    (top.uid === 0 && (top.mode & (S_ISUID | S_IXUSR)) === (S_ISUID | S_IXUSR)) ||
    (top.gid === 0 && (top.mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP));
  if (runAs.uid !== 0 && runAs.gid !== 0 && !setRoot) return { ok: true };
  for (let st: StatLike | undefined = top; ; st = stat(p)) {
    if (!st) return { ok: false, path: p, why: "does not exist" };
    if (st.uid !== 0) return { ok: false, path: p, why: `owned by uid ${st.uid}` };
    const stickyDir = (st.mode & S_IFMT) === S_IFDIR && (st.mode & S_ISVTX) !== 0;
    if (!stickyDir) {
      if (st.mode & S_IWOTH) return { ok: false, path: p, why: "writable by everyone" };
      if (st.mode & S_IWGRP && st.gid !== 0)
        return { ok: false, path: p, why: `writable by group ${st.gid}` };
    }
    if (p === "/") return { ok: true };
    p = posix.dirname(p);
  }
}

export interface ScriptFs {
  stat: StatFn;
  exists: (path: string) => boolean;
}

/**
 * Why the script line may not run as `runAs`, or undefined when it may: every executable it
 * would start passes checkScriptSecurity. That is the shell when `shell` allows one and the line
 * needs it, and the line's first word found on PATH (required without a shell; through a shell
 * the first word may be a builtin or a redirection such as `</dev/tcp/host/port`).
 */
export function scriptSecurityProblem(
  line: string,
  opts: ScriptFs & { runAs?: UserIds; shell: boolean; pathEnv?: string },
): string | undefined {
  const shell = opts.shell && needsShell(line);
  const files = shell ? [shellPath(opts.exists)] : [];
  const first = splitCommand(line)[0] ?? "";
  const redirect = shell && /^[<>]/.test(first);
  const exe = redirect ? undefined : findOnPath(first, opts.exists, opts.pathEnv);
  if (exe) files.push(exe);
  else if (!shell) return `cannot find the executable of "${line}"`;
  for (const f of files) {
    const v = checkScriptSecurity(f, opts.stat, opts.runAs);
    if (!v.ok) return `${v.path} ${v.why}`;
  }
  return undefined;
}
