/**
 * socket-writes.ts writes through Node internals (the stream handle's writeBuffer and a
 * WriteWrap from process.binding('stream_wrap')). These tests pin that the Node we run on has
 * them, that bytes arrive whole and in order, that a write the kernel cannot take at once is
 * reported as pending and completes through onDrain, that a peer going away mid-write destroys
 * the socket cleanly, and that TLS sockets get the socket.write() fallback with the same contract.
 * micros.ts (the allocation-free request clock) is checked here too.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import tls from "node:tls";
import { elapsedMs, monoMicros } from "../../../src/util/micros.js";
import { directWrites, socketWriter } from "../../../src/util/socket-writes.js";
import { selfSignedCert } from "../../helpers/certs.js";
import { within } from "../../helpers/deadline.js";

/** A connected pair over loopback: [client side, accepted side]. */
async function pair(servers: net.Server[]): Promise<[net.Socket, net.Socket]> {
  let accepted!: (s: net.Socket) => void;
  const got = new Promise<net.Socket>((r) => {
    accepted = r;
  });
  const server = net.createServer((s) => accepted(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const c = net.connect({ port, host: "127.0.0.1" });
  await new Promise<void>((r, j) => {
    c.once("connect", r);
    c.once("error", j);
  });
  return [c, await within(got, "accept")];
}

/** Collects everything `s` receives until `n` bytes arrived. */
function receive(s: net.Socket, n: number): Promise<Buffer> {
  return within(
    new Promise((resolve) => {
      const parts: Buffer[] = [];
      let got = 0;
      const on = (d: Buffer) => {
        parts.push(d);
        got += d.length;
        if (got >= n) {
          s.off("data", on);
          resolve(Buffer.concat(parts));
        }
      };
      s.on("data", on);
      s.resume();
    }),
    `${n} bytes`,
    10_000,
  );
}

/** A recognizable byte pattern: byte i of stream offset o is (o + i) * 31 mod 251. */
function pattern(offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = ((offset + i) * 31) % 251;
  return b;
}

describe("socket-writes: direct handle writes", () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  after(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
  });

  test("this Node offers the binding direct writes use", () => {
    assert.notEqual(directWrites(), null);
  });

  test("small writes arrive whole and in order, each completing synchronously", async () => {
    const [c, s] = await pair(servers);
    sockets.push(c, s);
    const w = socketWriter(c, () => assert.fail("no write should be pending"));
    const want: Buffer[] = [];
    let off = 0;
    for (let i = 0; i < 200; i++) {
      const b = pattern(off, 1 + (i % 97));
      off += b.length;
      want.push(b);
      assert.equal(w.write(b), true);
      assert.equal(w.busy, false);
      assert.equal(w.queued, 0);
    }
    assert.deepEqual(await receive(s, off), Buffer.concat(want));
  });

  test("a write the kernel cannot take is pending until the peer reads, then drains", async () => {
    const [c, s] = await pair(servers);
    sockets.push(c, s);
    s.pause();
    let drained = 0;
    const w = socketWriter(c, () => drained++);
    // Far more than loopback socket buffers hold: the kernel takes part, libuv queues the rest.
    const big = pattern(0, 32 * 1024 * 1024);
    assert.equal(w.write(big), false);
    assert.equal(w.busy, true);
    assert.ok(w.queued > 0 && w.queued <= big.length, `queued ${w.queued}`);
    assert.throws(() => w.write(Buffer.from("x")), /pending/);
    const all = receive(s, big.length + 1000);
    await within(
      new Promise<void>((r) => {
        const t = setInterval(() => {
          if (drained > 0) {
            clearInterval(t);
            r();
          }
        }, 5);
      }),
      "drain",
    );
    assert.equal(drained, 1);
    assert.equal(w.busy, false);
    assert.equal(w.queued, 0);
    // Writing goes on after the drain, in order behind the big write.
    assert.equal(w.write(pattern(big.length, 1000)), true);
    const got = await all;
    assert.equal(got.length, big.length + 1000);
    assert.ok(got.equals(pattern(0, big.length + 1000)), "bytes in order");
  });

  test("a peer that goes away during a pending write destroys the socket, without throwing", async () => {
    const [c, s] = await pair(servers);
    sockets.push(c, s);
    s.pause();
    const w = socketWriter(c, () => {});
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    c.on("error", () => {}); // EPIPE/ECONNRESET is expected
    assert.equal(w.write(pattern(0, 32 * 1024 * 1024)), false);
    s.destroy();
    await within(closed, "close after the peer reset");
    assert.equal(c.destroyed, true);
    // A late write on the destroyed socket is dropped, not thrown.
    assert.doesNotThrow(() => {
      if (!w.busy) w.write(Buffer.from("late"));
    });
  });
});

describe("socket-writes: the socket.write() fallback (TLS)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-writes-"));
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  after(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a TLS socket writes through socket.write, with the same contract", async () => {
    const { cert, key } = selfSignedCert(dir);
    let accepted!: (s: tls.TLSSocket) => void;
    const got = new Promise<tls.TLSSocket>((r) => {
      accepted = r;
    });
    const server = tls.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (s) =>
      accepted(s),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const c = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false });
    sockets.push(c);
    await within(new Promise<void>((r) => c.once("secureConnect", () => r())), "handshake");
    const s = await within(got, "accept");
    sockets.push(s);
    const w = socketWriter(c, () => {});
    assert.equal(w.busy, false);
    const data = pattern(0, 100_000);
    w.write(data);
    assert.equal(w.busy, false);
    assert.ok((await receive(s, data.length)).equals(data));
  });
});

describe("micros: the request clock", () => {
  test("readings advance with time and are small integers", async () => {
    const a = monoMicros();
    assert.ok(Number.isInteger(a) && a >= 0 && a < 1_000_000_000);
    await new Promise((r) => setTimeout(r, 20));
    const ms = elapsedMs(a);
    assert.ok(ms >= 19 && ms < 5000, `elapsed ${ms} ms`);
  });

  test("elapsed time is right across the 1000 s wrap", () => {
    assert.equal(elapsedMs(999_999_000, 1000), 2);
    assert.equal(elapsedMs(5000, 7500), 2.5);
  });
});
