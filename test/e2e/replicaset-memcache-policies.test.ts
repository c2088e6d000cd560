/**
 * memcached replica sets over real memcached, the paths the first e2e left out:
 *   - `write: majority` over 3 members: with one member dead the client still gets STORED
 *     (2 of 3 acknowledge); with two dead it gets a SERVER_ERROR naming the set (1 < 2);
 *   - `write: one` (not replicated: every live member gets the write, the first ack answers):
 *     with one member dead the client gets STORED and reads the value back;
 *   - `read_miss_failover: true`: a miss on the primary is retried on the next member (a key
 *     present only there is found); without it the client gets the primary's miss;
 *   - the twemproxy stats port lists each set's members as "set/host:port" with their own
 *     counters (the requests the members served), and the member-down transition reaches
 *     the admin event ring.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { EventRing } from "../../src/admin/events.js";
import { attachReplicaSetEvents } from "../../src/admin/sources/replicaset.js";
import type { ReplicaSet } from "../../src/proxy/replicaset/set.js";
import { StatsServer } from "../../src/proxy/stats.js";
import { freePorts } from "../../tools/ports.js";
import { type Proc, startMemcached, stopAll } from "../../tools/procs.js";
import { RawClient } from "../helpers/line-client.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function set(proxy: RunningProxy, pool: string): ReplicaSet {
  const s = proxy.proxy.pools_.get(pool)?.servers[0];
  assert.ok(s?.kind === "set");
  return s;
}

/** Waits (bounded) until member i of the pool's set has `health`. */
async function memberHealth(proxy: RunningProxy, pool: string, i: number, health: string) {
  const deadline = Date.now() + 3000;
  while (set(proxy, pool).view.members[i].health !== health) {
    assert.ok(Date.now() < deadline, `${pool} member ${i} never became ${health}`);
    await sleep(20);
  }
}

describe("memcached replica set write and read policies", { timeout: 60_000 }, () => {
  let proxy: RunningProxy | undefined;
  let stats: StatsServer | undefined;
  let detach: (() => void) | undefined;
  const procs: Proc[] = [];
  let ports: number[] = [];
  const ring = new EventRing(200);

  after(async () => {
    detach?.();
    await stats?.close();
    await proxy?.stop();
    await stopAll();
  });

  const setup = async () => {
    if (proxy !== undefined) return proxy;
    ports = await freePorts(11);
    const [a, b, c, d, e, f, g] = ports;
    for (const p of [a, b, c, d, e, f, g]) procs.push(await startMemcached(p));
    const member = (p: number) => `        - { address: "127.0.0.1:${p}" }`;
    const pool = (name: string, listen: number, lines: string[], members: number[]) => [
      `${name}:`,
      `  listen: 127.0.0.1:${listen}`,
      "  timeout: 500",
      "  servers:",
      `    - name: ${name}set`,
      ...lines.map((l) => `      ${l}`),
      "      members:",
      ...members.map(member),
    ];
    proxy = await startProxy(
      [
        ...pool("maj", ports[7], ["write: majority"], [a, b, c]),
        ...pool("one", ports[8], ["write: one"], [d, e]),
        ...pool("miss", ports[9], ["read_miss_failover: true"], [f, g]),
        "nomiss:",
        `  listen: 127.0.0.1:${ports[10]}`,
        "  servers:",
        "    - name: nomissset",
        "      members:",
        member(f),
        member(g),
      ].join("\n"),
    );
    detach = attachReplicaSetEvents(proxy.proxy, ring).detach;
    return proxy;
  };

  test("write: majority: STORED with 1 of 3 members down, SERVER_ERROR with 2 down", async () => {
    const p = await setup();
    const cl = await RawClient.connect(p.port("maj"));
    assert.equal(await cl.call("set m1 0 0 2\r\nv1\r\n", "\r\n"), "STORED\r\n");
    procs[2].child.kill("SIGKILL");
    // Even before the set notices, the dead member's failure is outvoted by two acks.
    for (let i = 0; i < 20; i++)
      assert.equal(await cl.call(`set m${i} 0 0 2\r\nv2\r\n`, "\r\n"), "STORED\r\n");
    await memberHealth(p, "maj", 2, "down");
    assert.equal(await cl.call("get m5\r\n", "END\r\n"), "VALUE m5 0 2\r\nv2\r\nEND\r\n");
    procs[1].child.kill("SIGKILL");
    const r = await cl.call("set m2 0 0 2\r\nv3\r\n", "\r\n");
    assert.match(r, /^SERVER_ERROR /, `a majority write with 1 of 3 live: ${r}`);
    await memberHealth(p, "maj", 1, "down");
    const r2 = await cl.call("set m2 0 0 2\r\nv3\r\n", "\r\n");
    assert.match(r2, /^SERVER_ERROR .*majset has 1 of 3 members live, a majority write needs 2/);
    // Reads still find the surviving member.
    assert.equal(await cl.call("get m5\r\n", "END\r\n"), "VALUE m5 0 2\r\nv2\r\nEND\r\n");
    cl.close();
    const downs = ring.list().filter((e) => e.subject.startsWith("maj/majset/"));
    assert.ok(
      downs.some((e) => e.kind === "health" && e.message.startsWith(`127.0.0.1:${ports[2]} down`)),
      JSON.stringify(downs),
    );
  });

  test("write: one: STORED with one member down, and the value reads back", async () => {
    const p = await setup();
    const cl = await RawClient.connect(p.port("one"));
    assert.equal(await cl.call("set o1 0 0 2\r\nv1\r\n", "\r\n"), "STORED\r\n");
    procs[4].child.kill("SIGKILL");
    for (let i = 0; i < 20; i++) {
      assert.equal(await cl.call(`set o${i} 0 0 2\r\nw${i % 10}\r\n`, "\r\n"), "STORED\r\n");
      assert.equal(
        await cl.call(`get o${i}\r\n`, "END\r\n"),
        `VALUE o${i} 0 2\r\nw${i % 10}\r\nEND\r\n`,
      );
    }
    cl.close();
  });

  test("read_miss_failover: a miss on the primary is retried on the next member", async () => {
    const p = await setup();
    const [, , , , , , g] = ports;
    // Only on the second member (written directly, as after a lost write to the primary).
    await exchange(g, "set only-g 0 0 3\r\nabc\r\n", (t) => t.includes("\r\n"));
    const miss = await RawClient.connect(p.port("miss"));
    assert.equal(
      await miss.call("get only-g\r\n", "END\r\n"),
      "VALUE only-g 0 3\r\nabc\r\nEND\r\n",
    );
    assert.equal(await miss.call("get nowhere\r\n", "END\r\n"), "END\r\n");
    miss.close();
    const plain = await RawClient.connect(p.port("nomiss"));
    assert.equal(await plain.call("get only-g\r\n", "END\r\n"), "END\r\n");
    plain.close();
  });

  test("stats port: a set's members listed as set/host:port with their own counters", async () => {
    const p = await setup();
    stats = new StatsServer(p.proxy);
    const addr = await stats.listen(0, "127.0.0.1");
    const doc = JSON.parse(await exchange(addr.port, "", (t) => t.endsWith("\n"))) as Record<
      string,
      Record<string, Record<string, number> | number>
    >;
    const [, , , , , f, g] = ports;
    const miss = doc.miss;
    assert.equal(typeof miss.client_connections, "number");
    assert.equal(miss.missset, undefined, "the set itself is not a server entry");
    const mf = miss[`missset/127.0.0.1:${f}`] as Record<string, number>;
    const mg = miss[`missset/127.0.0.1:${g}`] as Record<string, number>;
    // Two gets went to the primary, which missed both; one of them was retried on g.
    assert.equal(mf.requests, 2, JSON.stringify(mf));
    assert.equal(mg.requests, 2, JSON.stringify(mg));
    for (const k of ["server_eof", "server_err", "server_timedout", "responses", "in_queue"])
      assert.equal(typeof mf[k], "number", k);
    const maj = doc.maj;
    const dead = maj[`majset/127.0.0.1:${ports[2]}`] as Record<string, number>;
    assert.ok(dead.server_err + dead.server_eof + dead.server_timedout > 0, JSON.stringify(dead));
  });
});
