/**
 * Resolving a script user (keepalived `script_user`, a vrrp_script's `user`) to uid/gid. Node
 * has no getpwnam(3); /etc/passwd is the local source.
 */
import { readFileSync } from "node:fs";

export interface UserIds {
  uid: number;
  gid: number;
}

/**
 * Looks a name or a numeric uid up in passwd(5) text. A number with no entry passes through with
 * gid = uid, as keepalived accepts numeric ids for users it cannot resolve.
 */
export function userFromPasswd(name: string, passwd: string): UserIds | undefined {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length < 4) continue;
    if (f[0] === name || f[2] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  if (/^\d+$/.test(name)) return { uid: Number(name), gid: Number(name) };
  return undefined;
}

/** Looks `name` up in /etc/passwd (or `file`); undefined if unknown. */
export function lookupUser(name: string, file = "/etc/passwd"): UserIds | undefined {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // no passwd file: only numeric ids resolve
  }
  return userFromPasswd(name, text);
}
