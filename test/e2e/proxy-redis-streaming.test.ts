/**
 * Large Redis values stream through the proxy (a `keepcache run` process in front of a real
 * redis-server): a request's big last argument is forwarded as it arrives, a big bulk reply
 * leaves for its client as it arrives, so the proxy holds a few read buffers per value, not
 * the value. The figure: the proxy's peak RSS (VmHWM) while 8 ioredis clients each SET then
 * GET 64 MB at once, against the 512 MB in flight. The replies match a direct connection.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Redis } from "ioredis";
import { freePorts } from "../../tools/ports.js";
import { type Proc, startRedis } from "../../tools/procs.js";
import { sampleRss } from "../../tools/rss.js";
import { ioredis as io, ioredisClients } from "../helpers/ioredis.js";
import { startRun, suiteDir } from "../helpers/keepcache-run.js";

const MB = 1024 * 1024;
const dir = suiteDir("kc-streaming-");
let redisPort = 0;
let proxyPort = 0;
let shortPort = 0;
let proxy: Proc;

before(async () => {
  const [stats, ...ports] = await freePorts(4);
  [redisPort, proxyPort, shortPort] = ports;
  await startRedis(redisPort);
  proxy = await startRun(
    join(dir, "keepcache.yml"),
    `pools:
  big:
    listen: 127.0.0.1:${proxyPort}
    redis: true
    # A 64 MB request or reply keeps the server busy: it is silent longer than usual.
    timeout: 10000
    servers:
      - 127.0.0.1:${redisPort}:1
  short:
    listen: 127.0.0.1:${shortPort}
    redis: true
    timeout: 500
    servers:
      - 127.0.0.1:${redisPort}:1
`,
    { listen: proxyPort, stats },
  );
});

after(() => {
  for (const c of ioredisClients) c.disconnect();
});

describe("large values stream through", { timeout: 180_000 }, () => {
  test("8 clients each SET then GET 64 MB: the proxy's peak RSS stays under 2x the data in flight", async () => {
    const pid = proxy.child.pid as number;
    const n = 8;
    const size = 64 * MB;
    const cs = Array.from({ length: n }, () => io(proxyPort));
    await Promise.all(cs.map((c) => c.ping()));
    const sampler = sampleRss(pid);
    let mem: { idle: number; peak: number; hwm: number };
    try {
      await Promise.all(
        cs.map(async (c, i) => {
          const value = Buffer.alloc(size, 97 + i);
          assert.equal(await c.set(`stream:${i}`, value), "OK");
          const back = await c.getBuffer(`stream:${i}`);
          assert.equal(back?.length, size);
          assert.ok(back?.equals(value), `value ${i} came back changed`);
        }),
      );
    } finally {
      mem = sampler.stop();
    }
    const { idle, peak, hwm } = mem;
    const inFlight = n * size;
    console.log(
      `proxy RSS idle ${(idle / MB).toFixed(0)} MB, sampled peak ${(peak / MB).toFixed(0)} MB, VmHWM ${(hwm / MB).toFixed(0)} MB; ${inFlight / MB} MB in flight (${(hwm / inFlight).toFixed(2)}x)`,
    );
    assert.ok(hwm < 2 * inFlight, `VmHWM ${hwm} >= 2 x ${inFlight}`);
    await cs[0].del(...Array.from({ length: n }, (_, i) => `stream:${i}`));
  });

  test("4 MB and 64 MB SET, GET, APPEND, GETRANGE, STRLEN: replies match a direct connection", async () => {
    const direct = io(redisPort);
    const viaProxy = io(proxyPort);
    for (const size of [4 * MB, 64 * MB]) {
      const run = async (c: Redis, key: string) => {
        const value = Buffer.alloc(size, "v");
        value.write("head", 0);
        const got: unknown[] = [];
        got.push(await c.set(key, value));
        got.push(await c.append(key, Buffer.alloc(size, "w")));
        got.push(await c.strlen(key));
        got.push(await c.getrange(key, 0, 3));
        const whole = await c.getBuffer(key);
        got.push(whole?.length, whole?.subarray(size - 2, size + 2).toString());
        // A pipeline: the large SET among small commands keeps its place.
        const p = await c
          .pipeline()
          .set(`${key}:small`, "1")
          .set(key, value)
          .getBuffer(key)
          .incr(`${key}:small`)
          .exec();
        got.push(
          p?.map(([err, r]) => (err ? `ERR ${err.message}` : Buffer.isBuffer(r) ? r.length : r)),
        );
        await c.del(key, `${key}:small`);
        return got;
      };
      const d = await run(direct, `side:d:${size}`);
      const k = await run(viaProxy, `side:k:${size}`);
      assert.deepEqual(k, d, `${size / MB} MB`);
    }
  });

  test("a client that stops sending mid-value does not hold up other clients", async () => {
    const other = io(shortPort);
    const s = net.connect({ port: shortPort, host: "127.0.0.1" });
    await new Promise((r) => s.once("connect", r));
    // The header and 1 MB of a 64 MB SET, then silence.
    s.write(`*3\r\n$3\r\nSET\r\n$9\r\nstalled:k\r\n$${64 * MB}\r\n`);
    s.write(Buffer.alloc(MB, "x"));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) assert.equal(await other.set(`other:${i}`, "v"), "OK");
    assert.ok(Date.now() - t0 < 5000);
    // Past the pool's 500 ms timeout the stalled upload is still not failed: the server waits
    // for the client, not the other way round. The rest arrives and is stored.
    await new Promise((r) => setTimeout(r, 1500));
    const reply = new Promise<string>((resolve) => s.once("data", (d) => resolve(d.toString())));
    s.write(Buffer.alloc(63 * MB, "x"));
    s.write("\r\n");
    assert.equal(await reply, "+OK\r\n");
    assert.equal(await other.strlen("stalled:k"), 64 * MB);
    s.destroy();
    await other.del("stalled:k", ...Array.from({ length: 50 }, (_, i) => `other:${i}`));
  });
});
