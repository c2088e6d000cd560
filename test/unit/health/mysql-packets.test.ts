import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  handshakeResponse,
  nativePassword,
  packet,
  packetFrame,
  parseAuthSwitch,
  parseErr,
  parseGreeting,
} from "../../../src/health/checks/mysql-packets.js";

/** A HandshakeV10 as MariaDB sends it (layout per the MySQL protocol docs). */
function greeting(version: string, scramble: Buffer, plugin = "mysql_native_password"): Buffer {
  const b: Buffer[] = [];
  b.push(Buffer.from([10]), Buffer.from(`${version}\0`));
  const id = Buffer.alloc(4);
  id.writeUInt32LE(42);
  b.push(id, scramble.subarray(0, 8), Buffer.from([0]));
  b.push(Buffer.from([0xfe, 0xf7, 0x21, 0x02, 0x00, 0xff, 0x81, 21]));
  b.push(Buffer.alloc(10), scramble.subarray(8, 20), Buffer.from([0]), Buffer.from(`${plugin}\0`));
  return packet(0, Buffer.concat(b));
}

/** Feeds `input` in the given pieces through packetFrame, collecting whole frames. */
function frames(pieces: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let pending = Buffer.alloc(0);
  for (const p of pieces) {
    pending = Buffer.concat([pending, p]);
    for (let n = packetFrame(pending); n > 0; n = packetFrame(pending)) {
      out.push(pending.subarray(0, n));
      pending = pending.subarray(n);
    }
  }
  assert.equal(pending.length, 0);
  return out;
}

describe("mysql packets", () => {
  const scramble = Buffer.from("0123456789abcdefghij");
  const g = greeting("10.11.6-MariaDB-0+deb12u1", scramble);
  const err = packet(
    0,
    Buffer.concat([Buffer.from([0xff, 0x13, 0x04]), Buffer.from("#28000Access denied")]),
  );
  const stream = Buffer.concat([g, err]);

  test("greeting parses", () => {
    const p = parseGreeting(g.subarray(4));
    assert.ok(p);
    assert.equal(p.serverVersion, "10.11.6-MariaDB-0+deb12u1");
    assert.equal(p.connectionId, 42);
    assert.deepEqual(p.scramble, scramble);
    assert.equal(p.authPlugin, "mysql_native_password");
    assert.equal(parseGreeting(Buffer.from([9, 0])), undefined);
  });

  test("ERR packet parses", () => {
    assert.deepEqual(parseErr(err.subarray(4)), { code: 1043, message: "Access denied" });
  });

  test("framing: whole, byte by byte, and split at every offset", () => {
    const whole = frames([stream]);
    assert.equal(whole.length, 2);
    assert.deepEqual(frames([...stream].map((b) => Buffer.from([b]))), whole);
    for (let i = 0; i <= stream.length; i++)
      assert.deepEqual(frames([stream.subarray(0, i), stream.subarray(i)]), whole);
  });

  test("framing property: random payloads in random chunks", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const all = Buffer.concat(payloads.map((p, i) => packet(i, Buffer.from(p))));
          const pieces: Buffer[] = [];
          let off = 0;
          for (let k = 0; off < all.length; k++) {
            const n = cuts[k % cuts.length];
            pieces.push(all.subarray(off, off + n));
            off += n;
          }
          const got = frames(pieces);
          assert.equal(got.length, payloads.length);
          for (const [i, f] of got.entries())
            assert.deepEqual([...f.subarray(4)], [...payloads[i]]);
        },
      ),
      { numRuns: 200 },
    );
  });

  test("greeting parser never throws on garbage", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        parseGreeting(Buffer.from(b));
        parseAuthSwitch(Buffer.from(b));
      }),
    );
  });

  test("mysql_native_password scramble", () => {
    const sha1 = (b: Buffer) => createHash("sha1").update(b).digest();
    const pw = "secret";
    const tok = nativePassword(pw, scramble);
    // Server side check: SHA1(tok XOR SHA1(scramble + stage2)) == stage2.
    const stage2 = sha1(sha1(Buffer.from(pw)));
    const x = sha1(Buffer.concat([scramble, stage2]));
    const stage1 = Buffer.from(tok.map((b, i) => b ^ x[i]));
    assert.deepEqual(sha1(stage1), stage2);
    assert.equal(nativePassword("", scramble).length, 0);
  });

  test("handshake response carries the user and plugin", () => {
    const p = parseGreeting(g.subarray(4));
    assert.ok(p);
    const r = handshakeResponse("hc", "pw", p);
    assert.equal(r.readUInt32LE(0) & 0x200, 0x200); // CLIENT_PROTOCOL_41
    assert.equal(r.subarray(32, 35).toString(), "hc\0");
    assert.equal(r[35], 20);
    assert.ok(r.toString("latin1").endsWith("mysql_native_password\0"));
  });
});
