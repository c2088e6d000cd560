/**
 * The control plane with `workers: 2` (compiled CLI, real memcached): a backend killed under
 * the worker's preconnected connection is reported by the worker, the primary ejects it
 * (auto_eject_hosts) and pushes the new table, every client connection of both processes then
 * routes its key to the other server, and after server_retry_timeout back again; SIGHUP with a
 * new server list reaches every connection, and a new worker count restarts the workers; a
 * SIGKILLed worker is forked again while service and counters go on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { freePorts } from "../../tools/ports.js";
import { startMemcached, startRedis } from "../../tools/procs.js";
import { reloadWith, suiteDir, until } from "../helpers/keepcache-run.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange } from "./proxy-harness.js";
import {
  acceptedBy,
  alive,
  logRecords,
  mcClient,
  mcConf,
  openSpread,
  runProxy,
  statsDoc,
  stopProxy,
  workerPids,
} from "./proxy-workers-helpers.js";

const dir = suiteDir("kc-pwc-");

function direct(port: number, key: string): Promise<string> {
  return exchange(port, `get ${key}\r\n`, (s) => s.endsWith("END\r\n"));
}

/**
 * A key the pool puts on `port` (written through the proxy, read back directly). The counter
 * comes first: ketama looks up the low 32 bits of fnv1a_64, and FNV-1a's multiply only carries
 * differences upward, so keys that differ in their last characters (`key0`..`key199`) hash
 * into a few narrow ranges, which for about one port pair in ten all fall on one server's
 * arcs. Characters after the counter spread them over the ring (66+ of 200 keys per server
 * over 3000 random port pairs).
 */
async function keyOn(c: RawClient, port: number, stats: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const k = `${i}:key-on`;
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

describe("proxy workers: control plane", () => {
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
      mcConf(listen, [m1, m2], { extra, timeout: 3000 }),
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
    const proc = await runProxy(file, mcConf(listen, [m1]), listen, stats);
    const conns = await openSpread(listen, 20, () => mcClient(listen));
    await storeFromAll(conns, "rk", m1);

    reloadWith(proc, file, mcConf(listen, [m2]));
    await storeFromAll(conns, "rk", m2);
    assert.equal(acceptedBy(listen).size, 2, "connections kept in both processes");

    const before = workerPids(proc);
    reloadWith(proc, file, mcConf(listen, [m2], { workers: 3 }));
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
    const proc = await runProxy(file, mcConf(listen, [m1]), listen, stats);
    const old = await openSpread(listen, 10, () => mcClient(listen));
    reloadWith(proc, file, mcConf(listen, [r1], { extra: ["redis: true"] }));
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
    const proc = await runProxy(join(dir, "kill.yml"), mcConf(listen, [m1]), listen, stats);
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
