/**
 * keepalived's enable_script_security (keepalived.conf(5) "script_user", check_script_secure in
 * keepalived/core/libipvs... notify.c): when scripts run as root, refuse any script whose file,
 * or any directory on its path, a non-root user could modify: owned by non-root, group-writable
 * with a non-root group, or world-writable (a sticky /tmp is still refused: anyone can plant a
 * file there before it exists). Pure over an injected stat.
 */
import { posix } from "node:path";

export interface StatLike {
  uid: number;
  gid: number;
  mode: number;
}

export type StatFn = (path: string) => StatLike | undefined;

export type SecurityVerdict = { ok: true } | { ok: false; path: string; why: string };

const S_IWGRP = 0o020;
const S_IWOTH = 0o002;

/**
 * Checks `file` and every ancestor directory. `runAsUid` is the uid the script will run as:
 * files that user owns are acceptable too (it could change them anyway), as keepalived allows.
 */
export function checkScriptSecurity(file: string, stat: StatFn, runAsUid = 0): SecurityVerdict {
  if (!posix.isAbsolute(file)) return { ok: false, path: file, why: "not an absolute path" };
  let p = posix.normalize(file);
  for (let guard = 0; guard < 256; guard++) {
    const st = stat(p);
    if (!st) return { ok: false, path: p, why: "does not exist" };
    if (st.uid !== 0 && st.uid !== runAsUid)
      return { ok: false, path: p, why: `owned by uid ${st.uid}` };
    if (st.mode & S_IWOTH) return { ok: false, path: p, why: "world-writable" };
    if (st.mode & S_IWGRP && st.gid !== 0)
      return { ok: false, path: p, why: `writable by group ${st.gid}` };
    if (p === "/") return { ok: true };
    p = posix.dirname(p);
  }
  return { ok: false, path: file, why: "path too deep" };
}

/** keepalived splits a script line on blanks with "quotes"; shell syntax needs a shell. */
export function needsShell(command: string): boolean {
  return /[<>|&;$`()*?[\]~{}]/.test(command);
}

/** The executable to check: the first word, resolved on PATH when it has no slash. */
export function scriptExecutable(
  command: string,
  exists: (p: string) => boolean,
  pathEnv = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
): string | undefined {
  const first = command.trim().split(/\s+/)[0] ?? "";
  if (first.startsWith("<") || first === "") return undefined;
  if (first.includes("/")) return first;
  for (const dir of pathEnv.split(":")) {
    const c = posix.join(dir, first);
    if (exists(c)) return c;
  }
  return undefined;
}

/** Resolves a user name against /etc/passwd text (pure); numbers pass through. */
export function lookupUser(name: string, passwd: string): { uid: number; gid: number } | undefined {
  if (/^\d+$/.test(name)) return { uid: Number(name), gid: Number(name) };
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}
