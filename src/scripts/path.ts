/** Finding an executable the way execvp(3) does: a name with a slash is a path, else PATH. */
import { statSync } from "node:fs";
import { posix } from "node:path";

/** The PATH used when the environment has none (glibc's confstr(_CS_PATH) plus sbin). */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The absolute path `cmd` runs as, or undefined when no directory on `pathEnv` has it. A name
 * with a slash is resolved against the working directory without searching.
 */
export function findOnPath(
  cmd: string,
  exists: (path: string) => boolean = isFile,
  pathEnv: string = process.env.PATH ?? DEFAULT_PATH,
): string | undefined {
  if (cmd === "") return undefined;
  if (cmd.includes("/")) return posix.resolve(cmd);
  for (const dir of pathEnv.split(":")) {
    if (dir === "") continue;
    const full = posix.join(dir, cmd);
    if (exists(full)) return full;
  }
  return undefined;
}
