/**
 * The control plane with `workers: 2` (compiled CLI, real memcached): a backend killed under
 * the worker's preconnected connection is reported by the worker, the primary ejects it
 * (auto_eject_hosts) and pushes the new table, every client connection of both processes then
 * routes its key to the other server, and after server_retry_timeout back again; SIGHUP with a
 * new server list reaches every connection, and a new worker count restarts the workers; a
 * SIGKILLed worker is forked again while service and counters go on.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { RawClient } from "../helpers/line-client.js";
import { freePorts } from "../helpers/ports.js";
import { type Proc, startMemcached, startRedis, stopAll } from "../helpers/procs.js";
import { exchange } from "./proxy-harness.js";
import {
  acceptedBy,
  alive,
  logRecords,
  openSpread,
  runProxy,
  statsDoc,
  until,
  workerPids,
} from "./proxy-workers-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "kc-pwc-"));

function conf(
  listen: number,
  servers: number[],
  extra: string[] = [],
  workers = 2,
  timeout = 500,
): string {
  return [
    `workers: ${workers}`,
    "alpha:",
    `  listen: 127.0.0.1:${listen}`,
    "  hash: fnv1a_64",
    "  distribution: ketama",
    `  timeout: ${timeout}`,
    ...extra.map((l) => `  ${l}`),
    "  servers:",
    ...servers.map((p) => `    - 127.0.0.1:${p}:1`),
    "",
  ].join("\n");
}

async function mcClient(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  assert.match(await c.call("version\r\n"), /^VERSION /);
  return c;
}

function direct(port: number, key: string): Promise<string> {
  return exchange(port, `get ${key}\r\n`, (s) => s.endsWith("END\r\n"));
}

/** A key the pool puts on `port` (written through the proxy, read back directly). */
async function keyOn(c: RawClient, port: number, stats: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const k = `key${i}`;
    assert.equal(await c.call(`set ${k} 0 0 1\r\nx\r\n`), "STORED\r\n");
    if ((await direct(port, k)) !== "END\r\n") return k;
  }
  // Only if the server was out of the table (ejected) while the keys were written.
  throw new Error(`no key maps to ${port}: ${JSON.stringify(await statsDoc(stats))}`);
}

/** Every connection stores its own value of `key`, retried while the tables converge. */
async function storeFromAll(conns: RawClient[], key: string, target: number): Promise<void> {
  for (const [i, c] of conns.entries()) {
    const v = `c${i}`;
    await until(async () => {
      const r = await c.call(`set ${key} 0 0 ${v.length}\r\n${v}\r\n`);
      if (r !== "STORED\r\n") return false;
      return (await direct(target, key)) === `VALUE ${key} 0 ${v.length}\r\n${v}\r\nEND\r\n`;
    }, `connection ${i} to store ${key} on ${target}`);
  }
}

async function stopProxy(proc: Proc): Promise<void> {
  const workers = workerPids(proc);
  await proc.stop("SIGTERM");
  assert.equal(proc.child.exitCode, 0, proc.output().slice(-3000));
  await until(() => workers.every((p) => !alive(p)), "workers to exit with the primary", 3000);
}

describe("proxy workers: control plane", () => {
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a failure seen by the worker ejects in the primary; all route around it, then back", async () => {
    const [listen, stats, m1, m2] = await freePorts(4);
    const [, b] = await Promise.all([startMemcached(m1), startMemcached(m2)]);
    const extra = [
      "auto_eject_hosts: true",
      "server_failure_limit: 1",
      "server_retry_timeout: 1500",
      "preconnect: true",
    ];
    const proc = await runProxy(
      join(dir, "eject.yml"),
      // A generous timeout: under a loaded CI machine a slow reply must not eject m2 before the
      // test kills it (server_failure_limit 1); the kill itself fails the connection at once.
      conf(listen, [m1, m2], extra, 2, 3000),
      listen,
      stats,
    );
    const conns = await openSpread(listen, 20, () => mcClient(listen));
    const key = await keyOn(conns[0], m2, stats);
    const [worker] = workerPids(proc);
    await b.stop("SIGKILL");
    // The worker's preconnected connection to m2 saw it go; the primary counted that report.
    await until(
      () =>
        logRecords(proc, "server failure reported by a worker").some((r) => r.worker === worker),
      "the worker's failure report",
    );
    await until(() => logRecords(proc, "ejecting server").length > 0, "the ejection");
    // Every connection, in either process, now stores the key on m1.
    await storeFromAll(conns, key, m1);
    const doc = await statsDoc(stats);
    assert.ok((doc.alpha as Record<string, number>).server_ejects >= 1);
    // server_retry_timeout later it is back (twemproxy puts it back without a check).
    await startMemcached(m2);
    await until(
      () => logRecords(proc, "server back in the pool").length > 0,
      "reinstatement",
      4000,
    );
    await storeFromAll(conns, key, m2);
    for (const c of conns) c.close();
    await stopProxy(proc);
  });

  test("SIGHUP: a new server list reaches every connection; a new worker count restarts them", async () => {
    const [listen, stats, m1, m2] = await freePorts(4);
    await Promise.all([startMemcached(m1), startMemcached(m2)]);
    const file = join(dir, "reload.yml");
    const proc = await runProxy(file, conf(listen, [m1]), listen, stats);
    const conns = await openSpread(listen, 20, () => mcClient(listen));
    await storeFromAll(conns, "rk", m1);

    writeFileSync(file, conf(listen, [m2]));
    proc.child.kill("SIGHUP");
    await storeFromAll(conns, "rk", m2);
    assert.equal(acceptedBy(listen).size, 2, "connections kept in both processes");

    const before = workerPids(proc);
    writeFileSync(file, conf(listen, [m2], [], 3));
    proc.child.kill("SIGHUP");
    await until(() => workerPids(proc).length === before.length + 2, "two new workers");
    await until(() => before.every((p) => !alive(p)), "the old worker to exit");
    const fresh = await openSpread(listen, 10, () => mcClient(listen));
    await storeFromAll(fresh, "rk", m2);
    for (const c of [...conns, ...fresh]) c.close();
    await stopProxy(proc);
  });

  test("SIGHUP that restarts a pool on the same address: the workers free it first", async () => {
    const [listen, stats, m1, r1] = await freePorts(4);
    await Promise.all([startMemcached(m1), startRedis(r1)]);
    const file = join(dir, "restart.yml");
    const proc = await runProxy(file, conf(listen, [m1]), listen, stats);
    const old = await openSpread(listen, 10, () => mcClient(listen));
    writeFileSync(file, conf(listen, [r1], ["redis: true"]));
    proc.child.kill("SIGHUP");
    await until(() => logRecords(proc, "reload done").length > 0, "the reload");
    assert.equal(logRecords(proc, "reload failed part-way").length, 0, proc.output().slice(-2000));
    // The old pool's clients were closed in both processes; the new one is shared again.
    await until(() => old.every((c) => c.closed), "old clients closed");
    const fresh = await openSpread(listen, 10, async () => {
      const c = await RawClient.connect(listen);
      assert.equal(await c.call("*1\r\n$4\r\nPING\r\n"), "+PONG\r\n");
      return c;
    });
    for (const c of fresh) c.close();
    await stopProxy(proc);
  });

  test("replica set: the primary's monitor decides, the worker follows its view", async () => {
    const [listen, stats, a, b] = await freePorts(4);
    const [, mb] = await Promise.all([startMemcached(a), startMemcached(b)]);
    const yaml = [
      "workers: 2",
      "rs:",
      `  listen: 127.0.0.1:${listen}`,
      "  timeout: 500",
      "  servers:",
      "    - name: set1",
      "      write: all",
      "      read: round-robin",
      "      members:",
      `        - { address: "127.0.0.1:${a}" }`,
      `        - { address: "127.0.0.1:${b}" }`,
      "",
    ].join("\n");
    const proc = await runProxy(join(dir, "rs.yml"), yaml, listen, stats);
    const conns = await openSpread(listen, 20, () => mcClient(listen));
    await storeFromAll(conns, "sk", b);
    const [worker] = workerPids(proc);
    await mb.stop("SIGKILL");
    // The worker logs the view it was sent: member b down, decided by the primary.
    await until(
      () =>
        logRecords(proc, "replica set view").some(
          (r) => r.pid === worker && JSON.stringify(r.members).includes(`${b}:unknown:down`),
        ),
      "the worker to follow the primary's view",
    );
    for (const [i, c] of conns.entries()) {
      const v = `c${i}`;
      assert.equal(await c.call(`set sk 0 0 ${v.length}\r\n${v}\r\n`), "STORED\r\n");
      assert.equal(
        await c.call("get sk\r\n", "END\r\n"),
        `VALUE sk 0 ${v.length}\r\n${v}\r\nEND\r\n`,
      );
    }
    for (const c of conns) c.close();
    await stopProxy(proc);
  });

  test("a SIGKILLed worker is forked again; service and totals go on", async () => {
    const [listen, stats, m1] = await freePorts(3);
    await startMemcached(m1);
    const proc = await runProxy(join(dir, "kill.yml"), conf(listen, [m1]), listen, stats);
    const conns = await openSpread(listen, 10, () => mcClient(listen));
    await storeFromAll(conns, "kk", m1);
    const served = (s: Awaited<ReturnType<typeof statsDoc>>) =>
      (s.alpha as Record<string, Record<string, number>>)[`127.0.0.1:${m1}`].requests;
    const before = await statsDoc(stats);
    const [worker] = workerPids(proc);
    process.kill(worker, "SIGKILL");
    await until(() => workerPids(proc).length === 2, "a new worker", 5000);
    const after_ = await statsDoc(stats);
    // The dead worker's requests stay counted; its connections are gone.
    assert.ok(served(after_) >= served(before), `${served(after_)} < ${served(before)}`);
    assert.ok(after_.total_connections >= before.total_connections);
    assert.ok(after_.curr_connections < before.curr_connections);
    const fresh = await openSpread(listen, 10, () => mcClient(listen));
    await storeFromAll(fresh, "kk", m1);
    for (const c of [...conns, ...fresh]) c.close();
    await stopProxy(proc);
  });
});
