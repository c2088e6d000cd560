/**
 * The Redis Cluster slot pieces (src/proxy/cluster/) against a real cluster of 3 masters + 3
 * replicas (tools/redis-cluster.ts):
 * - keySlot equals redis-server's CLUSTER KEYSLOT for thousands of random binary keys, hash
 *   tags included;
 * - the slot maps built from the real CLUSTER SHARDS and CLUSTER SLOTS replies (raw bytes,
 *   framed by the project's RESP framer, decoded) agree and cover every slot;
 * - every key written with `redis-cli -c` (which follows MOVED) is on the node the map names;
 * - a request sent to the wrong node gets -MOVED, parsed to the slot and node the map names.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import { encodeRequest } from "../../src/protocol/resp/encoder.js";
import { ParseStatus } from "../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../src/protocol/resp/reply.js";
import { decodeReply } from "../../src/protocol/resp/value.js";
import { parseRedirect } from "../../src/proxy/cluster/redirect.js";
import { keySlot, SLOTS } from "../../src/proxy/cluster/slot.js";
import { SlotMap } from "../../src/proxy/cluster/slot-map.js";
import { stopAll } from "../../tools/procs.js";
import { RedisCluster } from "../../tools/redis-cluster.js";

/** Sends one command and returns the raw bytes of its reply (framed by RespReplyFramer). */
function raw(port: number, args: (string | Buffer)[]): Promise<Buffer> {
  const bufs = args.map((a) => (typeof a === "string" ? Buffer.from(a) : a));
  const all = Buffer.concat(bufs);
  const view = { buf: all, argc: bufs.length, argStart: [] as number[], argEnd: [] as number[] };
  let off = 0;
  for (const b of bufs) {
    view.argStart.push(off);
    off += b.length;
    view.argEnd.push(off);
  }
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const f = new RespReplyFramer();
    s.on("error", reject);
    s.on("data", (d) => {
      f.feed(d);
      if (f.next() === ParseStatus.Ok) {
        const r = f.reply;
        resolve(Buffer.from(r.buf.subarray(r.frameStart, r.frameEnd)));
        s.destroy();
      }
    });
    s.write(encodeRequest(view));
  });
}

describe("redis cluster slot pieces against a real cluster", { timeout: 60_000 }, () => {
  let cluster: RedisCluster | undefined;
  const clients: Redis[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    await cluster?.stop();
    await stopAll();
  });

  test("slots, slot maps, redirects", async () => {
    const t0 = Date.now();
    cluster = await RedisCluster.start();
    const startedIn = Date.now() - t0;
    const p0 = cluster.ports[0];

    // keySlot vs CLUSTER KEYSLOT for random keys, biased towards hash tags.
    const keyArb = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 24 }),
      fc
        .tuple(
          fc.string({ maxLength: 6 }),
          fc.string({ maxLength: 6 }),
          fc.string({ maxLength: 6 }),
        )
        .map(([a, b, c]) => new Uint8Array(Buffer.from(`${a}{${b}}${c}`))),
      fc
        .constantFrom("{}", "{}x", "{{a}}", "a{b", "a}b{c}", "{a}{b}", "")
        .map((s) => new Uint8Array(Buffer.from(s))),
    );
    const keys = fc.sample(keyArb, { numRuns: 3000, seed: 16 }).map((k) => Buffer.from(k));
    const node = new Redis({ port: p0 });
    clients.push(node);
    const pipe = node.pipeline();
    for (const k of keys) pipe.call("CLUSTER", "KEYSLOT", k);
    const res = (await pipe.exec()) ?? [];
    const mismatch = keys.filter((k, i) => res[i][1] !== keySlot(k));
    assert.equal(
      mismatch.length,
      0,
      `keySlot differs for ${mismatch.slice(0, 5).map((k) => k.toString("hex"))}`,
    );

    // Slot maps from the real replies agree and cover every slot.
    const shardsRaw = await raw(p0, ["CLUSTER", "SHARDS"]);
    const slotsRaw = await raw(p0, ["CLUSTER", "SLOTS"]);
    const a = SlotMap.fromShards(decodeReply(shardsRaw, 0, shardsRaw.length), "127.0.0.1");
    const b = SlotMap.fromSlots(decodeReply(slotsRaw, 0, slotsRaw.length), "127.0.0.1");
    assert.equal(a.uncovered(), 0);
    assert.equal(b.uncovered(), 0);
    assert.equal(a.shards.length, 3);
    assert.deepEqual(
      a.shards.map((s) => s.replicas.length),
      [1, 1, 1],
    );
    for (let s = 0; s < SLOTS; s++) {
      const x = a.masterOf(s);
      const y = b.masterOf(s);
      assert.equal(`${x?.host}:${x?.port}`, `${y?.host}:${y?.port}`, `slot ${s}`);
    }

    // Keys written by redis-cli -c (it follows MOVED) are where the map says.
    const names = Array.from({ length: 200 }, (_, i) => `k:${i}:${(i * 7919) % 1000}`);
    await cluster.cliFollowing(p0, names.map((k) => `SET ${k} v-${k}\n`).join(""));
    const byPort = new Map<number, Redis>();
    const conn = (port: number) => {
      let c = byPort.get(port);
      if (c === undefined) {
        c = new Redis({ port });
        clients.push(c);
        byPort.set(port, c);
      }
      return c;
    };
    for (const k of names) {
      const m = a.masterOf(keySlot(Buffer.from(k)));
      assert.ok(m !== undefined);
      assert.equal(await conn(m.port).get(k), `v-${k}`, `${k} on ${m.port}`);
    }

    // The wrong node answers -MOVED with the slot and the owner the map names.
    const k = Buffer.from("redirect-me");
    const slot = keySlot(k);
    const owner = a.masterOf(slot);
    const wrong = a.shards.find((s) => s.master !== owner)?.master;
    assert.ok(owner !== undefined && wrong !== undefined);
    const moved = await raw(wrong.port, ["GET", k]);
    assert.deepEqual(parseRedirect(moved, 0, moved.length), {
      kind: "moved",
      slot,
      host: owner.host,
      port: owner.port,
    });
    process.stdout.write(`# cluster of 6 started and converged in ${startedIn} ms\n`);
  });
});
