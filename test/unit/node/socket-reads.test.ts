/**
 * socket-reads.ts relies on Node internals (the `onread` fields of net.Socket and the handle's
 * useUserBuffer). These tests pin that the Node we run on has them, that an adopted socket reads
 * into our buffer, pauses, resumes and ends like any socket, and that a cache node whose
 * clients all share one read buffer answers interleaved, fragmented requests correctly.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import pino from "pino";
import { nodeDefaults } from "../../../src/node/options.js";
import { CacheNode } from "../../../src/node/server.js";
import { adoptReads, readHooks } from "../../../src/util/socket-reads.js";
import { within } from "../../helpers/deadline.js";

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Reads from `s` until the text received ends with `suffix`. */
function readUntil(s: net.Socket, suffix: string): Promise<string> {
  return within(
    new Promise((resolve) => {
      let got = "";
      const on = (d: Buffer) => {
        got += d.toString("latin1");
        if (got.endsWith(suffix)) {
          s.off("data", on);
          resolve(got);
        }
      };
      s.on("data", on);
    }),
    `reply ending ${JSON.stringify(suffix)}`,
  );
}

describe("socket-reads: adopted server sockets", () => {
  const servers: net.Server[] = [];
  const sockets: net.Socket[] = [];
  after(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
  });

  /** A pauseOnConnect server whose accepted sockets go to `onSocket`. */
  async function listen(onSocket: (s: net.Socket) => void): Promise<number> {
    const server = net.createServer({ pauseOnConnect: true }, (s) => {
      sockets.push(s);
      onSocket(s);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return (server.address() as net.AddressInfo).port;
  }

  test("this Node has the hooks (else every node falls back to 'data' events)", () => {
    const h = readHooks();
    assert.ok(h !== null, "net.Socket lost its kBuffer/kBufferGen/kBufferCb fields");
    assert.equal(readHooks(), h, "probed once");
  });

  test("reads land in our buffer; pause stops them, resume restarts, EOF ends the socket", async () => {
    const buf = Buffer.alloc(64);
    const seen: string[] = [];
    let server: net.Socket | undefined;
    let onChunk: () => void = () => {};
    const ended = new Promise<void>((resolve) => {
      void listen((s) => {
        server = s;
        assert.equal(
          adoptReads(s, buf, (n) => {
            seen.push(buf.toString("latin1", 0, n));
            onChunk();
          }),
          true,
        );
        s.on("data", () => assert.fail("an adopted socket must not emit 'data'"));
        s.once("end", () => resolve());
        s.resume();
      }).then(async (port) => {
        const c = await connect(port);
        sockets.push(c);
        await within(
          new Promise<void>((r) => {
            onChunk = r;
            c.write("hello");
          }),
          "first read",
        );
        server?.pause();
        c.write("world");
        // While paused nothing is read; give the loop a few turns to prove it.
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(seen, ["hello"]);
        const next = new Promise<void>((r) => {
          onChunk = r;
        });
        server?.resume();
        await within(next, "read after resume");
        c.end();
      });
    });
    await within(ended, "end");
    assert.deepEqual(seen, ["hello", "world"]);
  });

  test("a socket already reading is refused and keeps its 'data' events", async () => {
    const buf = Buffer.alloc(64);
    const got = new Promise<string>((resolve) => {
      void listen((s) => {
        s.resume();
        s.once("data", (d: Buffer) => resolve(d.toString("latin1")));
        assert.equal(
          adoptReads(s, buf, () => assert.fail("not adopted")),
          false,
        );
      }).then(async (port) => {
        const c = await connect(port);
        sockets.push(c);
        c.write("ping");
      });
    });
    assert.equal(await within(got, "data"), "ping");
  });
});

describe("cache node: many clients, one shared read buffer", () => {
  const node = new CacheNode(
    { ...nodeDefaults, port: 0, memoryLimitMb: 8 },
    pino({ level: "silent" }),
  );
  const clients: net.Socket[] = [];
  after(async () => {
    for (const c of clients) c.destroy();
    await node.close();
  });

  test("fragmented requests interleaved across clients keep their own bytes", async () => {
    await node.listen();
    const { port } = node.address();
    const n = 4;
    for (let i = 0; i < n; i++) clients.push(await connect(port));
    const value = (i: number) => `${String(i)}`.repeat(300);
    const reqs = clients.map(
      (_, i) => `set key${i} ${i} 0 ${value(i).length}\r\n${value(i)}\r\nget key${i}\r\n`,
    );
    const replies = clients.map((c) => readUntil(c, "END\r\n"));
    // Write every request in small pieces, round robin over the clients, waiting a moment after
    // each round so each piece arrives as its own read and the others overwrite the buffer.
    const piece = 37;
    const longest = Math.max(...reqs.map((r) => r.length));
    for (let at = 0; at < longest; at += piece) {
      for (let i = 0; i < n; i++) {
        if (at < reqs[i].length) clients[i].write(reqs[i].slice(at, at + piece));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    const got = await within(Promise.all(replies), "all replies");
    for (let i = 0; i < n; i++) {
      assert.equal(got[i], `STORED\r\nVALUE key${i} ${i} 300\r\n${value(i)}\r\nEND\r\n`);
    }
  });

  test("a client over the connection limit is told so and closed", async () => {
    const small = new CacheNode(
      { ...nodeDefaults, port: 0, memoryLimitMb: 8, connLimit: 1 },
      pino({ level: "silent" }),
    );
    await small.listen();
    try {
      const { port } = small.address();
      const first = await connect(port);
      clients.push(first);
      first.write("version\r\n");
      await readUntil(first, "\r\n");
      const second = await connect(port);
      clients.push(second);
      const closed = new Promise<void>((r) => second.once("close", () => r()));
      const said = await readUntil(second, "\r\n");
      assert.equal(said, "SERVER_ERROR Too many open connections\r\n");
      await within(closed, "rejected client closed");
    } finally {
      await small.close();
    }
  });
});
