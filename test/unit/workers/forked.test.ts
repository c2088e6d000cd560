/**
 * ForkedWorkers' lifecycle against a real forked script (test/fixtures/workers/): the ready
 * handshake (nothing sent before it), re-fork after SIGKILL, the not-ready timeout kill, and
 * stop() leaving no process behind, stubborn ones included.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ForkedWorkers } from "../../../src/workers/forked.js";
import { repoRoot } from "../../helpers/procs.js";

type ToW = { t: "ping"; n: number } | { t: "stop" };
type FromW = { t: "ready" } | { t: "pong"; n: number; pid: number; early: number };
type Mode = "ready" | "late" | "silent" | "stubborn";

const entry = join(repoRoot(), "test/fixtures/workers/lifecycle-worker.mjs");
const created: Array<ForkedWorkers<null, ToW, FromW>> = [];
const everPids = new Set<number>();

interface Seen {
  readies: number[];
  pongs: Array<Extract<FromW, { t: "pong" }>>;
  exits: Array<{ pid: number; signal: string | null; code: number | null; expected: boolean }>;
  slow: number[];
}

function make(
  count: number,
  mode: { value: Mode },
  timing: { readyWaitMs?: number; stopWaitMs?: number } = {},
) {
  const seen: Seen = { readies: [], pongs: [], exits: [], slow: [] };
  const workers = new ForkedWorkers<null, ToW, FromW>(
    { entry, count, stopMessage: { t: "stop" }, respawnDelayMs: 50, ...timing },
    {
      init: (child) => {
        if (child.pid !== undefined) everPids.add(child.pid);
        return null;
      },
      env: () => ({ ...process.env, FORKED_TEST_MODE: mode.value }),
      ready: (w) => seen.readies.push(w.child.pid ?? -1),
      message: (_w, m) => {
        if (m.t === "pong") seen.pongs.push(m);
      },
      exited: (w, code, signal, expected) =>
        seen.exits.push({ pid: w.child.pid ?? -1, code, signal, expected }),
      slow: (w) => seen.slow.push(w.child.pid ?? -1),
    },
  );
  created.push(workers);
  return { workers, seen };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("ForkedWorkers", () => {
  after(async () => {
    await Promise.all(created.map((w) => w.stop()));
    for (const pid of everPids) if (alive(pid)) process.kill(pid, "SIGKILL");
  });

  test("ready handshake: nothing is sent before a worker says ready; then broadcast reaches all", async () => {
    const { workers, seen } = make(2, { value: "late" });
    const started = workers.start();
    assert.equal(workers.size, 2, "forked at once");
    // Not ready yet: dropped, never queued for later.
    workers.broadcast({ t: "ping", n: 0 });
    await started;
    assert.equal(seen.readies.length, 2);
    assert.deepEqual(new Set(seen.readies), new Set(workers.pids()));
    assert.ok([...workers].every((w) => w.ready));
    workers.broadcast({ t: "ping", n: 1 });
    await until(() => seen.pongs.length === 2, "two pongs");
    assert.deepEqual(new Set(seen.pongs.map((p) => p.pid)), new Set(workers.pids()));
    assert.ok(
      seen.pongs.every((p) => p.n === 1 && p.early === 0),
      JSON.stringify(seen.pongs),
    );
    await workers.stop();
    assert.equal(workers.size, 0);
    assert.ok(
      seen.exits.every((e) => e.expected && e.code === 0),
      JSON.stringify(seen.exits),
    );
  });

  test("a SIGKILLed worker is reported unexpected and forked again", async () => {
    const { workers, seen } = make(1, { value: "ready" });
    await workers.start();
    const [first] = workers.pids();
    process.kill(first, "SIGKILL");
    await until(() => seen.readies.length === 2, "the second fork to be ready");
    assert.deepEqual(seen.exits, [{ pid: first, code: null, signal: "SIGKILL", expected: false }]);
    const [second] = workers.pids();
    assert.notEqual(second, first);
    assert.equal(workers.size, 1);
    assert.equal(alive(first), false);
    await workers.stop();
  });

  test("a worker not ready within readyWaitMs is killed and forked again", async () => {
    const mode: { value: Mode } = { value: "silent" };
    // Well above a loaded machine's node startup (tsx's loader included), or the re-fork that
    // should be ready is killed too.
    const { workers, seen } = make(1, mode, { readyWaitMs: 2000 });
    const t0 = Date.now();
    // start() does not wait forever: it resolves once the stuck worker is killed.
    await workers.start();
    assert.ok(Date.now() - t0 >= 1900, "not before the ready wait");
    assert.equal(seen.slow.length, 1);
    assert.equal(seen.exits[0]?.signal, "SIGKILL");
    assert.equal(seen.exits[0]?.expected, false);
    mode.value = "ready";
    await until(() => seen.readies.length === 1, "a re-forked worker to be ready");
    assert.ok(!alive(seen.slow[0]));
    await workers.stop();
  });

  test("stop: the stubborn are SIGKILLed after stopWaitMs; nothing forked again, no orphans", async () => {
    const { workers, seen } = make(2, { value: "stubborn" }, { stopWaitMs: 200 });
    await workers.start();
    const pids = workers.pids();
    const t0 = Date.now();
    await workers.stop();
    const took = Date.now() - t0;
    assert.ok(took >= 150 && took < 3000, `stop took ${took} ms`);
    assert.equal(workers.stopping, true);
    assert.deepEqual(
      seen.exits.map((e) => [e.signal, e.expected]),
      [
        ["SIGKILL", true],
        ["SIGKILL", true],
      ],
    );
    assert.ok(pids.every((p) => !alive(p)));
    // Well past respawnDelayMs: a stopped set forks nothing.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(workers.size, 0);
    assert.equal(seen.readies.length, 2);
  });
});
