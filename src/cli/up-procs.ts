/**
 * The child processes of `keepcache up`, and the rule that none outlives its parent:
 *   - children are started under `setpriv --pdeathsig` when util-linux has it, so the kernel
 *     signals them when `keepcache up` dies in any way, SIGKILL included (prctl(2)
 *     PR_SET_PDEATHSIG);
 *   - keepcache node children also watch their parent themselves (`keepcache up --child-of
 *     PID -- node ...`): they stop when their stdin pipe closes or their parent pid changes;
 *   - on SIGINT/SIGTERM the parent stops every child and waits for each to exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import type { Logger } from "../log.js";

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/**
 * redis-server arguments for a throwaway instance on loopback: no RDB snapshots, no AOF. `dir`
 * is its working directory: a replica's full sync writes the received RDB there, so it must
 * not be the caller's cwd. Shared by `keepcache up --redis` and the test/bench tools.
 */
export function scratchRedisArgs(port: number, dir: string): string[] {
  return [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
  ];
}

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  /** The port it serves; "ready" means this port accepts connections. */
  port: number;
  /** Signal delivered to it when this process dies (default SIGTERM). */
  deathSignal?: "SIGTERM" | "SIGKILL";
}

export type ExitListener = (name: string, how: string) => void;

/** One supervised child; `start` may be called again after it exited (the dashboard button). */
export class Child {
  proc: ChildProcess | undefined;
  private tail: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  /** Set while we stop it on purpose, so the exit is not reported as a crash. */
  private stopping = false;

  constructor(
    readonly spec: ChildSpec,
    private readonly log: Logger,
    private readonly onExit: ExitListener,
  ) {}

  get alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get pid(): number | undefined {
    return this.alive ? this.proc?.pid : undefined;
  }

  /** Starts it and waits (up to timeoutMs) until its port accepts connections. */
  async start(timeoutMs = 10_000): Promise<void> {
    if (this.alive) return;
    const { command, args } = this.spec;
    const sig = this.spec.deathSignal ?? "SIGTERM";
    const [cmd, argv] = SETPRIV
      ? [SETPRIV, ["--pdeathsig", sig.slice(3), "--", command, ...args]]
      : [command, args];
    const p = spawn(cmd, argv, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, KEEPCACHE_LOG_FORMAT: "json" },
    });
    this.proc = p;
    this.tail = [];
    const keep = (d: Buffer) => {
      for (const line of d.toString().split("\n")) if (line !== "") this.tail.push(line);
      if (this.tail.length > 40) this.tail.splice(0, this.tail.length - 40);
    };
    p.stdout?.on("data", keep);
    p.stderr?.on("data", keep);
    p.stdin?.on("error", () => {});
    this.stopping = false;
    this.exited = new Promise((resolve) => {
      p.once("exit", (code, signal) => {
        const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (!this.stopping) this.onExit(this.spec.name, how);
        resolve();
      });
    });
    p.once("error", (err) => this.log.error({ err, child: this.spec.name }, "cannot start"));
    const deadline = Date.now() + timeoutMs;
    while (!(await accepts(this.spec.port))) {
      if (!this.alive) throw new Error(`${this.spec.name} exited at startup:\n${this.output()}`);
      if (Date.now() > deadline) {
        await this.stop("SIGKILL");
        throw new Error(`${this.spec.name} did not listen on ${this.spec.port} in ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Signals it and waits for its exit (SIGKILL after 5 s). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    this.proc?.kill(signal);
    const t = setTimeout(() => this.proc?.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
  }

  /** Its last output lines, for error messages. */
  output(): string {
    return this.tail.join("\n");
  }
}

export function accepts(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** A free port on 127.0.0.1 (bind 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() =>
        a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * In a child started by `keepcache up`: stop (SIGTERM to ourselves, so the command's own
 * clean shutdown runs) when the parent goes away. Returns the undo.
 */
export function watchParent(parentPid: number): () => void {
  const bye = () => process.kill(process.pid, "SIGTERM");
  const timer = setInterval(() => {
    // Re-parented to init (or a subreaper): the parent is gone.
    if (process.ppid !== parentPid) bye();
  }, 200);
  timer.unref();
  const stdin = process.stdin;
  stdin.on("end", bye);
  stdin.on("error", () => {});
  stdin.resume();
  if (process.ppid !== parentPid) bye();
  return () => {
    clearInterval(timer);
    stdin.off("end", bye);
    stdin.destroy();
  };
}
