/**
 * The pieces of the proxy worker processes that need no process: a worker's table, rebuilt
 * from the wire form of the primary's (after a JSON round trip, as over IPC), routes every key
 * exactly as the primary's; tables for another server list wait for their config; replica sets
 * in a worker forward signals instead of deciding; counter reports add into the primary's
 * counters as deltas that never go back.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseConfig } from "../../../src/config/index.js";
import { Leadership } from "../../../src/failover/leader.js";
import { setControllers } from "../../../src/failover/set-control.js";
import { logger } from "../../../src/log.js";
import type { TargetState } from "../../../src/proxy/control.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { ProxyPool } from "../../../src/proxy/pool.js";
import type { BackendServer } from "../../../src/proxy/server.js";
import type { PoolTarget } from "../../../src/proxy/target.js";
import { type FromWorker, toWire, type WorkerReport } from "../../../src/proxy/workers/ipc.js";
import { addDelta, WorkerTotals } from "../../../src/proxy/workers/merge.js";
import { WorkerProxyPool } from "../../../src/proxy/workers/worker-pool.js";

const log = logger({ level: "silent" });

/** The i-th entry of a pool's list, configured as a plain server. */
function server(pool: { servers: readonly PoolTarget[] }, i: number): BackendServer {
  const s = pool.servers[i];
  assert.ok(s.kind === "server");
  return s;
}

function deps() {
  return {
    driver: memcacheDriver,
    prober: undefined,
    log,
    global: { total_connections: 0, curr_connections: 0 },
    setControllers: setControllers(new Leadership()),
  };
}

function poolConfig(n: number, hash: string, dist: string, extra: string[] = []) {
  const yaml = [
    "p:",
    "  listen: 127.0.0.1:1",
    `  hash: ${hash}`,
    `  distribution: ${dist}`,
    "  auto_eject_hosts: true",
    ...extra.map((l) => `  ${l}`),
    "  servers:",
    ...Array.from({ length: n }, (_, i) => `    - 127.0.0.1:${20000 + i}:${1 + (i % 3)}`),
  ].join("\n");
  return parseConfig(yaml, "t.yml").pools[0];
}

/** What crosses IPC: JSON. */
function overIpc<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

describe("proxy workers: tables", () => {
  test("a worker's table from the wire picks exactly as the primary's", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom("fnv1a_64", "md5", "murmur", "crc32a"),
        fc.constantFrom("ketama", "modula", "random"),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 24 }), { minLength: 1, maxLength: 40 }),
        (n, hash, dist, ejected, keys) => {
          const cfg = poolConfig(n, hash, dist);
          const primary = new ProxyPool(cfg, deps());
          primary.servers.forEach((s, i) => {
            if (ejected[i])
              (primary.control.state(s) as TargetState).ejectedUntil = Date.now() + 60_000;
          });
          primary.rebuild();
          const worker = new WorkerProxyPool(overIpc(cfg), deps(), 1);
          worker.setTable(overIpc(toWire(primary.table)));
          assert.equal(worker.table.version, primary.table.version);
          assert.equal(worker.table.picker.live, primary.table.picker.live);
          for (const k of keys) {
            const b = Buffer.from(k);
            if (dist === "random") {
              // random picks a live server at random: same live set, not the same draw.
              const w = worker.table.picker.pick(b, 0, b.length);
              assert.ok(
                w < 0 ? primary.table.picker.live === 0 : worker.table.servers[w].live || n === 1,
              );
            } else
              assert.equal(
                worker.table.picker.pick(b, 0, b.length),
                primary.table.picker.pick(b, 0, b.length),
              );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test("a pool of one taken out by the operator routes nowhere in the worker too", () => {
    const cfg = poolConfig(1, "fnv1a_64", "ketama");
    const primary = new ProxyPool(cfg, deps());
    const key = Buffer.from("k");
    assert.equal(primary.table.picker.pick(key, 0, 1), 0);
    primary.control.drain(primary.servers[0]);
    assert.equal(primary.table.picker.pick(key, 0, 1), -1);
    const worker = new WorkerProxyPool(overIpc(cfg), deps(), 1);
    worker.setTable(overIpc(toWire(primary.table)));
    assert.equal(worker.table.picker.pick(key, 0, 1), -1);
    primary.control.enable(primary.servers[0]);
    worker.setTable(overIpc(toWire(primary.table)));
    assert.equal(worker.table.picker.pick(key, 0, 1), 0);
  });

  test("a table for another server list waits for its config; the config brings it", () => {
    const two = poolConfig(2, "fnv1a_64", "ketama");
    const three = poolConfig(3, "fnv1a_64", "ketama");
    const primary = new ProxyPool(two, deps());
    const worker = new WorkerProxyPool(overIpc(two), deps(), 1);
    worker.setTable(toWire(primary.table));
    primary.apply(three);
    const before = worker.table;
    worker.setTable(overIpc(toWire(primary.table)));
    assert.equal(worker.table, before, "ignored: built for three servers");
    worker.reconfigure(overIpc(three), overIpc(toWire(primary.table)));
    assert.equal(worker.table.version, primary.table.version);
    assert.equal(worker.table.servers.length, 3);
  });

  test("failures are reported to the primary, never counted in the worker", () => {
    const cfg = poolConfig(2, "fnv1a_64", "ketama", ["server_failure_limit: 1"]);
    const worker = new WorkerProxyPool(cfg, deps(), 7);
    const sent: FromWorker[] = [];
    worker.send = (m) => sent.push(m);
    const v = worker.table.version;
    worker.serverFailed(server(worker, 1), "refused the connection");
    assert.deepEqual(sent, [
      {
        t: "failed",
        pool: "p",
        gen: 7,
        server: "127.0.0.1:20001",
        reason: "refused the connection",
      },
    ]);
    assert.equal(worker.pool.control.state(server(worker, 1)).ejectedUntil, 0);
    assert.equal(worker.table.version, v);
  });

  test("a worker's replica set follows views and forwards member failures", async () => {
    const cfg = parseConfig(
      [
        "p:",
        "  listen: 127.0.0.1:1",
        "  servers:",
        "    - name: set1",
        "      write: all",
        "      members:",
        '        - { address: "127.0.0.1:20000" }',
        '        - { address: "127.0.0.1:20001" }',
      ].join("\n"),
      "t.yml",
    ).pools[0];
    const worker = new WorkerProxyPool(cfg, deps(), 2);
    const sent: FromWorker[] = [];
    worker.send = (m) => sent.push(m);
    await Promise.resolve(); // set.ts starts its controller in a microtask
    const set = worker.servers[0];
    assert.ok(set.kind === "set");
    set.memberFailed(1, "timed out");
    assert.deepEqual(sent, [
      {
        t: "member",
        pool: "p",
        gen: 2,
        set: "set1",
        what: "failed",
        member: 1,
        reason: "timed out",
      },
    ]);
    // Not marked down here: only a view from the primary changes it.
    assert.equal(set.view.members[1].health, "up");
    const view = {
      ...set.view,
      version: 9,
      reason: "member down",
      members: [set.view.members[0], { ...set.view.members[1], health: "down" as const }],
    };
    const table = toWire(worker.table);
    table.servers[0].set = view;
    worker.setTable(overIpc(table));
    assert.equal(set.view.members[1].health, "down");
    await worker.close();
  });
});

describe("proxy workers: counter totals", () => {
  test("deltas add up; a counter that went down was reset; gauges may go down", () => {
    const into = { a: 10, g: 3 };
    addDelta(into, { a: 5, g: 2 }, undefined, new Set(["g"]));
    assert.deepEqual(into, { a: 15, g: 5 });
    addDelta(into, { a: 7, g: 1 }, { a: 5, g: 2 }, new Set(["g"]));
    assert.deepEqual(into, { a: 17, g: 4 });
    addDelta(into, { a: 1, g: 1 }, { a: 7, g: 1 }, new Set(["g"]));
    assert.deepEqual(into, { a: 18, g: 4 });
  });

  test("a worker's reports sum into the primary's counters and stay after it dies", () => {
    const cfg = poolConfig(2, "fnv1a_64", "ketama");
    const primary = new ProxyPool(cfg, deps());
    const global = { total_connections: 4, curr_connections: 1 };
    const totals = new WorkerTotals({
      global,
      pool: (n, g) => (n === "p" && g === 1 ? primary : undefined),
    });
    primary.counters.forward_error = 2;
    const worker = new WorkerProxyPool(cfg, deps(), 1);
    const report = (): WorkerReport => ({
      global: { total_connections: 6, curr_connections: 2 },
      pools: { p: worker.report() },
    });
    worker.pool.counters.forward_error = 3;
    worker.pool.counters.client_connections = 2;
    server(worker, 0).counters.requests = 10;
    server(worker, 0).counters.server_connections = 1;
    server(worker, 0).latency.observe(0.2);
    totals.add(report());
    server(worker, 0).counters.requests = 15;
    server(worker, 0).latency.observe(0.3);
    totals.add(report());
    assert.equal(primary.counters.forward_error, 5);
    assert.equal(primary.counters.client_connections, 2);
    assert.equal(server(primary, 0).counters.requests, 15);
    assert.equal(server(primary, 0).counters.server_connections, 1);
    assert.equal(server(primary, 0).latency.count, 2);
    assert.deepEqual(global, { total_connections: 10, curr_connections: 3 });
    totals.retire();
    assert.equal(server(primary, 0).counters.requests, 15);
    assert.equal(primary.counters.forward_error, 5);
    assert.equal(primary.counters.client_connections, 0);
    assert.equal(server(primary, 0).counters.server_connections, 0);
    assert.deepEqual(global, { total_connections: 10, curr_connections: 1 });
  });
});
