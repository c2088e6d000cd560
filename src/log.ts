/**
 * Logging: pino JSON lines by default (for machines), a short readable form when stderr is a
 * terminal (for people). One root logger; subsystems take a child with their own `component`.
 *
 * Every logger writes into one Sink, so where lines go can change while the process runs
 * (`log.file`, `log.format` from a config read after startup, a reopen on SIGHUP for
 * logrotate) without re-creating the loggers that subsystems hold. Levels are process-wide
 * too: setLogLevel() changes the root and every child made here.
 *
 * journald: when stderr is the journal (JOURNAL_STREAM names stderr's device and inode,
 * systemd.exec(5) "$JOURNAL_STREAM"), each line starts with the sd-daemon(3) `<N>` syslog
 * priority prefix, which journald strips and stores as PRIORITY, so `journalctl -p warning`
 * works; the readable form then leaves out the time (journald stamps every line itself).
 */
import { fstatSync } from "node:fs";
import { type DestinationStream, type Logger, pino } from "pino";
import { KeepcacheError } from "./errors.js";

export type { Logger };

export type LogFormat = "json" | "pretty";

export interface LogSettings {
  level?: string;
  /** json | pretty; default: pretty when the output is a terminal, else json. */
  format?: LogFormat;
  /** Append to this file instead of stderr (reopened by reopenLog()). */
  file?: string;
}

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO ",
  40: "WARN ",
  50: "ERROR",
  60: "FATAL",
};

/** pino level → syslog priority (RFC 5424 §6.2.1: 7 debug, 6 info, 4 warning, 3 err, 2 crit). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** "12:00:01 INFO  node: listening port=11211" (no time under journald). */
export function prettyLine(line: string, withTime: boolean): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { level, time, msg, component, pid: _p, hostname: _h, ...rest } = o;
    const t = withTime ? `${new Date(Number(time)).toTimeString().slice(0, 8)} ` : "";
    const extra = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    return `${t}${LEVEL_NAMES[Number(level)] ?? level} ${component ? `${component}: ` : ""}${msg ?? ""}${extra ? ` ${extra}` : ""}\n`;
  } catch {
    return line;
  }
}

/** Whether fd 2 is the journal stream systemd connected (JOURNAL_STREAM=<dev>:<ino>). */
export function stderrIsJournal(env = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  const [dev, ino] = js.split(":");
  try {
    const st = fstatSync(2);
    return String(st.dev) === dev && String(st.ino) === ino;
  } catch {
    return false;
  }
}

type Target = ReturnType<typeof pino.destination>;

/** Where every logger's lines go; pino sets lastLevel before each write (pino.metadata). */
class Sink implements DestinationStream {
  readonly [pino.symbols.needsMetadataGsym] = true;
  lastLevel = 30;
  private target: Target;
  private readonly stderr: Target;
  private pretty = false;
  private journal = false;
  file: string | undefined;

  constructor() {
    this.stderr = pino.destination({ dest: 2, sync: true });
    this.target = this.stderr;
  }

  write(line: string): void {
    const out = this.pretty ? prettyLine(line, !this.journal) : line;
    this.target.write(this.journal ? `<${syslogPriority(this.lastLevel)}>${out}` : out);
  }

  configure(format: LogFormat | "auto", file: string | undefined): void {
    if (file !== this.file) {
      const next = file === undefined ? this.stderr : openFile(file);
      const old = this.target;
      this.target = next;
      this.file = file;
      if (old !== this.stderr) old.end();
    }
    const toStderr = this.target === this.stderr;
    this.journal = toStderr && stderrIsJournal();
    this.pretty = format === "pretty" || (format === "auto" && toStderr && process.stderr.isTTY);
  }

  get format(): LogFormat {
    return this.pretty ? "pretty" : "json";
  }

  reopen(): void {
    if (this.target !== this.stderr) this.target.reopen();
  }
}

function openFile(file: string): Target {
  let d: Target;
  try {
    d = pino.destination({ dest: file, sync: true, append: true, mkdir: true });
  } catch (err) {
    throw new KeepcacheError("KC_CONFIG_INVALID", `log.file ${file}: cannot open: ${String(err)}`, {
      cause: err,
    });
  }
  // A failed reopen (directory gone, disk full) must not take the process down.
  d.on("error", (err: unknown) => process.stderr.write(`keepcache: log.file ${file}: ${err}\n`));
  return d;
}

let sink: Sink | undefined;
let root: Logger | undefined;
const children = new Set<Logger>();

function envFormat(env = process.env): LogFormat | undefined {
  const f = env.KEEPCACHE_LOG_FORMAT;
  return f === "json" || f === "pretty" ? f : undefined;
}

/**
 * The process-wide logger (level KEEPCACHE_LOG_LEVEL or info; KEEPCACHE_LOG_FORMAT/FILE).
 * `opts` (tests, benches) sets the level of every logger and the format.
 */
export function logger(opts?: { level?: string; format?: LogFormat | "auto" }): Logger {
  if (root === undefined) {
    sink = new Sink();
    sink.configure(envFormat() ?? "auto", process.env.KEEPCACHE_LOG_FILE || undefined);
    const level = process.env.KEEPCACHE_LOG_LEVEL ?? "info";
    root = pino({ level, base: { pid: process.pid } }, sink);
  }
  if (opts?.format !== undefined) sink?.configure(opts.format, sink.file);
  if (opts?.level !== undefined) setLogLevel(opts.level);
  return root;
}

/**
 * A subsystem's logger: `component` names it. A child of another component's logger would
 * carry `component` twice in each line (pino does not merge bindings), so every component's
 * logger is a child of the root.
 */
export function child(component: string): Logger {
  const l = logger().child({ component });
  children.add(l);
  return l;
}

/**
 * The logger of `component` working for `parent` (the node's replication, its admin plane).
 * For a component logger made by child() this is a sibling under the root at the parent's
 * level, so `component` appears once; any other logger (a test's) gets a plain child.
 */
export function subLogger(parent: Logger, component: string): Logger {
  if (!children.has(parent)) return parent.child({ component });
  const l = child(component);
  l.level = parent.level;
  return l;
}

/** Sets the level of the root and of every component logger. */
export function setLogLevel(level: string): void {
  logger().level = level;
  for (const c of children) c.level = level;
}

/**
 * Applies a config's `log:` (the environment wins: KEEPCACHE_LOG_FORMAT, KEEPCACHE_LOG_FILE,
 * as KEEPCACHE_LOG_LEVEL does for the level, which callers resolve with their -v flags).
 * Throws KC_CONFIG_INVALID when the file cannot be opened; the old destination stays.
 */
export function configureLog(s: LogSettings, env = process.env): void {
  logger();
  const format = envFormat(env) ?? s.format ?? "auto";
  const file = env.KEEPCACHE_LOG_FILE || s.file;
  sink?.configure(format, file);
  if (s.level !== undefined) setLogLevel(s.level);
}

const reopenHooks = new Set<() => void>();

/** Reopens log.file (SIGHUP after logrotate moved it; nothing for stderr), then the hooks. */
export function reopenLog(): void {
  sink?.reopen();
  for (const h of reopenHooks) h();
}

/** Runs `hook` on every reopenLog() (worker processes writing the same file); the undo. */
export function onLogReopen(hook: () => void): () => void {
  reopenHooks.add(hook);
  return () => reopenHooks.delete(hook);
}

/** The environment that makes a forked worker log where and how this process does. */
export function logEnv(): NodeJS.ProcessEnv {
  logger();
  const env: NodeJS.ProcessEnv = { KEEPCACHE_LOG_FORMAT: sink?.format };
  if (sink?.file !== undefined) env.KEEPCACHE_LOG_FILE = sink.file;
  return env;
}

/** The log file in use, if any. */
export function logFile(): string | undefined {
  return sink?.file;
}
