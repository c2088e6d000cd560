/**
 * Meta commands with a base64 key (protocol.txt "Meta Get", flag b): the proxy routes them by
 * the decoded key bytes, the key memcached stores, so they land where the same key sent raw
 * (text or binary protocol) lands.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ClientState, ParseResult, type Plan } from "../../../src/proxy/driver.js";
import { decodeBase64Into, MAX_DECODED_KEY } from "../../../src/proxy/memcache/b64.js";
import { memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { buildTable } from "../../../src/proxy/router.js";
import { assertSplitInvariant } from "../../helpers/split.js";

const table = buildTable(
  { hash: "fnv1a_64", distribution: "ketama", hash_tag: undefined },
  ["10.0.0.1:11211", "10.0.0.2:11211", "10.0.0.3:11211", "10.0.0.4:11211"].map((key) => ({
    key,
    weight: 1,
    live: true,
  })),
  1,
);
const pick = (b: Buffer) => table.picker.pick(b, 0, b.length);

const state: ClientState = {
  authenticated: false,
  password: undefined,
  resp3: false,
  pinned: -1,
  shardOf: (b, s, e) => table.picker.pick(b, s, e),
  servers: 4,
};

/** Plans of a text input as plain values: the server the pool would pick, and what it sends. */
function parser() {
  return () => {
    const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
    return {
      feed: (c: Buffer) => p.feed(c),
      drain: () => {
        const out: Array<Record<string, unknown>> = [];
        for (let r = p.next(); r !== ParseResult.NeedMore; r = p.next()) {
          assert.equal(r, ParseResult.Plan, p.errorReply?.toString());
          const plan = p.plan as Plan;
          assert.equal(plan.kind, "forward");
          if (plan.kind !== "forward") continue;
          // The pool hashes hashKey when the plan has one (the decoded key of flag b).
          const hk = plan.hashKey ?? plan.buf.subarray(plan.keyStart, plan.keyEnd);
          out.push({
            server: table.picker.pick(hk, 0, hk.length),
            key: hk.toString("hex"),
            send: (plan.rewrite ?? plan.buf.subarray(plan.frameStart, plan.frameEnd)).toString(
              "latin1",
            ),
            silent: plan.silent,
            idempotent: plan.idempotent,
          });
        }
        return out;
      },
    };
  };
}

describe("memcache driver: base64 keys (meta flag b)", () => {
  test("a b-flag key picks the same server as the raw key (4-server ketama)", () => {
    const raw = Array.from({ length: 12 }, (_, i) => Buffer.from(`user:${i * 7919}:profile`));
    // Binary keys too: bytes a text key cannot hold, sent raw only by the binary protocol.
    raw.push(Buffer.from([0, 1, 2, 0x20, 0x0a, 0xff]), Buffer.from([0x80, 0x81, 0x0d]));
    const servers = new Set<number>();
    let input = "";
    for (const k of raw) {
      const b64 = k.toString("base64");
      input += `mg ${b64} b v\r\nms ${b64} 2 b q T0\r\nhi\r\nmd ${b64} b q\r\nma ${b64} b\r\n`;
    }
    const plans = assertSplitInvariant(parser(), Buffer.from(input, "latin1"));
    assert.equal(plans.length, raw.length * 4);
    raw.forEach((k, i) => {
      servers.add(pick(k));
      for (let j = 0; j < 4; j++) {
        const p = plans[i * 4 + j];
        assert.equal(p.key, k.toString("hex"), "the decoded key is what gets hashed");
        assert.equal(p.server, pick(k), `key ${k.toString("hex")}`);
        // A retry re-hashes the decoded key (Request.hashKey): as idempotent as the raw forms
        // (mg, plain ms, md; ma is not).
        assert.equal(p.idempotent, j !== 3);
      }
      const b64 = k.toString("base64");
      assert.equal(plans[i * 4].send, `mg ${b64} b v\r\n`);
      assert.equal(plans[i * 4 + 1].send, `ms ${b64} 2 b T0\r\nhi\r\n`, "q stripped");
      assert.equal(plans[i * 4 + 1].silent, true);
    });
    assert.ok(servers.size >= 3, `keys spread over ${servers.size} servers`);
  });

  test("without b the key is routed from the request buffer, unchanged", () => {
    const plans = assertSplitInvariant(parser(), Buffer.from("mg Zm9v v\r\n"));
    assert.equal(plans[0].key, Buffer.from("Zm9v").toString("hex"));
    assert.equal(plans[0].idempotent, true);
  });

  test("decodeBase64Into agrees with Buffer's decoder (property)", () => {
    const dst = Buffer.alloc(MAX_DECODED_KEY);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 187 }), (bytes) => {
        const text = Buffer.from(Buffer.from(bytes).toString("base64"), "latin1");
        const n = decodeBase64Into(text, 0, text.length, dst);
        assert.equal(n, bytes.length);
        assert.deepEqual(dst.subarray(0, n), Buffer.from(bytes));
      }),
      { numRuns: 300 },
    );
    const bad = Buffer.from("ab!d");
    assert.equal(decodeBase64Into(bad, 0, 4, dst), -1);
    assert.equal(decodeBase64Into(bad, 0, 3, dst), -1);
  });
});
