/**
 * The process management shared by every set of forked data-plane workers (the TCP
 * balancer's WorkerPool, the proxy's ProxyWorkers): fork N copies of an entry module, wait for
 * each to say "ready", fork again a second after an unexpected exit, and stop them all without
 * leaving one behind. What is sent on ready and what the messages mean stay with the owner
 * (the subclass); this file only knows the two messages every worker protocol shares: the
 * worker's `{ t: "ready" }` and the primary's stop message.
 *
 * Hardening, each for a failure seen in practice:
 * - Nothing is sent before the worker said ready. Node drops a message that arrives before the
 *   child attached its 'message' listener (the IPC channel has no queue for it), so an early
 *   "service"/"pool" would be lost; `onReady()` is where the owner sends the current state.
 * - A worker not ready within `readyWaitMs` is killed (and, being an unexpected exit, forked
 *   again): startup never waits forever on a child stuck loading its modules.
 * - Stop sends the stop message and disconnects the channel: a worker whose stop message is
 *   lost still exits on 'disconnect'; one that ignores both is SIGKILLed after `stopWaitMs`.
 */
import { type ChildProcess, fork, type SendHandle } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { logEnv, onLogReopen } from "../log.js";
import { workerExecArgv } from "./exec-argv.js";

/** One forked worker: its process, whether it said ready, and the owner's state for it. */
export interface Forked<S> {
  readonly child: ChildProcess;
  ready: boolean;
  readonly state: S;
}

export interface ForkedOptions<ToW> {
  /** The worker's entry module (see moduleBeside). */
  entry: string;
  count: number;
  /** Sent to each worker by stop(). */
  stopMessage: ToW;
  readyWaitMs?: number;
  stopWaitMs?: number;
  respawnDelayMs?: number;
}

/** A worker not ready by then is killed (and forked again): startup never waits forever. */
const READY_WAIT_MS = 15_000;
/** How long stop() lets a worker close its connections before SIGKILL. */
const STOP_WAIT_MS = 2000;
/** Delay before forking a dead worker again: a crash loop costs one fork a second at most. */
const RESPAWN_DELAY_MS = 1000;

/**
 * The entry module next to `base` (an import.meta.url): `name`.js when compiled, else the .ts
 * source (development under tsx, whose loader the worker inherits through workerExecArgv).
 */
export function moduleBeside(base: string, name: string): string {
  const js = fileURLToPath(new URL(`./${name}.js`, base));
  return existsSync(js) ? js : fileURLToPath(new URL(`./${name}.ts`, base));
}

/**
 * The base of an owner of forked workers. The subclass says what a worker's state is
 * (`init`), what it gets on ready (`onReady`), what its messages mean (`onMessage`) and what
 * its death leaves behind (`onExit`); this class forks, gates, re-forks and stops.
 */
export abstract class ForkedWorkers<S, ToW, FromW extends { t: string }> {
  private readonly workers = new Set<Forked<S>>();
  private stopping_ = false;
  private undoReopen: (() => void) | undefined;

  constructor(protected readonly forkOptions: ForkedOptions<ToW>) {}

  /** The owner's per-worker state (counters, serving sets), made at each fork. */
  protected abstract init(child: ChildProcess): S;
  /** It said ready: send it the current state. */
  protected abstract onReady(w: Forked<S>): void;
  /** Every other message. */
  protected abstract onMessage(w: Forked<S>, m: FromW): void;
  /**
   * It exited (already out of the set). `expected` is false for a death outside stop(): the
   * owner logs it; it is forked again after `respawnDelayMs`.
   */
  protected abstract onExit(
    w: Forked<S>,
    code: number | null,
    signal: NodeJS.Signals | null,
    expected: boolean,
  ): void;
  /** Not ready within readyWaitMs: it is being killed. */
  protected abstract onSlow(w: Forked<S>): void;
  /** A process error or a failed send (sends failing during stop are not reported). */
  protected abstract onError(err: unknown): void;

  /** The environment of the next fork (read at each fork, so later changes apply). */
  protected forkEnv(): NodeJS.ProcessEnv {
    return process.env;
  }

  get size(): number {
    return this.workers.size;
  }

  /** stop() was called: exits are expected, nothing is forked again. */
  get stopping(): boolean {
    return this.stopping_;
  }

  /** Process ids of the live workers (status pages, tests). */
  pids(): number[] {
    return [...this.workers].flatMap((w) => (w.child.pid === undefined ? [] : [w.child.pid]));
  }

  /** Forks the workers; resolves when each is ready (or died/was killed on the way). */
  async start(): Promise<void> {
    // A worker that is not ready yet may not have its SIGHUP handler: it opens the file anew.
    this.undoReopen ??= onLogReopen(() => {
      for (const w of this.workers) if (w.ready) w.child.kill("SIGHUP");
    });
    await Promise.all(Array.from({ length: this.forkOptions.count }, () => this.spawn()));
  }

  /** Asks every worker to stop (closing its connections); kills those alive after stopWaitMs. */
  async stop(): Promise<void> {
    this.stopping_ = true;
    this.undoReopen?.();
    const wait = this.forkOptions.stopWaitMs ?? STOP_WAIT_MS;
    const exits = [...this.workers].map(
      (w) =>
        new Promise<void>((resolve) => {
          const { child } = w;
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const t = setTimeout(() => child.kill("SIGKILL"), wait);
          child.once("exit", () => {
            clearTimeout(t);
            resolve();
          });
          this.send(w, this.forkOptions.stopMessage);
          // Closing the channel too: a worker whose stop message is lost exits on disconnect.
          if (child.connected) child.disconnect();
        }),
    );
    await Promise.all(exits);
  }

  /** The live workers, ready or not. */
  protected live(): IterableIterator<Forked<S>> {
    return this.workers.values();
  }

  /** Polls until `done` holds for every live worker, or timeoutMs passed. */
  protected async until(done: (w: Forked<S>) => boolean, timeoutMs: number, stepMs = 10) {
    const end = Date.now() + timeoutMs;
    while ([...this.workers].some((w) => !done(w)) && Date.now() < end)
      await new Promise((r) => setTimeout(r, stepMs));
  }

  /** Sends to one worker if it is ready and its channel open (else the message is moot). */
  protected send(w: Forked<S>, m: ToW, handle?: SendHandle): void {
    if (!w.ready || !w.child.connected) return;
    w.child.send(m as object, handle, (err: Error | null) => {
      if (err && !this.stopping_) this.onError(err);
    });
  }

  protected broadcast(m: ToW): void {
    for (const w of this.workers) this.send(w, m);
  }

  private spawn(): Promise<void> {
    const o = this.forkOptions;
    const child = fork(o.entry, [], {
      execArgv: workerExecArgv(process.execArgv),
      // Workers log where the primary does (log.file, log.format), and reopen with it.
      env: { ...this.forkEnv(), ...logEnv() },
      serialization: "json",
    });
    const w: Forked<S> = { child, ready: false, state: this.init(child) };
    this.workers.add(w);
    return new Promise<void>((resolve) => {
      const slow = setTimeout(() => {
        this.onSlow(w);
        child.kill("SIGKILL");
      }, o.readyWaitMs ?? READY_WAIT_MS);
      child.on("message", (m: FromW) => {
        if (m.t !== "ready") return this.onMessage(w, m);
        if (w.ready) return;
        clearTimeout(slow);
        w.ready = true;
        this.onReady(w);
        resolve();
      });
      child.on("error", (err) => this.onError(err));
      child.once("exit", (code, signal) => {
        clearTimeout(slow);
        this.workers.delete(w);
        w.ready = false;
        resolve();
        const expected = this.stopping_;
        this.onExit(w, code, signal, expected);
        if (expected) return;
        setTimeout(() => {
          if (!this.stopping_) void this.spawn();
        }, o.respawnDelayMs ?? RESPAWN_DELAY_MS).unref();
      });
    });
  }
}
