/**
 * ForkedWorkers' lifecycle against a real forked script (test/fixtures/workers/): the ready
 * handshake (nothing sent before it), re-fork after SIGKILL, the not-ready timeout kill, and
 * stop() leaving no process behind, stubborn ones included.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type Forked, type ForkedOptions, ForkedWorkers } from "../../../src/workers/forked.js";
import { pidAlive, repoRoot } from "../../../tools/procs.js";
import { until } from "../../helpers/keepcache-run.js";

type ToW = { t: "ping"; n: number } | { t: "stop" };
type Pong = { t: "pong"; n: number; pid: number; early: number };
type FromW = { t: "ready" } | Pong;
type Mode = "ready" | "late" | "silent" | "stubborn";
type Timing = Pick<ForkedOptions<ToW>, "readyWaitMs" | "stopWaitMs">;

const entry = join(repoRoot(), "test/fixtures/workers/lifecycle-worker.mjs");
const created: Echoes[] = [];
const everPids = new Set<number>();

/** Records every hook call; the fixture's mode is read at each fork. */
class Echoes extends ForkedWorkers<null, ToW, FromW> {
  readonly readies: number[] = [];
  readonly pongs: Pong[] = [];
  readonly exits: Array<{
    pid: number;
    code: number | null;
    signal: string | null;
    expected: boolean;
  }> = [];
  readonly slow: number[] = [];
  readonly errors: unknown[] = [];

  constructor(
    count: number,
    public mode: Mode,
    timing: Timing = {},
  ) {
    super({ entry, count, stopMessage: { t: "stop" }, respawnDelayMs: 50, ...timing });
    created.push(this);
  }

  ping(n: number): void {
    this.broadcast({ t: "ping", n });
  }

  list(): Forked<null>[] {
    return [...this.live()];
  }

  protected init(child: ChildProcess): null {
    if (child.pid !== undefined) everPids.add(child.pid);
    return null;
  }

  protected override forkEnv(): NodeJS.ProcessEnv {
    return { ...process.env, FORKED_TEST_MODE: this.mode };
  }

  protected onReady(w: Forked<null>): void {
    this.readies.push(w.child.pid ?? -1);
  }

  protected onMessage(_w: Forked<null>, m: FromW): void {
    if (m.t === "pong") this.pongs.push(m);
  }

  protected onExit(w: Forked<null>, code: number | null, signal: string | null, expected: boolean) {
    this.exits.push({ pid: w.child.pid ?? -1, code, signal, expected });
  }

  protected onSlow(w: Forked<null>): void {
    this.slow.push(w.child.pid ?? -1);
  }

  protected onError(err: unknown): void {
    this.errors.push(err);
  }
}

describe("ForkedWorkers", () => {
  after(async () => {
    await Promise.all(created.map((w) => w.stop()));
    for (const pid of everPids) if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  });

  test("ready handshake: nothing is sent before a worker says ready; then broadcast reaches all", async () => {
    const workers = new Echoes(2, "late");
    const started = workers.start();
    assert.equal(workers.size, 2, "forked at once");
    // Not ready yet: dropped, never queued for later.
    workers.ping(0);
    await started;
    assert.equal(workers.readies.length, 2);
    assert.deepEqual(new Set(workers.readies), new Set(workers.pids()));
    assert.ok(workers.list().every((w) => w.ready));
    workers.ping(1);
    await until(() => workers.pongs.length === 2, "two pongs");
    assert.deepEqual(new Set(workers.pongs.map((p) => p.pid)), new Set(workers.pids()));
    assert.ok(
      workers.pongs.every((p) => p.n === 1 && p.early === 0),
      JSON.stringify(workers.pongs),
    );
    await workers.stop();
    assert.equal(workers.size, 0);
    assert.ok(
      workers.exits.every((e) => e.expected && e.code === 0),
      JSON.stringify(workers.exits),
    );
    assert.deepEqual(workers.errors, []);
  });

  test("a SIGKILLed worker is reported unexpected and forked again", async () => {
    const workers = new Echoes(1, "ready");
    await workers.start();
    const [first] = workers.pids();
    process.kill(first, "SIGKILL");
    await until(() => workers.readies.length === 2, "the second fork to be ready");
    assert.deepEqual(workers.exits, [
      { pid: first, code: null, signal: "SIGKILL", expected: false },
    ]);
    const [second] = workers.pids();
    assert.notEqual(second, first);
    assert.equal(workers.size, 1);
    assert.equal(pidAlive(first), false);
    await workers.stop();
  });

  test("a worker not ready within readyWaitMs is killed and forked again", async () => {
    // Well above a loaded machine's node startup (tsx's loader included), or the re-fork that
    // should be ready is killed too.
    const workers = new Echoes(1, "silent", { readyWaitMs: 2000 });
    const t0 = Date.now();
    // start() does not wait forever: it resolves once the stuck worker is killed.
    await workers.start();
    assert.ok(Date.now() - t0 >= 1900, "not before the ready wait");
    assert.equal(workers.slow.length, 1);
    assert.equal(workers.exits[0]?.signal, "SIGKILL");
    assert.equal(workers.exits[0]?.expected, false);
    workers.mode = "ready";
    await until(() => workers.readies.length === 1, "a re-forked worker to be ready");
    assert.ok(!pidAlive(workers.slow[0]));
    await workers.stop();
  });

  test("stop: the stubborn are SIGKILLed after stopWaitMs; nothing forked again, no orphans", async () => {
    const workers = new Echoes(2, "stubborn", { stopWaitMs: 200 });
    await workers.start();
    const pids = workers.pids();
    const t0 = Date.now();
    await workers.stop();
    const took = Date.now() - t0;
    assert.ok(took >= 150 && took < 3000, `stop took ${took} ms`);
    assert.equal(workers.stopping, true);
    assert.deepEqual(
      workers.exits.map((e) => [e.signal, e.expected]),
      [
        ["SIGKILL", true],
        ["SIGKILL", true],
      ],
    );
    assert.ok(pids.every((p) => !pidAlive(p)));
    // Well past respawnDelayMs: a stopped set forks nothing.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(workers.size, 0);
    assert.equal(workers.readies.length, 2);
  });
});
