/**
 * A memcache pool over three real memcached 1.6.18: base64 meta keys meet their raw twins,
 * multi-gets go out one fragment per server and come back in key order (compared with what
 * the servers hold), lru_crawler is broadcast (metadumps concatenated), shutdown is refused.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { freePorts } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

const untilEnd = (s: string) => s.endsWith("END\r\n");

describe("proxy: memcache gaps over three memcached", () => {
  let mc: number[];
  let px: RunningProxy;
  let port: number;
  const owner = (key: Buffer) => {
    const pool = [...px.proxy.pools()][0];
    return pool.table.picker.pick(key, 0, key.length);
  };

  before(async () => {
    const ports = await freePorts(4);
    mc = ports.slice(0, 3);
    await Promise.all(mc.map((p) => startMemcached(p)));
    px = await startProxy(`
gaps:
  listen: 127.0.0.1:${ports[3]}
  hash: md5
  distribution: ketama
  timeout: 3000
  servers:
    - 127.0.0.1:${mc[0]}:1
    - 127.0.0.1:${mc[1]}:1
    - 127.0.0.1:${mc[2]}:1
`);
    port = px.port();
  });
  after(async () => {
    await px?.stop();
    await stopAll();
  });

  test("mg <base64> b reads a key set as text, and ms <base64> b writes one text reads", async () => {
    const c = await RawClient.connect(port);
    const servers = new Set<number>();
    // Which server a key lands on depends on the (random) ports: go on until every server had
    // keys (bounded), and at least 12 keys.
    for (let i = 0; i < 200 && (i < 12 || servers.size < 3); i++) {
      const key = `b64:${i}:${"x".repeat(i % 12)}`;
      const b64 = Buffer.from(key).toString("base64");
      servers.add(owner(Buffer.from(key)));
      assert.equal(
        await c.call(`set ${key} 0 0 4\r\nt${String(i).padStart(3, "0")}\r\n`),
        "STORED\r\n",
      );
      assert.equal(
        await c.call(`mg ${b64} b v\r\n`, `\r\nt${String(i).padStart(3, "0")}\r\n`),
        `VA 4\r\nt${String(i).padStart(3, "0")}\r\n`,
      );
      // The reverse: written with a base64 key, read as text, through the proxy and directly
      // from the server the raw key hashes to.
      const other = `${key}:m`;
      const ob64 = Buffer.from(other).toString("base64");
      assert.equal(await c.call(`ms ${ob64} 2 b\r\nm${i % 10}\r\n`), "HD\r\n");
      assert.equal(
        await c.call(`get ${other}\r\n`, "END\r\n"),
        `VALUE ${other} 0 2\r\nm${i % 10}\r\nEND\r\n`,
      );
      const direct = await exchange(mc[owner(Buffer.from(other))], `get ${other}\r\n`, untilEnd);
      assert.equal(direct, `VALUE ${other} 0 2\r\nm${i % 10}\r\nEND\r\n`);
    }
    assert.equal(servers.size, 3, "the keys cover every server");
    // A binary key (bytes no text key can hold): ms then mg, both base64, meet on one server.
    const bin = Buffer.from([0x00, 0x20, 0x0a, 0xfe]).toString("base64");
    assert.equal(await c.call(`ms ${bin} 3 b\r\nbin\r\n`), "HD\r\n");
    assert.equal(await c.call(`mg ${bin} b v\r\n`, "bin\r\n"), "VA 3\r\nbin\r\n");
    c.close();
  });

  test("100-key get/gets/gat with duplicates and misses equal what the servers hold", async () => {
    const keys = Array.from({ length: 90 }, (_, i) => `mg:${i}`);
    let sets = "";
    for (const [i, k] of keys.entries())
      if (i % 4 !== 0) sets += `set ${k} ${i} 0 ${k.length + 1}\r\n=${k}\r\n`;
    const stored = keys.length - Math.ceil(keys.length / 4);
    await exchange(port, sets, (s) => (s.match(/STORED/g) ?? []).length === stored);
    const ask = [
      ...keys.slice(0, 45).reverse(),
      "mg:nope1",
      keys[1],
      keys[1],
      ...keys.slice(45),
      keys[0],
      "mg:nope2",
      keys[1],
      "mg:nope3",
      keys[44],
      keys[89],
      keys[0],
    ];
    assert.equal(ask.length, 100);
    // Every server holds some of the keys; from their direct answers, the expected reply.
    const blocks = new Map<string, string>();
    for (const p of mc) {
      const direct = await exchange(p, `gets ${keys.join(" ")}\r\n`, untilEnd);
      const found = [...direct.matchAll(/VALUE (\S+) (\d+) (\d+) (\d+)\r\n(.*)\r\n/g)];
      assert.ok(found.length > 0, `server ${p} holds some keys`);
      for (const m of found) blocks.set(m[1], m[0]);
    }
    assert.equal(blocks.size, stored);
    const expected = (withCas: boolean) =>
      `${ask
        .map((k) => blocks.get(k))
        .filter((b) => b !== undefined)
        .map((b) => (withCas ? b : b.replace(/^(VALUE \S+ \d+ \d+) \d+/, "$1")))
        .join("")}END\r\n`;
    const pool = [...px.proxy.pools()][0];
    const before = pool.counters.fragments;
    assert.equal(await exchange(port, `gets ${ask.join(" ")}\r\n`, untilEnd), expected(true));
    assert.equal(pool.counters.fragments - before, 3, "one fragment per server");
    assert.equal(await exchange(port, `get ${ask.join(" ")}\r\n`, untilEnd), expected(false));
    assert.equal(await exchange(port, `gat 0 ${ask.join(" ")}\r\n`, untilEnd), expected(false));
    // Pipelined multi-gets on one connection stay in order.
    const c = await RawClient.connect(port);
    c.write(
      `get ${ask.join(" ")}\r\nget ${keys[2]} ${keys[0]}\r\nget ${ask.slice(0, 7).join(" ")}\r\n`,
    );
    assert.equal(await c.readUntil("END\r\n"), expected(false));
    assert.equal(
      await c.readUntil("END\r\n"),
      `${blocks.get(keys[2])?.replace(/ \d+\r\n/, "\r\n")}END\r\n`,
    );
    const seven = ask
      .slice(0, 7)
      .map((k) => blocks.get(k)?.replace(/^(VALUE \S+ \d+ \d+) \d+/, "$1") ?? "")
      .join("");
    assert.equal(await c.readUntil("END\r\n"), `${seven}END\r\n`);
    c.close();
  });

  test("lru_crawler: metadump concatenated with one END; crawl/sleep/tocrawl OK from all", async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `dump:${i}`);
    await exchange(
      port,
      keys.map((k) => `set ${k} 0 0 1\r\nd\r\n`).join(""),
      (s) => (s.match(/STORED/g) ?? []).length === keys.length,
    );
    // Other requests pipelined before the dump on the same client: the dump still runs (it has
    // a backend connection of its own; memcached refuses one queued behind other replies).
    // They miss, so no dumped item is bumped between memcached's LRU segments meanwhile.
    const c = await RawClient.connect(port);
    c.write(`${"get nodump:1\r\n".repeat(20)}lru_crawler metadump all\r\n`);
    for (let i = 0; i < 20; i++) assert.equal(await c.readUntil("END\r\n"), "END\r\n");
    // A metadump is not a snapshot: memcached's LRU maintainer may move an item across the
    // crawler's position, so one dump can miss it. Each dump must be well formed (one END, no
    // key twice); together, a few dumps must show every key.
    const seen = new Set<string>();
    for (let tries = 0; tries < 20 && seen.size < keys.length; tries++) {
      if (tries > 0) c.write("lru_crawler metadump all\r\n");
      const dump = await c.readUntil("END\r\n", 5000);
      if (dump.startsWith("BUSY")) {
        // A crawl still running on one server (memcached's own answer): ask again.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      assert.equal(dump.match(/END\r\n/g)?.length, 1, dump.slice(-200));
      const dumped = [...dump.matchAll(/^key=(\S+) /gm)].map((m) =>
        // metadump %-encodes key bytes (memcached uriencode); keys of other tests are binary.
        m[1].replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) =>
          String.fromCharCode(Number.parseInt(h, 16)),
        ),
      );
      for (const k of keys) {
        const n = dumped.filter((d) => d === k).length;
        assert.ok(n <= 1, `${k} dumped ${n} times`);
        if (n === 1) seen.add(k);
      }
    }
    assert.deepEqual(
      [...keys].filter((k) => !seen.has(k)),
      [],
      "every key dumped",
    );
    // Keys came from every server.
    const perServer = new Set(keys.map((k) => owner(Buffer.from(k))));
    assert.equal(perServer.size, 3);
    assert.equal(await c.call("lru_crawler sleep 100\r\n"), "OK\r\n");
    assert.equal(await c.call("lru_crawler tocrawl 0\r\n"), "OK\r\n");
    const crawl = await c.call("lru_crawler crawl all\r\n");
    assert.match(crawl, /^(OK|BUSY currently processing crawler request)\r\n$/);
    assert.equal(await c.call("lru_crawler metadump 200\r\n"), "BADCLASS invalid class id\r\n");
    assert.equal(await c.call("lru_crawler bogus\r\n"), "ERROR\r\n");
    c.close();
  });

  test("shutdown is refused with memcached's error form, saying why; the servers live on", async () => {
    const c = await RawClient.connect(port);
    const reply = await c.call("shutdown\r\n");
    assert.match(reply, /^ERROR: shutdown not enabled through the proxy \(.*every server.*\)\r\n$/);
    assert.equal(await c.call("version\r\n").then((v) => v.startsWith("VERSION ")), true);
    c.close();
    for (const p of mc)
      assert.match(await exchange(p, "version\r\n", (s) => s.endsWith("\r\n")), /^VERSION /);
  });
});
