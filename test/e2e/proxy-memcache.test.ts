/**
 * The proxy's memcache pools over two real memcached processes: conformance (memccapable),
 * multi-get order across shards, broadcast commands, meta and binary quiet commands.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { freePorts } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { binaryRequest } from "../helpers/binary-request.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

const run = promisify(execFile);

describe("proxy: memcache pool over two memcached", () => {
  let mc: number[];
  let px: RunningProxy;
  let port: number;

  before(async () => {
    const ports = await freePorts(3);
    mc = ports.slice(0, 2);
    await Promise.all(mc.map((p) => startMemcached(p)));
    px = await startProxy(`
alpha:
  listen: 127.0.0.1:${ports[2]}
  hash: md5
  distribution: ketama
  timeout: 2000
  servers:
    - 127.0.0.1:${mc[0]}:1
    - 127.0.0.1:${mc[1]}:1
`);
    port = px.port();
  });
  after(async () => {
    await px?.stop();
    await stopAll();
  });

  test("memccapable passes every ASCII and binary test (twemproxy: 6/27 ASCII)", async () => {
    const { stdout, stderr } = await run("memccapable", ["-h", "127.0.0.1", "-p", String(port)], {
      timeout: 60_000,
    }).catch((e: { stdout: string; stderr: string }) => e);
    const out = stdout + stderr;
    const passed = (out.match(/\[pass\]/g) ?? []).length;
    const failed = out.split("\n").filter((l) => l.includes("[FAIL]"));
    assert.deepEqual(failed, [], out);
    assert.equal(passed, 54, out);
  });

  test("multi-get across both shards returns values in request order", async () => {
    // md5 spreads keys well (twemproxy's fnv1a_64 can put 40 similar keys on one server).
    const keys = Array.from({ length: 40 }, (_, i) => `mk:${i}`);
    let sets = "";
    for (const k of keys) sets += `set ${k} 0 0 ${k.length + 2}\r\nv=${k}\r\n`;
    await exchange(port, sets, (s) => (s.match(/STORED/g) ?? []).length === keys.length);
    // Each backend really holds some of the keys.
    for (const p of mc) {
      const direct = await exchange(p, `get ${keys.join(" ")}\r\n`, (s) => s.endsWith("END\r\n"));
      const held = (direct.match(/VALUE /g) ?? []).length;
      assert.ok(held > 0 && held < keys.length, `backend ${p} holds ${held} of ${keys.length}`);
    }
    const order = [...keys].reverse().concat(["mk:missing", keys[3], keys[3]]);
    const got = await exchange(port, `gets ${order.join(" ")}\r\n`, (s) => s.endsWith("END\r\n"));
    const seen = [...got.matchAll(/VALUE (\S+) 0 \d+ \d+\r\nv=(\S+)\r\n/g)].map((m) => {
      assert.equal(m[1], m[2]);
      return m[1];
    });
    assert.deepEqual(
      seen,
      order.filter((k) => k !== "mk:missing"),
    );
  });

  test("pipelined requests to both shards come back in order", async () => {
    const c = await RawClient.connect(port);
    let req = "";
    let want = "";
    for (let i = 0; i < 200; i++) {
      req += `set pk${i} 0 0 ${String(i).length}\r\n${i}\r\nget pk${i}\r\n`;
      want += `STORED\r\nVALUE pk${i} 0 ${String(i).length}\r\n${i}\r\nEND\r\n`;
    }
    c.write(req);
    const got = await c.readBytes(want.length);
    assert.equal(got.toString("latin1"), want);
    c.close();
  });

  test("flush_all, verbosity, stats and version through the proxy", async () => {
    const c = await RawClient.connect(port);
    assert.equal(await c.call("set fl 0 0 1\r\nx\r\n"), "STORED\r\n");
    assert.equal(await c.call("flush_all\r\n"), "OK\r\n");
    assert.equal(await c.call("get fl\r\n", "END\r\n"), "END\r\n");
    assert.equal(await c.call("flush_all noreply\r\nmn\r\n"), "MN\r\n");
    assert.equal(await c.call("verbosity 1\r\n"), "OK\r\n");
    assert.match(await c.call("version\r\n"), /^VERSION 1\.6\.18-keepcache-\S+\r\n$/);
    const stats = await c.call("stats\r\n", "END\r\n");
    const pids = await Promise.all(
      mc.map((p) => exchange(p, "stats\r\n", (s) => s.endsWith("END\r\n"))),
    );
    const stat = (s: string, k: string) => Number(new RegExp(`STAT ${k} (\\d+)`).exec(s)?.[1]);
    // Counters are summed over the servers; per-process values come from the first.
    assert.ok(stat(stats, "cmd_flush") >= 4, stats);
    assert.equal(stat(stats, "pid"), stat(pids[0], "pid"));
    assert.equal(stat(stats, "limit_maxbytes"), stat(pids[0], "limit_maxbytes") * 2);
    c.close();
  });

  test("a client that half-closes after its requests still gets every reply", async () => {
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => {
        s.end("set hc 0 0 2\r\nok\r\nget hc\r\nversion\r\n");
      });
      let out = "";
      s.on("data", (d: Buffer) => {
        out += d.toString("latin1");
      });
      s.on("close", () => resolve(out));
      s.on("error", reject);
    });
    assert.match(got, /^STORED\r\nVALUE hc 0 2\r\nok\r\nEND\r\nVERSION \S+\r\n$/);
  });

  test("meta commands with q and mn behave as on memcached itself", async () => {
    const script =
      "ms mq 2 q\r\nhi\r\nmg mq v q\r\nmg nope v q\r\nmg mq q\r\nmd nope q\r\nma nope q\r\n" +
      "ms mq 2 q C1\r\nzz\r\nmd mq q\r\nmg mq v\r\nmn\r\n";
    const direct = await exchange(mc[0], `flush_all\r\n${script}`, (s) => s.endsWith("MN\r\n"));
    const viaProxy = await exchange(port, `flush_all\r\n${script}`, (s) => s.endsWith("MN\r\n"));
    assert.equal(viaProxy, direct);
  });

  test("binary GetKQ batch ended by Noop returns only the hits", async () => {
    const setExtras = Buffer.alloc(8);
    const reqs = [
      binaryRequest(0x11, "bk1", setExtras, "one", 1), // SetQ
      binaryRequest(0x11, "bk2", setExtras, "two", 2),
      binaryRequest(0x0d, "bk1", undefined, "", 3), // GetKQ hit
      binaryRequest(0x0d, "bk-miss", undefined, "", 4), // GetKQ miss: no reply
      binaryRequest(0x0d, "bk2", undefined, "", 5),
      binaryRequest(0x0a, "", undefined, "", 6), // Noop
    ];
    const c = await RawClient.connect(port);
    c.write(Buffer.concat(reqs));
    const replies: Array<{ op: number; opaque: number; key: string }> = [];
    for (let i = 0; i < 3; i++) {
      const h = await c.readBytes(24);
      const body = await c.readBytes(h.readUInt32BE(8));
      const keyLen = h.readUInt16BE(2);
      const ext = h[4];
      replies.push({
        op: h[1],
        opaque: h.readUInt32BE(12),
        key: body.toString("latin1", ext, ext + keyLen),
      });
    }
    assert.deepEqual(replies, [
      { op: 0x0d, opaque: 3, key: "bk1" },
      { op: 0x0d, opaque: 5, key: "bk2" },
      { op: 0x0a, opaque: 6, key: "" },
    ]);
    c.close();
  });
});
