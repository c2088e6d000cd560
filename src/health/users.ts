/** Resolving a user name to uid/gid (Node has no getpwnam; /etc/passwd is the local source). */
import { readFileSync } from "node:fs";

export interface UserIds {
  uid: number;
  gid: number;
}

/** Looks a name (or a numeric uid) up in /etc/passwd; undefined if unknown. */
export function lookupUser(name: string, passwd = "/etc/passwd"): UserIds | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4) continue;
    if (f[0] === name || f[2] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}
