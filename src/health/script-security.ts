/**
 * keepalived `enable_script_security`: when running as root, refuse a script that a non-root
 * user could modify, i.e. the file or any directory above it is writable by a non-root owner,
 * by a non-root group, or by everyone (keepalived.conf(5), "script_security"). A sticky
 * directory (like /tmp) is allowed on the path because others cannot replace entries in it.
 */
import { statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

/** Returns the reason the path is unsafe, or undefined when it is safe. */
export function insecureReason(path: string): string | undefined {
  let p = resolve(path);
  let isFile = true;
  for (;;) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (e) {
      return `${p}: ${(e as Error).message}`;
    }
    const sticky = !isFile && (st.mode & 0o1000) !== 0;
    if (!sticky) {
      if (st.mode & 0o002) return `${p} is writable by everyone`;
      if (st.mode & 0o020 && st.gid !== 0) return `${p} is writable by group ${st.gid}`;
      if (st.mode & 0o200 && st.uid !== 0) return `${p} is owned and writable by uid ${st.uid}`;
    }
    const up = dirname(p);
    if (up === p) return undefined;
    p = up;
    isFile = false;
  }
}

/** Finds an executable name on PATH the way execvp would (first match), for the check above. */
export function resolveOnPath(cmd: string): string {
  if (isAbsolute(cmd) || cmd.includes("/")) return resolve(cmd);
  for (const dir of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    if (!dir) continue;
    const full = join(dir, cmd);
    try {
      if (statSync(full).isFile()) return full;
    } catch {
      // not in this directory
    }
  }
  return cmd;
}
