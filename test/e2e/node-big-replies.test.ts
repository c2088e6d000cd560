/**
 * Replies of megabytes from `keepcache node` are produced a budget per event-loop turn: a
 * 60,000-key get and a metadump of 60,000 items come out whole, byte for byte what memcached
 * sends (the get) and in request order with what follows on the same connection, while
 * another client is served meanwhile without error. Latency figures are
 * `npm run bench -- multiget`'s; here only a generous bound.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { loadItems } from "../../bench/lib/loader.js";
import { loaderKeys, Prober } from "../../tools/big-get.js";
import { freePort } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { type NodeProc, startNode } from "../helpers/keepcache.js";

const KEYS = 60_000;
const VALUE = 100;

/** Sends `request` on a fresh connection and reads until the reply ends with `end`. */
function ask(port: number, request: string, end: string, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" }, () => sock.write(request));
    const chunks: Buffer[] = [];
    let tail = "";
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no ${JSON.stringify(end)} after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      tail = (tail + d.toString("latin1")).slice(-end.length);
      if (tail === end) {
        clearTimeout(t);
        sock.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    sock.on("error", reject);
  });
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("large replies from keepcache node", () => {
  let node: NodeProc;
  let mcPort: number;
  const keys = loaderKeys(KEYS);
  before(async () => {
    node = await startNode(["-m", "128"]);
    mcPort = await freePort();
    await startMemcached(mcPort, ["-m", "128"]);
    for (const p of [node.port, mcPort]) await loadItems(p, KEYS, 10, VALUE);
    const small = await ask(node.port, "set small 0 0 1\r\n1\r\n", "\r\n");
    assert.equal(small.toString(), "STORED\r\n");
  });
  after(stopAll);

  test("a 60,000-key get: memcached's bytes, in order with what follows; others served", async (t) => {
    const probe = new Prober(node.port, "small", "VALUE small 0 1\r\n1\r\nEND\r\n").start();
    // The big get, then a write and a read on the same connection: they answer after it.
    const request = `get ${keys.join(" ")}\r\nset after 0 0 2\r\nok\r\nget after\r\n`;
    const [ours, theirs] = await Promise.all([
      ask(node.port, request, "VALUE after 0 2\r\nok\r\nEND\r\n"),
      ask(mcPort, request, "VALUE after 0 2\r\nok\r\nEND\r\n"),
    ]);
    const p = await probe.stop();
    t.diagnostic(
      `other client: ${p.count} gets, p99 ${p.p99ms.toFixed(1)} ms, max ${p.maxMs.toFixed(1)} ms`,
    );
    assert.equal(ours.length, theirs.length);
    assert.equal(sha(ours), sha(theirs));
    assert.deepEqual(p.errors, []);
    assert.ok(p.count > 10, `${p.count} probes`);
    assert.ok(p.maxMs < 3000, `the other client waited ${p.maxMs} ms`);
  });

  test("a metadump of 60,000 items lists each once, then END; others served", async () => {
    const probe = new Prober(node.port, "small", "VALUE small 0 1\r\n1\r\nEND\r\n").start();
    const dump = (await ask(node.port, "lru_crawler metadump all\r\n", "END\r\n")).toString();
    const p = await probe.stop();
    const lines = dump.split("\n").filter((l) => l.startsWith("key="));
    const listed = new Set(lines.map((l) => decodeURIComponent(l.slice(4, l.indexOf(" ")))));
    assert.equal(lines.length, listed.size, "no key listed twice");
    for (const k of keys) assert.ok(listed.has(k), `${k} missing`);
    assert.ok(dump.endsWith("END\r\n"));
    assert.deepEqual(p.errors, []);
    assert.ok(p.maxMs < 3000, `the other client waited ${p.maxMs} ms`);
  });
});
