/**
 * The proxy's one retry (dispatch.ts) over three real memcached 1.6.18:
 *   - a multi-get fragment whose server dies is re-planned by key under the table after the
 *     ejection: the survivors' keys are answered, the dead server's keys are misses (as with
 *     twemproxy's rehash), in the client's key order, with no SERVER_ERROR;
 *   - without auto_eject_hosts the same get fails, naming the dead backend;
 *   - `mg <base64> b` is retried on the new owner of the DECODED key.
 * A server is SIGSTOPped before the request and SIGKILLed while it is in flight, so the
 * failure hits a request the proxy already sent (not one routed after the ejection).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ProxyPool } from "../../src/proxy/pool.js";
import { buildTable } from "../../src/proxy/router.js";
import { freePorts } from "../../tools/ports.js";
import { freeze, type Proc, startMemcached, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { type RunningProxy, startProxy } from "./proxy-harness.js";

interface Setup {
  px: RunningProxy;
  pool: ProxyPool;
  mc: Proc[];
  ports: number[];
}

async function setup(eject: boolean): Promise<Setup> {
  const ports = await freePorts(4);
  const mc = await Promise.all(ports.slice(0, 3).map((p) => startMemcached(p)));
  const px = await startProxy(`
retry:
  listen: 127.0.0.1:${ports[3]}
  hash: md5
  distribution: ketama
  timeout: 2000
${eject ? "  auto_eject_hosts: true\n  server_failure_limit: 1\n  server_retry_timeout: 30000\n" : ""}  servers:
    - 127.0.0.1:${ports[0]}:1
    - 127.0.0.1:${ports[1]}:1
    - 127.0.0.1:${ports[2]}:1
`);
  return { px, pool: [...px.proxy.pools()][0], mc, ports };
}

const ownerIn = (pool: ProxyPool, k: string | Buffer) => {
  const b = Buffer.isBuffer(k) ? k : Buffer.from(k);
  return pool.table.picker.pick(b, 0, b.length);
};

/** 60 keys (more if needed, bounded) until every server owns some. */
function spreadKeys(pool: ProxyPool, prefix: string): string[] {
  const keys: string[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < 600 && (keys.length < 60 || seen.size < 3); i++) {
    const k = `${prefix}:${i}`;
    if (keys.length >= 60 && seen.has(ownerIn(pool, k))) continue;
    keys.push(k);
    seen.add(ownerIn(pool, k));
  }
  assert.equal(seen.size, 3, "keys on every server");
  return keys;
}

async function storeAll(c: RawClient, keys: string[]): Promise<void> {
  for (const k of keys)
    assert.equal(await c.call(`set ${k} 7 0 ${k.length}\r\n${k}\r\n`), "STORED\r\n");
}

const valueBlock = (k: string) => `VALUE ${k} 7 ${k.length}\r\n${k}\r\n`;

describe("proxy retry", () => {
  const running: RunningProxy[] = [];
  const stopped: Proc[] = [];
  after(async () => {
    for (const p of stopped) p.child.kill("SIGCONT");
    await Promise.all(running.map((p) => p.stop()));
    await stopAll();
  });

  test("a multi-get fragment on a dying server is re-planned by key (auto_eject_hosts)", async () => {
    const { px, pool, mc } = await setup(true);
    running.push(px);
    const keys = spreadKeys(pool, "mk");
    const owners = keys.map((k) => ownerIn(pool, k));
    const c = await RawClient.connect(px.port());
    await storeAll(c, keys);
    const ask = [...keys, keys[3], keys[0]].reverse();
    const getLine = `get ${ask.join(" ")}\r\n`;
    c.write(getLine);
    assert.equal(await c.readUntil("END\r\n"), `${ask.map(valueBlock).join("")}END\r\n`);
    const fragments = pool.counters.fragments;
    assert.ok(fragments >= 3, "one fragment per server");
    const retries = pool.counters.retries;

    stopped.push(mc[0]);
    await freeze(mc[0].child);
    c.write(getLine);
    await new Promise((r) => setTimeout(r, 50));
    await mc[0].stop("SIGKILL");
    const reply = await c.readUntil("END\r\n");
    const survivors = ask.filter((k) => owners[keys.indexOf(k)] !== 0);
    assert.ok(survivors.length < ask.length, "server 0 owned some keys");
    assert.equal(reply, `${survivors.map(valueBlock).join("")}END\r\n`);
    assert.ok(pool.counters.retries > retries, "the retry counter went up");
    assert.equal(pool.counters.server_ejects, 1);
    assert.equal(pool.table.servers[0].live, false);

    // After the ejection the same get is planned on the new table: the same answer, no retry.
    const now = pool.counters.retries;
    c.write(getLine);
    assert.equal(await c.readUntil("END\r\n"), reply);
    assert.equal(pool.counters.retries, now);
    c.close();
  });

  test("without auto_eject_hosts the multi-get fails, naming the dead backend", async () => {
    const { px, pool, mc, ports } = await setup(false);
    running.push(px);
    const keys = spreadKeys(pool, "ne");
    const c = await RawClient.connect(px.port());
    await storeAll(c, keys);
    await mc[1].stop("SIGKILL");
    c.write(`get ${keys.join(" ")}\r\n`);
    const reply = await c.readUntil("\r\n");
    assert.match(
      reply,
      new RegExp(`^SERVER_ERROR keepcache: backend 127\\.0\\.0\\.1:${ports[1]} `),
    );
    assert.equal(pool.counters.retries, 0);
    c.close();
  });

  test("mg <base64> b is retried on the new owner of the decoded key", async () => {
    const { px, pool, mc, ports } = await setup(true);
    running.push(px);
    // A raw key on server 0 whose base64 text routes elsewhere: a retry hashing the text
    // would pick the wrong server.
    const after0 = buildTable(
      pool.config,
      pool.config.servers.map((s, i) => ({ key: s.key, weight: 1, live: i !== 0 })),
      0,
    );
    let key = "";
    for (let i = 0; i < 5000 && key === ""; i++) {
      const k = `b64retry:${i}`;
      const text = Buffer.from(k).toString("base64");
      const raw = Buffer.from(k);
      if (ownerIn(pool, k) !== 0) continue;
      const next = after0.picker.pick(raw, 0, raw.length);
      if (after0.picker.pick(Buffer.from(text), 0, text.length) !== next) key = k;
    }
    assert.notEqual(key, "", "found a key");
    const b = Buffer.from(key);
    const newOwner = after0.picker.pick(b, 0, b.length);
    // Each survivor holds its own value under the raw key: the answer names who served it.
    for (const i of [1, 2]) {
      const d = await RawClient.connect(ports[i]);
      const v = i === newOwner ? "new-owner" : "not-owner";
      assert.equal(await d.call(`set ${key} 0 0 ${v.length}\r\n${v}\r\n`), "STORED\r\n");
      d.close();
    }
    const c = await RawClient.connect(px.port());
    const b64 = b.toString("base64");
    const retries = pool.counters.retries;
    stopped.push(mc[0]);
    await freeze(mc[0].child);
    c.write(`mg ${b64} b v\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    await mc[0].stop("SIGKILL");
    const reply = await c.readUntil("\r\n", 3000);
    assert.match(reply, /^VA 9/);
    assert.equal(await c.readUntil("\r\n"), "new-owner\r\n");
    assert.equal(pool.counters.retries, retries + 1);
    c.close();
  });
});
