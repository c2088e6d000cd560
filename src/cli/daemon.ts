/**
 * What init scripts ask of memcached and nutcracker beyond their own flags: -d (go to the
 * background), a pid file, and memcached's -u (drop root). Under systemd none is needed
 * (Type=simple, MAINPID, User=); the units in deploy/ use none of them.
 */
import { execFileSync, spawn } from "node:child_process";
import { openSync, rmSync, writeFileSync } from "node:fs";
import { KeepcacheError } from "../errors.js";

/** Set in the environment of the process -d started, so it does not start another. */
const DAEMON_ENV = "KEEPCACHE_DAEMONIZED";

/**
 * -d: starts this same command line again in a new session, detached, with stdin closed and
 * stdout/stderr to `output` (appended) or nowhere, and returns its pid; the caller exits 0, as
 * memcached's and nutcracker's parent does. Returns undefined in the started process itself.
 */
export function daemonize(output: string | undefined): number | undefined {
  if (process.env[DAEMON_ENV] === "1") return undefined;
  const out = output === undefined ? "ignore" : openSync(output, "a");
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, [DAEMON_ENV]: "1" },
  });
  child.unref();
  if (child.pid === undefined)
    throw new KeepcacheError("KC_USAGE", "-d: could not start the background process");
  return child.pid;
}

/** Writes this process's pid to `file` and removes it when the process exits. */
export function writePidFile(file: string): void {
  try {
    writeFileSync(file, `${process.pid}\n`);
  } catch (err) {
    throw new KeepcacheError(
      "KC_PERMISSION",
      `cannot write pid file ${file}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  process.once("exit", () => {
    try {
      rmSync(file, { force: true });
    } catch {
      // After -u the directory may not be ours to write, as with memcached's pid file.
    }
  });
}

/**
 * memcached's -u: as root, become `user` (its groups too) before opening any socket; as
 * another user it has no effect, as in memcached. memcached refuses to run as root without -u;
 * keepcache keeps running as root then, since systemd's User= is the usual way.
 */
export function dropPrivileges(user: string): boolean {
  // process.initgroups exists on POSIX (Node's docs) but @types/node 20 leaves it out.
  const initgroups = (process as { initgroups?: (user: string, gid: number) => void }).initgroups;
  if (process.getuid?.() !== 0 || !process.setuid || !process.setgid || !initgroups) return false;
  try {
    // Node has no getpwnam(): id(1) gives the user's primary group, as memcached's getpwnam does.
    const gid = Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
    initgroups.call(process, user, gid);
    process.setgid(gid);
    process.setuid(user);
  } catch (err) {
    throw new KeepcacheError(
      "KC_PERMISSION",
      `-u ${user}: cannot become that user: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return true;
}
