/**
 * memcached replica sets over real memcached: `write: all` reaches every member,
 * a member killed under a read load costs the client ZERO failed reads (reads fail over to
 * the next member), and the member is warmed (keys copied from a live member with
 * lru_crawler metadump + get + add) before it serves reads again, so its hit ratio right
 * after its return is high.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { freePorts } from "../../tools/ports.js";
import { type Proc, startMemcached, stopAll } from "../../tools/procs.js";
import { exchange, type RunningProxy, startProxy } from "./proxy-harness.js";

/** A memcached text client: one request at a time, read to a terminator. */

export class LineClient {
  private readonly sock: net.Socket;
  private buf = "";
  private pending:
    | { until: string; resolve: (s: string) => void; reject: (e: Error) => void }
    | undefined;

  constructor(port: number) {
    this.sock = net.connect({ host: "127.0.0.1", port });
    this.sock.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1");
      this.check();
    });
    const fail = (e: Error) => {
      this.pending?.reject(e);
      this.pending = undefined;
    };
    this.sock.on("error", fail);
    this.sock.on("close", () => fail(new Error("closed")));
  }

  private check(): void {
    const p = this.pending;
    if (!p) return;
    const i = this.buf.indexOf(p.until);
    const err = /^(SERVER_ERROR|ERROR|CLIENT_ERROR)[^\n]*\n/.exec(this.buf);
    if (err) {
      this.buf = this.buf.slice(err[0].length);
      this.pending = undefined;
      p.resolve(err[0]);
      return;
    }
    if (i < 0) return;
    const out = this.buf.slice(0, i + p.until.length);
    this.buf = this.buf.slice(i + p.until.length);
    this.pending = undefined;
    p.resolve(out);
  }

  req(data: string, until: string, timeoutMs = 3000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      this.pending = {
        until,
        resolve: (s) => {
          clearTimeout(t);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      this.sock.write(data);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stat(port: number, name: string): Promise<number> {
  const s = await exchange(port, "stats\r\n", (t) => t.endsWith("END\r\n"));
  const m = new RegExp(`STAT ${name} (\\d+)`).exec(s);
  return m ? Number(m[1]) : 0;
}

describe("memcached replica set", { timeout: 60_000 }, () => {
  let proxy: RunningProxy | undefined;
  const procs: (Proc | undefined)[] = [];
  after(async () => {
    await proxy?.stop();
    await stopAll();
  });

  test("member kill under reads: zero failed reads; warmed on return", async () => {
    const [a, b, c, listen] = await freePorts(4);
    for (const p of [a, b, c]) procs.push(await startMemcached(p));
    proxy = await startProxy(
      [
        "mc:",
        `  listen: 127.0.0.1:${listen}`,
        "  timeout: 500",
        "  servers:",
        "    - name: set1",
        "      write: all",
        "      read: round-robin",
        "      warm_timeout: 5000",
        "      members:",
        `        - { address: "127.0.0.1:${a}" }`,
        `        - { address: "127.0.0.1:${b}" }`,
        `        - { address: "127.0.0.1:${c}" }`,
      ].join("\n"),
    );
    const port = proxy.port();
    const cl = new LineClient(port);
    const N = 300;
    for (let i = 0; i < N; i++)
      assert.equal(
        await cl.req(`set k${i} 0 0 3\r\nv${String(i % 10).padStart(2, "0")}\r\n`, "STORED\r\n"),
        "STORED\r\n",
      );
    // write: all reached every member
    for (const p of [a, b, c]) assert.equal(await stat(p, "curr_items"), N);

    let reads = 0;
    let failed = 0;
    let running = true;
    const readers = [0, 1].map(async () => {
      const r = new LineClient(port);
      for (let i = 0; running; i++) {
        const k = `k${i % N}`;
        const got = await r.req(`get ${k}\r\n`, "END\r\n").catch((e: Error) => e.message);
        reads++;
        if (!got.startsWith(`VALUE ${k} `)) failed++;
      }
      r.close();
    });
    await sleep(300);
    procs[1]?.child.kill("SIGKILL");
    await sleep(800);
    const duringOutage = reads;
    // The member returns empty; it is warmed before it serves reads.
    procs[1] = await startMemcached(b);
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && (await stat(b, "curr_items")) < N) await sleep(50);
    await sleep(300);
    running = false;
    await Promise.all(readers);
    cl.close();
    assert.ok(duringOutage > 100 && reads > duringOutage, `reads flowed (${reads})`);
    assert.equal(failed, 0, `${failed} of ${reads} reads failed`);
    assert.equal(await stat(b, "curr_items"), N, "the returning member was warmed with every key");
    const hits = await stat(b, "get_hits");
    const misses = await stat(b, "get_misses");
    assert.ok(hits > 0, "the returning member serves reads again");
    assert.ok(hits / (hits + misses) >= 0.99, `hit ratio after return ${hits}/${hits + misses}`);
  });
});
