import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { commandId } from "../../../src/protocol/resp/commands.js";
import {
  argView,
  bulk,
  encodeRequest,
  integer,
  nullReply,
} from "../../../src/protocol/resp/encoder.js";
import { Merger, planSplit, type ShardOf } from "../../../src/protocol/resp/multikey.js";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import { freePort } from "../../../tools/ports.js";
import { startRedis, stopAll } from "../../../tools/procs.js";

function parse(args: Buffer[]): RespRequestParser {
  const p = new RespRequestParser();
  p.feed(encodeRequest(argView(args)));
  assert.equal(p.next(), ParseStatus.Ok);
  return p;
}

function argsOf(p: RespRequestParser): Buffer[] {
  const r = p.req;
  return Array.from({ length: r.argc }, (_, i) =>
    Buffer.from(r.buf.subarray(r.argStart[i], r.argEnd[i])),
  );
}

/** Frames one complete reply buffer. */
function frame(reply: Buffer): RespReplyFramer {
  const f = new RespReplyFramer();
  f.feed(reply);
  assert.equal(f.next(), ParseStatus.Ok);
  return f;
}

const shardOfN =
  (n: number): ShardOf =>
  (buf, s, e) => {
    let h = 0;
    for (let i = s; i < e; i++) h = (h * 31 + buf[i]) >>> 0;
    return h % n;
  };

describe("multi-key split and merge", () => {
  test("property: MSET then MGET/DEL/EXISTS over in-memory shards equal one big store", () => {
    const key = fc.uint8Array({ minLength: 1, maxLength: 6 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, key), { minLength: 1, maxLength: 8 }),
        fc.array(key, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        (pairs, probe, nShards) => {
          const shards = Array.from({ length: nShards }, () => new Map<string, Buffer>());
          const whole = new Map<string, Buffer>();
          const shardOf = shardOfN(nShards);
          /** Runs one sub-request on its shard the way redis would, returning the reply bytes. */
          const run = (shard: number, request: Buffer): Buffer => {
            const p = new RespRequestParser();
            p.feed(request);
            assert.equal(p.next(), ParseStatus.Ok);
            const [name, ...rest] = argsOf(p);
            const m = shards[shard];
            for (const k of name.toString() === "MSET"
              ? rest.filter((_, i) => i % 2 === 0)
              : rest) {
              assert.equal(shardOf(k, 0, k.length), shard, "key sent to the wrong shard");
            }
            switch (name.toString()) {
              case "MSET":
                for (let i = 0; i < rest.length; i += 2)
                  m.set(rest[i].toString("hex"), rest[i + 1]);
                return Buffer.from("+OK\r\n");
              case "MGET":
                return Buffer.concat([
                  Buffer.from(`*${rest.length}\r\n`),
                  ...rest.map((k) => {
                    const v = m.get(k.toString("hex"));
                    return v ? bulk(v) : nullReply();
                  }),
                ]);
              default: // EXISTS
                return integer(rest.filter((k) => m.has(k.toString("hex"))).length);
            }
          };
          const exec = (args: Buffer[]): Buffer => {
            const p = parse(args);
            const plan = planSplit(p.req.cmd, p.req, shardOf);
            assert.ok(plan && plan.kind !== "refuse");
            const merger = new Merger(plan);
            // Replies arrive in reverse order: the merge must not depend on it.
            for (let i = plan.subs.length - 1; i >= 0; i--) {
              merger.add(i, frame(run(plan.subs[i].shard, plan.subs[i].request)).reply);
            }
            return merger.result();
          };
          assert.equal(exec([Buffer.from("MSET"), ...pairs.flat()]).toString(), "+OK\r\n");
          for (const [k, v] of pairs) whole.set(k.toString("hex"), v);
          const expected = Buffer.concat([
            Buffer.from(`*${probe.length}\r\n`),
            ...probe.map((k) => {
              const v = whole.get(k.toString("hex"));
              return v ? bulk(v) : nullReply();
            }),
          ]);
          assert.deepEqual(exec([Buffer.from("MGET"), ...probe]), expected);
          const n = probe.filter((k) => whole.has(k.toString("hex"))).length;
          assert.deepEqual(exec([Buffer.from("EXISTS"), ...probe]), integer(n));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("refusals: wrong arity, MSETNX across shards; MSETNX on one shard passes", () => {
    const two = shardOfN(2);
    const a = parse(["MSET", "a", "1", "b"].map((x) => Buffer.from(x)));
    const r = planSplit(a.req.cmd, a.req, two);
    assert.equal(r?.kind, "refuse");
    assert.equal(
      r?.kind === "refuse" && r.reply.toString(),
      "-ERR wrong number of arguments for 'mset' command\r\n",
    );
    const nx = parse(["MSETNX", "a", "1", "b", "2"].map((x) => Buffer.from(x)));
    assert.equal(planSplit(nx.req.cmd, nx.req, two)?.kind, "refuse");
    assert.equal(planSplit(nx.req.cmd, nx.req, () => 0)?.kind, "sum");
    const get = parse(["GET", "a"].map((x) => Buffer.from(x)));
    assert.equal(planSplit(get.req.cmd, get.req, two), null);
  });

  test("the first error reply wins", () => {
    const p = parse(["DEL", "a", "b", "c", "d"].map((x) => Buffer.from(x)));
    const plan = planSplit(commandId("del"), p.req, shardOfN(4));
    assert.ok(plan && plan.kind === "sum" && plan.subs.length > 1);
    const m = new Merger(plan);
    m.add(0, frame(Buffer.from("-ERR boom\r\n")).reply);
    for (let i = 1; i < plan.subs.length; i++) m.add(i, frame(Buffer.from(":1\r\n")).reply);
    assert.equal(m.result().toString(), "-ERR boom\r\n");
  });
});

describe("multi-key split against two real redis shards", () => {
  const ports: number[] = [];
  before(async () => {
    for (let i = 0; i < 2; i++) {
      ports.push(await freePort());
      await startRedis(ports[i]);
    }
  });
  after(stopAll);

  async function send(port: number, request: Buffer): Promise<RespReplyFramer> {
    return new Promise((resolve, reject) => {
      const f = new RespReplyFramer();
      const s = net.connect({ port, host: "127.0.0.1" }, () => s.write(request));
      const t = setTimeout(() => reject(new Error("no reply")), 5000);
      s.on("data", (d) => {
        f.feed(d);
        if (f.next() === ParseStatus.Ok) {
          clearTimeout(t);
          s.destroy();
          resolve(f);
        }
      });
      s.on("error", reject);
    });
  }

  async function exec(words: string[]): Promise<string> {
    const p = parse(words.map((w) => Buffer.from(w)));
    const plan = planSplit(p.req.cmd, p.req, shardOfN(2));
    assert.ok(plan && plan.kind !== "refuse");
    const m = new Merger(plan);
    for (const [i, sub] of plan.subs.entries())
      m.add(i, (await send(ports[sub.shard], sub.request)).reply);
    return m.result().toString("latin1");
  }

  test("MSET, MGET, EXISTS, TOUCH, UNLINK, DEL", async () => {
    const keys = ["k1", "k2", "k3", "k4", "k5", "k6"];
    assert.equal(await exec(["MSET", ...keys.flatMap((k) => [k, `v-${k}`])]), "+OK\r\n");
    const mget = await exec(["MGET", "k3", "nope", ...keys]);
    const want = ["k3", null, ...keys].map((k) =>
      k ? `$${2 + k.length}\r\nv-${k}\r\n` : "$-1\r\n",
    );
    assert.equal(mget, `*8\r\n${want.join("")}`);
    assert.equal(await exec(["EXISTS", ...keys, "k1", "nope"]), ":7\r\n");
    assert.equal(await exec(["TOUCH", ...keys]), ":6\r\n");
    assert.equal(await exec(["UNLINK", "k1", "k2"]), ":2\r\n");
    assert.equal(await exec(["DEL", ...keys]), ":4\r\n");
  });
});
