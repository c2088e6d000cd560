/**
 * Network fuzzing of `keepcache node`: random bytes and mutated valid requests, text and binary,
 * over many connections. Whatever arrives, the node must not crash or hang: every connection
 * either gets an answer or is closed, and the node keeps serving well-formed clients.
 * Deterministic (seeded) and bounded in count and time.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { stopAll } from "../../tools/procs.js";
import { type NodeProc, startNode } from "../helpers/keepcache.js";
import { RawClient } from "../helpers/line-client.js";

const valid = [
  "set k 0 0 5\r\nhello\r\n",
  "get k k2 k3\r\n",
  "gets k\r\n",
  "incr n 5\r\n",
  "cas k 0 0 1 123\r\nx\r\n",
  "mg k v t f c\r\n",
  "ms k 2 T10 F3\r\nhi\r\n",
  "ma n N0 J1 v\r\n",
  "touch k 10\r\n",
  "flush_all 0\r\n",
  "stats\r\n",
];

/** A binary GET / SET request for key "k". */
function binary(op: number, value = ""): Buffer {
  const extras = op === 0x01 ? 8 : 0;
  const key = Buffer.from("k");
  const body = extras + key.length + value.length;
  const b = Buffer.alloc(24 + body);
  b[0] = 0x80;
  b[1] = op;
  b.writeUInt16BE(key.length, 2);
  b[4] = extras;
  b.writeUInt32BE(body, 8);
  key.copy(b, 24 + extras);
  b.write(value, 24 + extras + key.length, "latin1");
  return b;
}

/** Sends bytes; resolves "answered" on any reply byte, "closed" on close, "silent" otherwise. */
function probe(
  port: number,
  data: Buffer,
  waitMs: number,
): Promise<"answered" | "closed" | "silent"> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let done = false;
    const finish = (r: "answered" | "closed" | "silent") => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => finish("silent"), waitMs);
    s.on("connect", () => {
      s.write(data);
      // A complete request is needed for an answer; end our side so a partial frame is final.
      s.end();
    });
    s.on("data", () => finish("answered"));
    s.on("close", () => finish("closed"));
    s.on("error", () => finish("closed"));
  });
}

describe("network fuzzing of keepcache node", () => {
  let node: NodeProc;
  before(async () => {
    node = await startNode(["-I", "64k"]);
  });
  after(stopAll);

  const mutated = fc
    .tuple(
      fc.oneof(
        fc.constantFrom(...valid.map((v) => Buffer.from(v))),
        fc.constantFrom(binary(0x00), binary(0x01, "value"), binary(0x0c)),
      ),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(40),
    )
    .map(([base, flips, cut]) => {
      const b = Buffer.from(base);
      for (const [i, v] of flips) b[i % b.length] = v;
      return b.subarray(0, Math.max(1, b.length - cut));
    });
  const garbage = fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((a) => Buffer.from(a));

  test("every connection answers or closes; the node survives", async () => {
    const inputs = fc.sample(fc.oneof(mutated, garbage), { numRuns: 300, seed: 20261122 });
    const outcomes = { answered: 0, closed: 0, silent: 0 };
    for (let i = 0; i < inputs.length; i += 20) {
      const batch = inputs.slice(i, i + 20);
      const rs = await Promise.all(batch.map((b) => probe(node.port, b, 2000)));
      for (const r of rs) outcomes[r]++;
    }
    // A connection whose input ends mid-frame is closed by our end(); "silent" would mean a
    // complete request the node neither answered nor rejected.
    assert.equal(outcomes.silent, 0, JSON.stringify(outcomes));
    assert.equal(node.child.exitCode, null, "the node must still be running");
    const c = await RawClient.connect(node.port);
    assert.match(await c.call("version\r\n"), /^VERSION /);
    assert.equal(await c.call("set ok 0 0 2\r\nok\r\n"), "STORED\r\n");
    c.close();
  });
});
