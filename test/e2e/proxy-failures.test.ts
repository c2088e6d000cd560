/**
 * Failure handling of a memcache pool over real memcached processes: a dead backend is named
 * in the error and the other shard keeps serving; with auto_eject_hosts its keys move and the
 * failed request is retried on the new owner; a SIGSTOPped backend times out without holding
 * up the other; a client that stops reading is disconnected.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { freePorts } from "../../tools/ports.js";
import { freeze, type Proc, startMemcached, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { type RunningProxy, serverOf, startProxy } from "./proxy-harness.js";

async function setup(extra: string): Promise<{ px: RunningProxy; mc: Proc[]; ports: number[] }> {
  const ports = await freePorts(3);
  const mc = await Promise.all(ports.slice(0, 2).map((p) => startMemcached(p)));
  const px = await startProxy(`
beta:
  listen: 127.0.0.1:${ports[2]}
  hash: md5
  distribution: ketama
${extra}
  servers:
    - 127.0.0.1:${ports[0]}:1
    - 127.0.0.1:${ports[1]}:1
`);
  return { px, mc, ports };
}

/** A key the pool currently routes to server `idx`. */
function keyOn(px: RunningProxy, idx: number, prefix: string): string {
  const pool = [...px.proxy.pools()][0];
  for (let i = 0; i < 10_000; i++) {
    const k = `${prefix}${i}`;
    const b = Buffer.from(k);
    if (pool.table.picker.pick(b, 0, b.length) === idx) return k;
  }
  throw new Error("no key found");
}

describe("proxy failures", () => {
  const running: RunningProxy[] = [];
  const stopped: Proc[] = [];
  after(async () => {
    for (const p of stopped) p.child.kill("SIGCONT");
    await Promise.all(running.map((p) => p.stop()));
    await stopAll();
  });

  test("a dead backend is named in the error; the other shard keeps serving", async () => {
    const { px, mc, ports } = await setup("  timeout: 1000");
    running.push(px);
    const k0 = keyOn(px, 0, "d");
    const k1 = keyOn(px, 1, "d");
    const c = await RawClient.connect(px.port());
    assert.equal(await c.call(`set ${k1} 0 0 1\r\nb\r\n`), "STORED\r\n");
    await mc[0].stop("SIGKILL");
    const err = await c.call(`get ${k0}\r\n`);
    assert.match(err, new RegExp(`^SERVER_ERROR keepcache: backend 127\\.0\\.0\\.1:${ports[0]} `));
    assert.equal(await c.call(`get ${k1}\r\n`, "END\r\n"), `VALUE ${k1} 0 1\r\nb\r\nEND\r\n`);
    // A multi-get touching the dead shard fails as a whole, naming it.
    assert.match(await c.call(`get ${k1} ${k0}\r\n`), new RegExp(`${ports[0]}`));
    c.close();
  });

  test("auto_eject_hosts: the dead server's keys move and the request is retried there", async () => {
    const { px, mc, ports } = await setup(
      "  timeout: 1000\n  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: 30000",
    );
    running.push(px);
    const k0 = keyOn(px, 0, "e");
    const c = await RawClient.connect(px.port());
    assert.equal(await c.call(`set ${k0} 0 0 1\r\na\r\n`), "STORED\r\n");
    // The server hangs with the set in flight, then dies: the set fails there, the server is
    // ejected (limit 1) and the set is retried on the server that owns the key now.
    await freeze(mc[0].child);
    c.write(`set ${k0} 0 0 1\r\nz\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    await mc[0].stop("SIGKILL");
    assert.equal(await c.readUntil("\r\n"), "STORED\r\n");
    assert.equal(await c.call(`get ${k0}\r\n`, "END\r\n"), `VALUE ${k0} 0 1\r\nz\r\nEND\r\n`);
    const pool = [...px.proxy.pools()][0];
    assert.equal(pool.counters.server_ejects, 1);
    assert.ok(pool.counters.retries >= 1);
    assert.deepEqual(
      pool.table.servers.map((s) => s.live),
      [false, true],
    );
    assert.ok(serverOf(pool, 0).counters.server_ejected_at > 0, String(ports[0]));
    c.close();
  });

  test("a SIGSTOPped backend times out by name and does not hold up the other", async () => {
    const { px, mc, ports } = await setup("  timeout: 300");
    running.push(px);
    const k0 = keyOn(px, 0, "s");
    const k1 = keyOn(px, 1, "s");
    const a = await RawClient.connect(px.port());
    const b = await RawClient.connect(px.port());
    assert.equal(await a.call(`set ${k0} 0 0 1\r\nx\r\n`), "STORED\r\n");
    await freeze(mc[0].child);
    stopped.push(mc[0]);
    const t0 = Date.now();
    a.write(`get ${k0}\r\n`);
    // While `a` waits on the stopped server, `b` gets 20 answers from the other one.
    for (let i = 0; i < 20; i++)
      assert.equal(await b.call(`set ${k1} 0 0 1\r\ny\r\n`), "STORED\r\n");
    assert.ok(Date.now() - t0 < 250, `other shard served in ${Date.now() - t0} ms`);
    const err = await a.readUntil("\r\n");
    assert.equal(
      err,
      `SERVER_ERROR keepcache: backend 127.0.0.1:${ports[0]} timed out after 300 ms\r\n`,
    );
    assert.ok(Date.now() - t0 >= 290);
    mc[0].child.kill("SIGCONT");
    const pool = [...px.proxy.pools()][0];
    assert.ok(serverOf(pool, 0).counters.server_timedout >= 1);
    a.close();
    b.close();
  });

  test("active health checks eject a hung server and restore it, by table swaps", async () => {
    const { px, mc } = await setup(
      "  auto_eject_hosts: true\n  server_failure_limit: 100\n  health: { interval: 100, timeout: 100, rise: 1, fall: 1 }",
    );
    running.push(px);
    const pool = [...px.proxy.pools()][0];
    const live = () => pool.table.servers.map((s) => s.live);
    const waitFor = async (want: boolean[]) => {
      for (let i = 0; i < 60 && JSON.stringify(live()) !== JSON.stringify(want); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(live(), want);
    };
    const v0 = pool.table.version;
    await freeze(mc[1].child);
    stopped.push(mc[1]);
    await waitFor([true, false]);
    // With server 1 out, every key goes to server 0.
    const k = keyOn(px, 0, "h");
    const c = await RawClient.connect(px.port());
    assert.equal(await c.call(`set ${k} 0 0 1\r\nh\r\n`), "STORED\r\n");
    mc[1].child.kill("SIGCONT");
    await waitFor([true, true]);
    assert.ok(pool.table.version >= v0 + 2);
    c.close();
  });

  test("a server whose requests and health checks both fail is ejected once", async () => {
    const { px, mc } = await setup(
      "  timeout: 5000\n  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: 30000\n  health: { interval: 50, timeout: 50, rise: 1, fall: 1 }",
    );
    running.push(px);
    const pool = [...px.proxy.pools()][0];
    const k0 = keyOn(px, 0, "o");
    const c = await RawClient.connect(px.port());
    assert.equal(await c.call(`set ${k0} 0 0 1\r\na\r\n`), "STORED\r\n");
    // A request in flight on the hung server while its health check times out; then the
    // server dies, failing that request too: two signals, one outage, one ejection.
    await freeze(mc[0].child);
    stopped.push(mc[0]);
    c.write(`get ${k0}\r\n`);
    for (let i = 0; i < 100 && !pool.control.state(serverOf(pool, 0)).healthDown; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      pool.control.state(serverOf(pool, 0)).healthDown,
      true,
      "the health check saw the server hang",
    );
    await mc[0].stop("SIGKILL");
    // The get is retried on the other server (where the key does not exist).
    assert.equal(await c.readUntil("END\r\n", 5000), "END\r\n");
    assert.equal(pool.counters.server_ejects, 1);
    c.close();
  });

  test("client_connections and max_request_bytes are enforced", async () => {
    const { px } = await setup("  client_connections: 1\n  max_request_bytes: 1024");
    running.push(px);
    const a = await RawClient.connect(px.port());
    const big = "x".repeat(2000);
    assert.equal(
      await a.call(`set big 0 0 ${big.length}\r\n${big}\r\n`),
      "SERVER_ERROR object too large for cache\r\n",
    );
    assert.equal(await a.call("set ok 0 0 1\r\n1\r\n"), "STORED\r\n");
    const b = await RawClient.connect(px.port());
    assert.equal(await b.waitClosed(2000), true);
    const pool = [...px.proxy.pools()][0];
    assert.equal(pool.counters.rejected_connections, 1);
    a.close();
  });

  test("a client that stops reading is disconnected at client_output_limit", async () => {
    const { px } = await setup("  client_output_limit: 262144");
    running.push(px);
    const c = await RawClient.connect(px.port());
    const value = "v".repeat(100_000);
    assert.equal(await c.call(`set big 0 0 ${value.length}\r\n${value}\r\n`), "STORED\r\n");
    c.close();
    const sock = net.connect({ port: px.port(), host: "127.0.0.1" });
    await new Promise((r) => sock.once("connect", r));
    sock.pause(); // never reads
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.on("error", () => {});
    sock.write("get big\r\n".repeat(400)); // 40 MB of replies
    const pool = [...px.proxy.pools()][0];
    for (let i = 0; i < 100 && pool.counters.output_overflow_closes === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(pool.counters.output_overflow_closes, 1);
    // A paused socket sees the close only once it reads again; it never gets all 40 MB.
    let received = 0;
    sock.on("data", (d: Buffer) => {
      received += d.length;
    });
    sock.resume();
    const res = await Promise.race([
      closed.then(() => "closed"),
      new Promise((r) => setTimeout(() => r("still open"), 5000)),
    ]);
    assert.equal(res, "closed");
    assert.ok(received < 40_000_000, `received ${received}`);
    sock.destroy();
  });
});
