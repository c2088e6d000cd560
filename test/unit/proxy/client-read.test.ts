import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { adoptReads, supported } from "../../../src/proxy/client-read.js";
import { CLIENT_SLAB, ReadSlab } from "../../../src/proxy/read-slab.js";

/** A paused-on-accept server whose sockets are adopted; resolves each accepted socket. */
async function server(): Promise<{
  srv: net.Server;
  port: number;
  next: () => Promise<net.Socket>;
}> {
  const waiting: Array<(s: net.Socket) => void> = [];
  const ready: net.Socket[] = [];
  const srv = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => {
    const w = waiting.shift();
    if (w) w(s);
    else ready.push(s);
  });
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as net.AddressInfo).port;
  const next = () =>
    new Promise<net.Socket>((r) => {
      const s = ready.shift();
      if (s) r(s);
      else waiting.push(r);
    });
  return { srv, port, next };
}

describe("client reads into an owned slab", () => {
  const servers: net.Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  test("this Node has the hooks", () => {
    assert.equal(supported(), true);
  });

  test("every byte arrives in order, chunks stay intact, 'end' follows", async () => {
    const { srv, port, next } = await server();
    servers.push(srv);
    const client = net.connect(port, "127.0.0.1");
    const sock = await next();
    const chunks: Buffer[] = [];
    assert.equal(
      adoptReads(sock, CLIENT_SLAB, (c) => chunks.push(c)),
      true,
    );
    let dataEvents = 0;
    sock.on("data", () => dataEvents++);
    sock.resume();
    const ended = once(sock, "end");
    // 300 KiB in writes of varying sizes: several slabs, and regions filled to the brim.
    const sent: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      const b = Buffer.alloc(1 + ((i * 7919) % 10_000), i & 0xff);
      sent.push(b);
      client.write(b);
    }
    client.end();
    await ended;
    assert.equal(dataEvents, 0);
    assert.deepEqual(Buffer.concat(chunks), Buffer.concat(sent));
    sock.destroy();
  });

  test("pause() stops reads and resume() restarts them", async () => {
    const { srv, port, next } = await server();
    servers.push(srv);
    const client = net.connect(port, "127.0.0.1");
    const sock = await next();
    let got = 0;
    let paused = false;
    let whilePaused = 0;
    adoptReads(sock, CLIENT_SLAB, (c) => {
      if (paused) whilePaused += c.length;
      got += c.length;
      if (got >= 1000 && !paused && whilePaused === 0) {
        paused = true;
        sock.pause();
      }
    });
    sock.resume();
    client.write(Buffer.alloc(1000, 1));
    // Wait until the pause has happened, then send more; nothing may be read while paused.
    for (let i = 0; i < 200 && !paused; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(paused, true);
    client.write(Buffer.alloc(500, 2));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(whilePaused, 0);
    assert.equal(got, 1000);
    paused = false;
    whilePaused = 1; // no second pause
    sock.resume();
    for (let i = 0; i < 200 && got < 1500; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, 1500);
    client.destroy();
    sock.destroy();
  });

  test("a socket already reading is refused and keeps its 'data' events", async () => {
    const srv = net.createServer({ allowHalfOpen: true });
    servers.push(srv);
    srv.listen(0, "127.0.0.1");
    await once(srv, "listening");
    const accepted = once(srv, "connection");
    const client = net.connect((srv.address() as net.AddressInfo).port, "127.0.0.1");
    const [sock] = (await accepted) as [net.Socket];
    assert.equal(
      adoptReads(sock, CLIENT_SLAB, () => assert.fail("adopted")),
      false,
    );
    const data = once(sock, "data");
    client.write("hello");
    const [chunk] = (await data) as [Buffer];
    assert.equal(chunk.toString(), "hello");
    client.destroy();
    sock.destroy();
  });
});

describe("read slab sizes", () => {
  test("a read that fills its region makes the next one larger, up to max", () => {
    const slab = new ReadSlab({ base: 1024, minRead: 256, max: 8192, first: 1024 });
    let r = slab.region();
    assert.equal(r.length, 1024);
    slab.claim(1024);
    r = slab.region();
    assert.equal(r.length, 2048);
    slab.claim(2048);
    r = slab.region();
    assert.equal(r.length, 4096);
    slab.claim(4096);
    assert.equal(slab.region().length, 8192);
    slab.claim(8192);
    assert.equal(slab.region().length, 8192);
    slab.claim(10); // an ordinary read: the slab after this one is of the base size again
    assert.equal(slab.region().length, 8182);
    slab.claim(8182 - 100);
    assert.equal(slab.region().length, 1024);
  });

  test("the first slab is small; the base size follows once it is used up", () => {
    const slab = new ReadSlab({ base: 16 * 1024, minRead: 1024, max: 64 * 1024, first: 4096 });
    assert.equal(slab.region().length, 4096);
    slab.claim(100);
    assert.equal(slab.region().length, 3996);
    slab.claim(3000);
    // 996 bytes left: below minRead, so a slab of the base size.
    assert.equal(slab.region().length, 16 * 1024);
  });

  test("claimed chunks are never overwritten, whatever the read sizes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 5000 }), fc.boolean()), { maxLength: 80 }),
        (reads) => {
          const slab = new ReadSlab({ base: 1024, minRead: 128, max: 16 * 1024, first: 256 });
          const kept: Array<[Buffer, number]> = [];
          reads.forEach(([n, fill], i) => {
            const region = slab.region();
            // `fill`: the socket fills the whole region (a large value streaming in).
            const k = fill ? region.length : Math.min(n, region.length);
            region.fill(i & 0xff, 0, k);
            kept.push([slab.claim(k), i & 0xff]);
          });
          return kept.every(([c, v]) => c.length > 0 && c.every((x) => x === v));
        },
      ),
      { numRuns: 200 },
    );
  });
});
