import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ProbeEvent, Prober } from "../../../src/health/prober.js";
import type { CheckResult, HealthCheckConfig } from "../../../src/health/types.js";

const cfg: HealthCheckConfig = { type: "tcp", interval: 5, timeout: 50, rise: 2, fall: 3 };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await wait(5);
  }
}

describe("prober", () => {
  test("applies fall and rise, emits transitions, never overlaps checks", async () => {
    let healthy = true;
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const p = new Prober({
      check: async (): Promise<CheckResult> => {
        calls++;
        // The outcome is fixed when the check starts, so a check in flight when the test flips
        // `healthy` still counts as the old state and the count below is exact.
        const ok = healthy;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await wait(2);
        running--;
        return { ok, detail: ok ? "ok" : "refused", latencyMs: 1 };
      },
    });
    const events: ProbeEvent[] = [];
    p.subscribe((e) => events.push(e));
    p.add({ id: "s/a", target: { host: "127.0.0.1", port: 1 }, check: cfg });
    p.start();
    await until(() => calls >= 3);
    assert.equal(events.length, 0);
    healthy = false;
    const before = calls;
    await until(() => events.length === 1);
    // `fall` (3) failed checks, plus possibly the one already in flight when we flipped, and
    // one more started before this line runs.
    assert.ok(calls - before >= 3 && calls - before <= 5, `${calls - before} checks`);
    assert.deepEqual(
      { ...events[0], at: 0 },
      { type: "transition", target: "s/a", from: "up", to: "down", reason: "refused", at: 0 },
    );
    healthy = true;
    await until(() => events.length === 2);
    assert.equal(events[1].type === "transition" && events[1].to, "up");
    assert.equal(p.status("s/a")?.transitions, 2);
    await p.stop();
    assert.equal(maxRunning, 1);
    const after = calls;
    await wait(30);
    assert.equal(calls, after, "no checks after stop");
  });

  test("a check that hangs is aborted at the timeout and counts as failed", async () => {
    const p = new Prober({
      check: (_t, _c, signal) =>
        new Promise((resolve) =>
          signal.addEventListener("abort", () =>
            resolve({ ok: false, detail: "timeout", latencyMs: 50 }),
          ),
        ),
    });
    const events: ProbeEvent[] = [];
    p.subscribe((e) => events.push(e));
    p.add({
      id: "x",
      target: { host: "127.0.0.1", port: 1 },
      check: { ...cfg, timeout: 10, fall: 2 },
    });
    p.start();
    await until(() => events.length === 1);
    assert.equal(p.status("x")?.state, "down");
    await p.stop();
  });

  test("passive failures take a server down; passive success never raises it", async () => {
    const p = new Prober({
      check: async () => ({ ok: true, detail: "ok", latencyMs: 0 }),
    });
    p.add({ id: "y", target: { host: "127.0.0.1", port: 1 }, check: { ...cfg, interval: 60_000 } });
    const events: ProbeEvent[] = [];
    p.subscribe((e) => events.push(e));
    p.reportFailure("y", "connect refused");
    p.reportFailure("y");
    p.reportSuccess("y");
    p.reportFailure("y");
    p.reportFailure("y");
    assert.equal(p.status("y")?.state, "up");
    p.reportFailure("y");
    assert.equal(p.status("y")?.state, "down");
    p.reportSuccess("y");
    assert.equal(p.status("y")?.state, "down");
    assert.equal(events.length, 1);
    await p.stop();
  });

  test("dynamic weights are published; stop() aborts in-flight checks", async () => {
    let n = 0;
    const p = new Prober({
      check: async (_t, _c, signal) => {
        n++;
        if (n === 3) await new Promise((r) => signal.addEventListener("abort", r));
        return { ok: true, weight: n === 1 ? 7 : 3, detail: "", latencyMs: 0 };
      },
    });
    const events: ProbeEvent[] = [];
    p.subscribe((e) => events.push(e));
    p.add({ id: "z", target: { host: "127.0.0.1", port: 1 }, check: cfg });
    p.start();
    await until(() => n >= 3);
    assert.deepEqual(
      events.map((e) => (e.type === "weight" ? e.weight : e.type)),
      [7, 3],
    );
    const t0 = Date.now();
    await p.stop();
    assert.ok(Date.now() - t0 < 100);
  });
});
