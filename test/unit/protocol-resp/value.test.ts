import assert from "node:assert/strict";
import { test } from "node:test";
import { ParseStatus } from "../../../src/protocol/resp/parser.js";
import { RespReplyFramer } from "../../../src/protocol/resp/reply.js";
import { decodeReply, RespErrorValue, type RespValue } from "../../../src/protocol/resp/value.js";
import { chunkings } from "./split.js";

/** Every value of `wire`, framed by the framer from the given chunks. */
function decodeAll(chunks: Buffer[]): RespValue[] {
  const f = new RespReplyFramer();
  const out: RespValue[] = [];
  for (const c of chunks) {
    f.feed(c);
    for (;;) {
      const st = f.next();
      assert.notEqual(st, ParseStatus.Error, f.error);
      if (st === ParseStatus.NeedMore) break;
      out.push(decodeReply(f.reply.buf, f.reply.frameStart, f.reply.frameEnd));
    }
  }
  return out;
}

test("decodes the replies the failover links read (ROLE, INFO, SENTINEL, pushes)", () => {
  const wire = Buffer.from(
    [
      "*3\r\n$6\r\nmaster\r\n:3129659\r\n*2\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$7\r\n3129242\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9002\r\n$7\r\n3129543\r\n",
      "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:9000\r\n$9\r\nconnected\r\n:3167038\r\n",
      "$26\r\n# Replication\r\nrole:master\r\n",
      "*-1\r\n$-1\r\n+OK\r\n-ERR unknown command\r\n",
      "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$2\r\nab\r\n",
      "*2\r\n-ERR inner\r\n:1\r\n",
      // RESP3: map, set, null, boolean, double, verbatim, big number, attribute before a value.
      "%1\r\n+k\r\n:2\r\n~2\r\n_\r\n#t\r\n,1.5\r\n=8\r\ntxt:abcd\r\n(12345678901234567890\r\n",
      "|1\r\n+ttl\r\n:3\r\n*2\r\n|1\r\n+a\r\n+b\r\n:7\r\n:8\r\n*0\r\n",
    ].join(""),
  );
  const expected: RespValue[] = [
    [
      "master",
      3129659,
      [
        ["127.0.0.1", "9001", "3129242"],
        ["127.0.0.1", "9002", "3129543"],
      ],
    ],
    ["slave", "127.0.0.1", 9000, "connected", 3167038],
    "# Replication\r\nrole:master",
    null,
    null,
    "OK",
    new RespErrorValue("ERR unknown command"),
    ["message", "+switch-master", "ab"],
    [new RespErrorValue("ERR inner"), 1],
    ["k", 2],
    [null, true],
    1.5,
    "abcd",
    "12345678901234567890",
    [7, 8],
    [],
  ];
  for (const { name, chunks } of chunkings(wire))
    assert.deepEqual(decodeAll(chunks), expected, name);
});
