/**
 * handoff.ts: a listener received over IPC already accepts; connections that arrive before the
 * worker's pool adopts it are held (unread, open) and handed over in order, with the bytes the
 * client sent meanwhile; a listener never adopted closes what it held.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { HeldListener } from "../../../src/proxy/workers/handoff.js";

async function listening(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, port: (server.address() as net.AddressInfo).port };
}

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function client(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(s));
    s.once("error", reject);
  });
}

function reply(s: net.Socket, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const t = setTimeout(() => reject(new Error(`no reply; got ${JSON.stringify(got)}`)), ms);
    s.on("data", (d: Buffer) => {
      got += d.toString();
      if (got.endsWith("\n")) {
        clearTimeout(t);
        resolve(got);
      }
    });
  });
}

describe("HeldListener", () => {
  test("connections accepted before adoption are served after it, bytes included", async () => {
    const { server, port } = await listening();
    const held = new HeldListener(server);
    const early = await Promise.all([client(port), client(port), client(port)]);
    for (const [i, s] of early.entries()) s.write(`early${i}\n`);
    await until(() => held.held === 3, "3 held sockets");
    const order: number[] = [];
    const accepted: net.Socket[] = [];
    held.release((sock) => {
      accepted.push(sock);
      // Held unread (pauseOnConnect): the adopter decides when and how reading starts.
      assert.equal((sock as unknown as { _handle: { reading: boolean } })._handle.reading, false);
      order.push(sock.remotePort ?? -1);
      let line = "";
      sock.on("data", (d: Buffer) => {
        line += d.toString();
        if (line.endsWith("\n")) sock.write(`echo ${line}`);
      });
      sock.resume();
    });
    assert.deepEqual(
      order,
      early.map((s) => s.localPort),
      "handed over in accept order",
    );
    const answers = await Promise.all(early.map((s) => reply(s)));
    assert.deepEqual(answers, ["echo early0\n", "echo early1\n", "echo early2\n"]);
    // After release, new connections go straight to the adopter.
    const late = await client(port);
    late.write("late\n");
    assert.equal(await reply(late), "echo late\n");
    assert.equal(held.held, 0);
    // allowHalfOpen (as the pools' listeners): the server side is closed by its owner.
    for (const s of [...early, late, ...accepted]) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test("a listener never adopted closes itself and the sockets it held", async () => {
    const { server, port } = await listening();
    const held = new HeldListener(server);
    const s = await client(port);
    await until(() => held.held === 1, "a held socket");
    const closed = new Promise<void>((r) => s.once("close", () => r()));
    s.on("error", () => {});
    held.discard();
    await closed;
    assert.equal(server.listening, false);
    assert.equal(held.held, 0);
  });
});
