import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ParseStatus } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import { parseRedirect } from "../../../src/proxy/cluster/redirect.js";
import { assertSplitInvariant } from "../../helpers/split.js";

const parse = (s: string) => {
  const b = Buffer.from(s, "latin1");
  return parseRedirect(b, 0, b.length);
};

describe("MOVED / ASK redirects (cluster-spec.md)", () => {
  test("the forms redis-server sends", () => {
    assert.deepEqual(parse("-MOVED 3999 127.0.0.1:6381\r\n"), {
      kind: "moved",
      slot: 3999,
      host: "127.0.0.1",
      port: 6381,
    });
    assert.deepEqual(parse("-ASK 3999 127.0.0.1:6381"), {
      kind: "ask",
      slot: 3999,
      host: "127.0.0.1",
      port: 6381,
    });
    assert.deepEqual(parse("-MOVED 0 ::1:7000\r\n"), {
      kind: "moved",
      slot: 0,
      host: "::1",
      port: 7000,
    });
    assert.deepEqual(parse("-MOVED 16383 redis-7.example:6379\r\n"), {
      kind: "moved",
      slot: 16383,
      host: "redis-7.example",
      port: 6379,
    });
    // Unknown endpoint: "?" or empty, meaning the node the request went to.
    assert.equal(parse("-MOVED 5 ?:7001\r\n")?.host, "");
    assert.equal(parse("-MOVED 5 :7001\r\n")?.host, "");
  });

  test("anything else is not a redirect", () => {
    for (const s of [
      "-ERR MOVED 1 a:1",
      "-MOVED",
      "-MOVED 16384 a:1",
      "-MOVED x a:1",
      "-MOVED 1 a",
      "-MOVED 1 a:0",
      "-MOVED 1 a:65536",
      "-MOVED 1 a:12x",
      "-MOVED 1  a:1",
      "-ASKING 1 a:1",
      "+MOVED 1 a:1",
      "-TRYAGAIN Multiple keys request during rehashing of slot",
      "-CLUSTERDOWN The cluster is down",
    ])
      assert.equal(parse(s), undefined, s);
  });

  test("property: round trip of every slot, port and host", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("MOVED", "ASK"),
        fc.integer({ min: 0, max: 16383 }),
        fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
        fc.integer({ min: 1, max: 65535 }),
        (kind, slot, host, port) => {
          const r = parse(`-${kind} ${slot} ${host}:${port}\r\n`);
          assert.deepEqual(r, { kind: kind.toLowerCase(), slot, host, port });
        },
      ),
    );
  });

  test("redirect replies framed from split input parse the same", () => {
    const input = Buffer.from(
      "-MOVED 3999 127.0.0.1:6381\r\n+OK\r\n-ASK 12 ::1:7002\r\n-ERR nope\r\n-MOVED 1 ?:7\r\n",
    );
    const got = assertSplitInvariant(() => {
      const f = new RespReplyFramer();
      return {
        feed: (c: Buffer) => f.feed(c),
        drain: () => {
          const out: string[] = [];
          while (f.next() === ParseStatus.Ok) {
            const r = f.reply;
            out.push(JSON.stringify(parseRedirect(r.buf, r.frameStart, r.frameEnd) ?? null));
          }
          return out;
        },
      };
    }, input);
    assert.deepEqual(
      got.map((s) => JSON.parse(s)?.port ?? null),
      [6381, null, 7002, null, 7],
    );
  });
});
