/**
 * The operator signals every long-running subcommand answers the same way.
 *
 * SIGUSR1: a state dump, as keepalived writes /tmp/keepalived.data on SIGUSR1. Each running
 * part adds a section (pools, replica sets, VRRP instances, TCP services, a node's stats and
 * replication peers); the whole dump goes to the log (one `state dump` line at info) and, as
 * indented JSON, to KEEPCACHE_DUMP_FILE or `<tmpdir>/keepcache-<command>-<pid>.json`. The file
 * is written under a fresh name (O_EXCL, mode 0600) and renamed into place, so a symlink
 * planted at the predictable path in a shared /tmp is replaced, never followed
 * (keepalived's CVE-2018-19044 was that mistake). The handler also keeps SIGUSR1 from opening
 * the Node inspector (inspector.ts).
 *
 * SIGHUP: onSighup() handlers run one reload at a time, after the log file is reopened (the
 * logrotate convention: rename, then SIGHUP).
 */
import { randomBytes } from "node:crypto";
import { renameSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { child, logFile, reopenLog } from "../log.js";
import { VERSION } from "../version.js";

const sections = new Map<string, () => unknown>();
let command = "keepcache";
let installed = false;

/** Adds a section to every dump from now on; returns the undo. */
export function addDumpSection(name: string, snapshot: () => unknown): () => void {
  sections.set(name, snapshot);
  return () => {
    if (sections.get(name) === snapshot) sections.delete(name);
  };
}

export function dumpFilePath(cmd: string, env = process.env, pid = process.pid): string {
  return env.KEEPCACHE_DUMP_FILE || join(tmpdir(), `keepcache-${cmd}-${pid}.json`);
}

/** The dump document: who, when, and every section (a failing section says why). */
export function stateDump(): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    command,
    pid: process.pid,
    time: new Date().toISOString(),
    version: VERSION,
    uptimeSec: Math.round(process.uptime()),
    memory: process.memoryUsage(),
    logFile: logFile() ?? "stderr",
  };
  for (const [name, snapshot] of sections) {
    try {
      doc[name] = snapshot();
    } catch (err) {
      doc[name] = { error: String(err) };
    }
  }
  return doc;
}

/** Writes `text` to `path` without following a symlink or trusting a file already there. */
export function writeFileSafely(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, text, { flag: "wx", mode: 0o600 });
  try {
    renameSync(tmp, path);
  } catch (err) {
    unlinkSync(tmp);
    throw err;
  }
}

/** Writes a dump now (what SIGUSR1 does); returns the file, or undefined if it failed. */
export function writeStateDump(): string | undefined {
  const log = child("dump");
  const doc = stateDump();
  const file = dumpFilePath(command);
  try {
    writeFileSafely(file, `${JSON.stringify(doc, null, 2)}\n`);
  } catch (err) {
    log.error({ err, file, state: doc }, "state dump: cannot write the file");
    return undefined;
  }
  log.info({ file, state: doc }, "state dump (SIGUSR1)");
  return file;
}

/** Installs the SIGUSR1 handler (once, before anything else runs: inspector.ts). */
export function installStateDump(cmd: string): void {
  command = cmd.replace(/[^\w.-]/g, "_");
  if (installed) return;
  installed = true;
  process.on("SIGUSR1", () => {
    writeStateDump();
  });
}

let hupChain: Promise<void> = Promise.resolve();
const hupHandlers: (() => Promise<void> | void)[] = [];

let hupInstalled = false;

/**
 * Runs `reload` on every SIGHUP (serialised; log file reopened first); returns the undo. The
 * first registration installs the handler for good, so from then on SIGHUP never ends the
 * process, not even one arriving during shutdown while VIPs are being released.
 */
export function onSighup(reload: () => Promise<void> | void): () => void {
  if (!hupInstalled) process.on("SIGHUP", hup);
  hupInstalled = true;
  hupHandlers.push(reload);
  return () => {
    const i = hupHandlers.indexOf(reload);
    if (i >= 0) hupHandlers.splice(i, 1);
  };
}

/** Resolves once every SIGHUP received so far has been handled. */
export function sighupSettled(): Promise<void> {
  return hupChain;
}

function hup(): void {
  hupChain = hupChain.then(async () => {
    reopenLog();
    for (const h of [...hupHandlers]) {
      try {
        await h();
      } catch (err) {
        child("signals").error({ err }, "SIGHUP handler failed");
      }
    }
  });
}
