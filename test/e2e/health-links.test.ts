/**
 * Health checks keep one connection per server (as Sentinel keeps its links): against real
 * memcached and redis-server the servers count the prober's connections, a server that goes
 * away fails the check, and the next check after it returns connects again. TCP checks open
 * a connection each time (accepting is what they test) and leave no TIME-WAIT behind.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { tcpCheck } from "../../src/health/checks/index.js";
import { Prober, type ProbeSpec } from "../../src/health/prober.js";
import { freePort } from "../../tools/ports.js";
import { startMemcached, startRedis, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";

after(() => stopAll());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** A counter from memcached `stats` or redis `INFO` (one short connection of its own). */
async function stat(port: number, redis: boolean, name: string): Promise<number> {
  const c = await RawClient.connect(port);
  try {
    const text = redis
      ? await c.call("INFO stats\r\n", "\r\n\r\n")
      : await c.call("stats\r\n", "END\r\n");
    const m = new RegExp(redis ? `${name}:(\\d+)` : `STAT ${name} (\\d+)`).exec(text);
    assert.ok(m, text);
    return Number(m[1]);
  } finally {
    c.close();
  }
}

function spec(port: number, check: ProbeSpec["check"]): ProbeSpec {
  return { id: `t/${port}`, target: { host: "127.0.0.1", port }, check };
}

describe("kept health-check connections", () => {
  test("memcache: many checks, one connection; a restart fails a check, the next reconnects", async () => {
    const port = await freePort();
    const mc = await startMemcached(port);
    const before = await stat(port, false, "total_connections");
    const prober = new Prober();
    const check = { type: "memcache" as const, interval: 20, timeout: 500, rise: 1, fall: 1 };
    prober.add(spec(port, check));
    prober.start();
    try {
      await until(() => (prober.status(`t/${port}`)?.successes ?? 0) >= 25, 10_000, "25 checks");
      // The test's own stats connections and the prober's link; one per check would be 25.
      const opened = (await stat(port, false, "total_connections")) - before;
      assert.ok(opened < 5, `${opened} connections for 25 checks`);
      await mc.stop();
      await until(() => prober.status(`t/${port}`)?.state === "down", 5000, "down");
      await startMemcached(port);
      await until(() => prober.status(`t/${port}`)?.state === "up", 5000, "up again");
      const s = prober.status(`t/${port}`)?.successes ?? 0;
      await until(() => (prober.status(`t/${port}`)?.successes ?? 0) >= s + 10, 5000, "10 more");
      assert.ok((await stat(port, false, "total_connections")) < 6);
    } finally {
      await prober.stop();
    }
  });

  test("redis: AUTH once per connection, ROLE replies read whole so the link stays in step", async () => {
    const port = await freePort();
    await startRedis(port, ["--requirepass", "health-secret"]);
    const prober = new Prober();
    prober.add(
      spec(port, {
        type: "redis",
        command: "role",
        role: "master",
        password: "health-secret",
        interval: 20,
        timeout: 500,
        rise: 1,
        fall: 1,
      }),
    );
    prober.start();
    try {
      await until(() => (prober.status(`t/${port}`)?.successes ?? 0) >= 25, 10_000, "25 checks");
      assert.equal(prober.status(`t/${port}`)?.last?.detail, "role=master");
      const c = await RawClient.connect(port);
      await c.call("AUTH health-secret\r\n");
      const info = await c.call("INFO stats\r\n", "\r\n\r\n");
      c.close();
      const received = Number(/total_connections_received:(\d+)/.exec(info)?.[1]);
      // The start-up port probe, the prober's link and this client; one per check would be 25.
      assert.ok(received < 5, `${received} connections for 25 checks`);
    } finally {
      await prober.stop();
    }
  });

  test("tcp: a new connection per check, closed without leaving TIME-WAIT", async () => {
    const port = await freePort();
    await startMemcached(port);
    for (let i = 0; i < 50; i++) {
      const r = await tcpCheck({ host: "127.0.0.1", port }, {}, AbortSignal.timeout(2000));
      assert.ok(r.ok, r.detail);
    }
    const tw = execFileSync("ss", ["-Htan", "state", "time-wait", `( dport = :${port} )`], {
      encoding: "utf8",
    });
    const n = tw.split("\n").filter((l) => l.trim() !== "").length;
    assert.ok(n < 5, `${n} sockets in TIME-WAIT after 50 checks:\n${tw}`);
  });
});
