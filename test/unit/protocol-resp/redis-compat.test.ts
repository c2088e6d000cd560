/** The request parser against a real redis-server: same error replies, same inline splitting. */
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { ParseStatus, RespRequestParser } from "../../../src/protocol/resp/parser.js";
import { freePort } from "../../../tools/ports.js";
import { startRedis, stopAll } from "../../../tools/procs.js";

let port = 0;

/** Sends raw bytes on a fresh connection; returns everything redis wrote until it closed or went quiet. */
function exchange(input: Buffer, quietMs = 150): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const s = net.connect({ port, host: "127.0.0.1" });
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(parts));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    s.on("connect", () => {
      s.write(input);
      arm();
    });
    s.on("data", (d) => {
      parts.push(d);
      arm();
    });
    s.on("close", done);
    s.on("error", reject);
  });
}

function ours(input: Buffer): { args: Buffer[][]; error: string } {
  const p = new RespRequestParser();
  p.feed(input);
  const args: Buffer[][] = [];
  for (let i = 0; i < 100; i++) {
    const st = p.next();
    if (st === ParseStatus.NeedMore) return { args, error: "" };
    if (st === ParseStatus.Error) return { args, error: p.errorReply };
    const r = p.req;
    const a: Buffer[] = [];
    for (let k = 0; k < r.argc; k++)
      a.push(Buffer.from(r.buf.subarray(r.argStart[k], r.argEnd[k])));
    args.push(a);
  }
  throw new Error("parser did not stop");
}

describe("request parser vs redis-server", () => {
  before(async () => {
    port = await freePort();
    await startRedis(port);
  });
  after(stopAll);

  test("protocol error replies match byte for byte", async () => {
    const bad = [
      "*x\r\n",
      "*\r\n",
      "*3000000000\r\n",
      "*01\r\n",
      "*1\r\n$-1\r\n",
      "*1\r\n$600000000\r\n",
      "*1\r\n$01\r\n",
      "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n",
      "*1\r\n:1\r\n",
      "*1\r\n\r\n",
      "*1\r\n\n\r\n",
      'SET k "abc\r\n',
      'SET k "abc"d\r\n',
      "SET k 'abc\r\n",
    ];
    await Promise.all(
      bad.map(async (input) => {
        const buf = Buffer.from(input, "latin1");
        const got = (await exchange(buf)).toString("latin1");
        assert.equal(ours(buf).error, got, JSON.stringify(input));
      }),
    );
  });

  test("inline arguments decode like sdssplitargs", async () => {
    const lines = [
      'ECHO "a b\\x41\\x4g\\n\\q"',
      "ECHO 'it\\'s \\n'",
      'ECHO   "x"  ',
      "ECHO\tab\x0bcd",
      "ECHO ''",
      'ECHO a"b c"',
    ];
    await Promise.all(
      lines.map(async (line) => {
        const buf = Buffer.from(`${line}\r\n`, "latin1");
        const reply = await exchange(buf);
        const mine = ours(buf);
        assert.equal(mine.error, "", line);
        assert.equal(mine.args.length, 1);
        const arg = mine.args[0][1];
        const expected = Buffer.concat([
          Buffer.from(`$${arg.length}\r\n`),
          arg,
          Buffer.from("\r\n"),
        ]);
        assert.equal(reply.toString("latin1"), expected.toString("latin1"), line);
      }),
    );
  });
});
