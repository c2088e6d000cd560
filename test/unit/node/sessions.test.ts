/**
 * The cache node's protocol sessions without sockets: bytes in through feed(), replies out of
 * run() into an OutBuffer, exactly as connection.ts drives them. Covers resumable parsing (a
 * request split at every byte), the output budget, quit, protocol errors, and the binary
 * protocol's framing (protocol-binary.txt "Packet Structure").
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import pino from "pino";
import { BinarySession } from "../../../src/node/binary-session.js";
import { NodeContext } from "../../../src/node/context.js";
import { nodeDefaults } from "../../../src/node/options.js";
import { RunResult, type Session } from "../../../src/node/session.js";
import { TextSession } from "../../../src/node/text-session.js";
import { OutBuffer } from "../../../src/util/out-buffer.js";
import { binaryRequest } from "../../helpers/binary-request.js";

const contexts: NodeContext[] = [];
after(() => {
  for (const c of contexts) c.stop();
});

function context(): NodeContext {
  const c = new NodeContext({ ...nodeDefaults, memoryLimitMb: 8 }, pino({ level: "silent" }));
  contexts.push(c);
  return c;
}

/** Feeds each chunk and runs the session after it, as a connection does per read. */
function drive(s: Session, chunks: Buffer[], budget = 1 << 20): { out: Buffer; last: RunResult } {
  const out = new OutBuffer();
  const parts: Buffer[] = [];
  let last = RunResult.NeedInput;
  for (const c of chunks) {
    s.feed(c);
    s.retain();
    do {
      last = s.run(out, budget);
      const t = out.take();
      if (t) parts.push(Buffer.from(t));
    } while (last === RunResult.Full);
    if (last === RunResult.Close) break;
  }
  return { out: Buffer.concat(parts), last };
}

const text = (s: string) => Buffer.from(s, "latin1");

describe("text session", () => {
  test("storage, retrieval, arithmetic and errors in memcached's wording", () => {
    const { out, last } = drive(new TextSession(context()), [
      text("set k 5 0 3\r\nabc\r\nget k nokey\r\nincr n 1\r\nset n 0 0 1\r\n9\r\nincr n 1\r\n"),
      text("bogus\r\nset k 0 0 2\r\ntoolong\r\ndelete k\r\nquit\r\nget k\r\n"),
    ]);
    assert.equal(
      out.toString("latin1"),
      "STORED\r\nVALUE k 5 3\r\nabc\r\nEND\r\nNOT_FOUND\r\nSTORED\r\n10\r\n" +
        "ERROR\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nDELETED\r\n",
    );
    // quit closes; the request after it is never run.
    assert.equal(last, RunResult.Close);
  });

  test("a request split at every byte gives the same replies as in one piece", () => {
    const req = text(
      "set key 1 0 10\r\n0123456789\r\ngets key\r\nappend key 0 0 2\r\nxy\r\nget key\r\n",
    );
    const whole = drive(new TextSession(context()), [req]).out.toString("latin1");
    assert.match(
      whole,
      /^STORED\r\nVALUE key 1 10 \d+\r\n0123456789\r\nEND\r\nSTORED\r\nVALUE key 1 12\r\n0123456789xy\r\nEND\r\n$/,
    );
    for (let cut = 1; cut < req.length; cut++) {
      const split = drive(new TextSession(context()), [req.subarray(0, cut), req.subarray(cut)]);
      assert.equal(
        split.out.toString("latin1").replace(/ \d+\r\n0123/, " C\r\n0123"),
        whole.replace(/ \d+\r\n0123/, " C\r\n0123"),
        `cut at ${cut}`,
      );
    }
    const bytes = [...req].map((b) => Buffer.from([b]));
    assert.equal(drive(new TextSession(context()), bytes).out.length, whole.length);
  });

  test("the output budget cuts a batch (Full) and run() resumes where it stopped", () => {
    const s = new TextSession(context());
    const value = "v".repeat(1000);
    const gets = "get big\r\n".repeat(50);
    s.feed(text(`set big 0 0 1000\r\n${value}\r\n${gets}`));
    const out = new OutBuffer();
    let runs = 0;
    let total = 0;
    for (let r = RunResult.Full; r === RunResult.Full; runs++) {
      r = s.run(out, 4096);
      total += out.take()?.length ?? 0;
    }
    assert.ok(runs > 5, `runs ${runs}`);
    assert.equal(
      total,
      "STORED\r\n".length + 50 * `VALUE big 0 1000\r\n${value}\r\nEND\r\n`.length,
    );
  });
});

/** Splits a reply stream into { opcode, status, opaque, extras, key, value } records. */
function binReplies(buf: Buffer) {
  const out = [];
  for (let p = 0; p < buf.length; ) {
    assert.equal(buf[p], 0x81, "response magic");
    const keyLen = buf.readUInt16BE(p + 2);
    const extLen = buf[p + 4];
    const body = buf.readUInt32BE(p + 8);
    const b = p + 24;
    out.push({
      opcode: buf[p + 1],
      status: buf.readUInt16BE(p + 6),
      opaque: buf.readUInt32BE(p + 12),
      extras: buf.subarray(b, b + extLen),
      key: buf.subarray(b + extLen, b + extLen + keyLen).toString(),
      value: buf.subarray(b + extLen + keyLen, b + body).toString(),
    });
    p = b + body;
  }
  return out;
}

describe("binary session", () => {
  test("set, get, a miss, quiet get and noop, with opaque echoed", () => {
    const setExtras = Buffer.alloc(8);
    setExtras.writeUInt32BE(0xdeadbeef, 0); // flags
    const req = Buffer.concat([
      binaryRequest(0x01, "k", setExtras, "hello", 1), // SET
      binaryRequest(0x00, "k", undefined, "", 2), // GET
      binaryRequest(0x00, "missing", undefined, "", 3), // GET miss
      binaryRequest(0x09, "missing", undefined, "", 4), // GETQ miss: no reply
      binaryRequest(0x0a, "", undefined, "", 5), // NOOP
    ]);
    const replies = binReplies(drive(new BinarySession(context()), [req]).out);
    assert.deepEqual(
      replies.map((r) => [r.opcode, r.status, r.opaque]),
      [
        [0x01, 0, 1],
        [0x00, 0, 2],
        [0x00, 1, 3],
        [0x0a, 0, 5],
      ],
    );
    assert.equal(replies[1].value, "hello");
    assert.equal(replies[1].extras.readUInt32BE(0), 0xdeadbeef);
    assert.equal(replies[2].value, "Not found");
  });

  test("a request split at every byte gives the same replies", () => {
    const req = Buffer.concat([
      binaryRequest(0x01, "key", Buffer.alloc(8), "value", 7),
      binaryRequest(0x00, "key", undefined, "", 8),
    ]);
    const whole = drive(new BinarySession(context()), [req]).out;
    const norm = (b: Buffer) => binReplies(b).map((r) => [r.opcode, r.status, r.opaque, r.value]);
    for (let cut = 1; cut < req.length; cut++) {
      const split = drive(new BinarySession(context()), [req.subarray(0, cut), req.subarray(cut)]);
      assert.deepEqual(norm(split.out), norm(whole), `cut at ${cut}`);
    }
  });

  test("QUIT closes after its reply", () => {
    const { out, last } = drive(new BinarySession(context()), [
      binaryRequest(0x07, "", undefined, "", 9),
      binaryRequest(0x0a, "", undefined, "", 0),
    ]);
    assert.equal(last, RunResult.Close);
    assert.deepEqual(
      binReplies(out).map((r) => [r.opcode, r.opaque]),
      [[0x07, 9]],
    );
  });
});
