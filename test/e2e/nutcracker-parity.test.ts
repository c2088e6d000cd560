/**
 * Parity with the real nutcracker 0.5.0: for every hash × {ketama, modula}, with weights, named
 * servers (whose names sort differently from their order) and hash tags, keys are set THROUGH
 * nutcracker, then each memcached is asked directly which keys it holds, and our router must
 * pick that same server for every key. One nutcracker process serves all configurations as
 * separate pools (each pool its own listen port and key prefix), so the suite takes seconds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildRouter } from "../../src/proxy/distribution/index.js";
import { HASH_FUNCTIONS } from "../../src/proxy/hash/index.js";
import { freePorts } from "../../tools/ports.js";
import { type Proc, start, startMemcached, stopAll } from "../../tools/procs.js";

/** A tiny memcached ASCII client over latin1 so key bytes >= 0x80 survive. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private constructor(private sock: net.Socket) {
    sock.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("error", () => {});
  }
  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(new Conn(s)));
      s.once("error", reject);
    });
  }
  send(b: Buffer): void {
    this.sock.write(b);
  }
  /** Waits (bounded) until `pred` accepts the buffered input, then returns and clears it. */
  async readUntil(pred: (b: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.buf)) {
      if (Date.now() > deadline) throw new Error(`timeout; got: ${this.buf.toString("latin1")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
  close(): void {
    this.sock.destroy();
  }
}

function countOf(b: Buffer, needle: string): number {
  let n = 0;
  for (let i = b.indexOf(needle); i >= 0; i = b.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys: ASCII of many lengths (every hash tail case), bytes >= 0x80, and hash-tag shapes. */
function makeKeys(prefix: string, n: number, seed: number): Buffer[] {
  const r = rng(seed);
  const keys: Buffer[] = [];
  const tagged = ["{user1}", "{}", "{a", "b}", "{x}{y}", "}z{w}"];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 40);
    const bytes: number[] = [...Buffer.from(`${prefix}${i}`)];
    for (let j = 0; j < len; j++) {
      const high = i % 5 === 0 && r() < 0.3;
      bytes.push(high ? 0x80 + Math.floor(r() * 0x7f) : 0x21 + Math.floor(r() * 0x5e));
    }
    let k = Buffer.from(bytes);
    if (i % 4 === 1) k = Buffer.concat([k, Buffer.from(tagged[i % tagged.length])]);
    if (i % 4 === 2) k = Buffer.concat([Buffer.from(tagged[(i >> 2) % tagged.length]), k]);
    keys.push(k);
  }
  return keys;
}

interface PoolCase {
  id: string;
  hash: string;
  distribution: "ketama" | "modula";
  hashTag?: string;
  /** [memcached index, weight, name?] */
  servers: [number, number, string?][];
}

const cases: PoolCase[] = [];
for (const hash of Object.keys(HASH_FUNCTIONS))
  for (const distribution of ["ketama", "modula"] as const)
    cases.push({
      id: `${hash}-${distribution}`,
      hash,
      distribution,
      servers: [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
      ],
    });
for (const distribution of ["ketama", "modula"] as const) {
  cases.push({
    id: `weights-${distribution}`,
    hash: "fnv1a_64",
    distribution,
    servers: [
      [0, 1],
      [1, 3],
      [2, 2],
      [3, 5],
    ],
  });
  // Names in an order that differs from twemproxy's (length, then bytes) sort.
  cases.push({
    id: `named-${distribution}`,
    hash: "one_at_a_time",
    distribution,
    servers: [
      [0, 2, "zeta"],
      [1, 1, "a1"],
      [2, 1, "bb"],
      [3, 3, "c"],
    ],
  });
  cases.push({
    id: `tag-${distribution}`,
    hash: "one_at_a_time",
    distribution,
    hashTag: "{}",
    servers: [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
  });
}
cases.push({
  id: "tag-other-chars",
  hash: "murmur",
  distribution: "ketama",
  hashTag: "ab",
  servers: [
    [0, 1, "s1"],
    [1, 1, "s2"],
  ],
});

const KEYS_PER_POOL = 200;

describe("nutcracker 0.5.0 parity (real processes)", { timeout: 120_000 }, () => {
  let mcPorts: number[] = [];
  let listenPorts: number[] = [];
  let nutcracker: Proc | undefined;
  let dir = "";

  before(async () => {
    const ports = await freePorts(4 + cases.length + 1);
    mcPorts = ports.slice(0, 4);
    listenPorts = ports.slice(4, 4 + cases.length);
    const statsPort = ports[4 + cases.length];
    await Promise.all(mcPorts.map((p) => startMemcached(p)));
    dir = mkdtempSync(join(tmpdir(), "kc-parity-"));
    const yml = cases
      .map((c, i) => {
        const lines = [
          `${c.id.replaceAll("-", "_")}:`,
          `  listen: 127.0.0.1:${listenPorts[i]}`,
          `  hash: ${c.hash}`,
          `  distribution: ${c.distribution}`,
          ...(c.hashTag ? [`  hash_tag: "${c.hashTag}"`] : []),
          "  timeout: 2000",
          "  servers:",
          ...c.servers.map(
            ([m, w, name]) => `    - 127.0.0.1:${mcPorts[m]}:${w}${name ? ` ${name}` : ""}`,
          ),
        ];
        return lines.join("\n");
      })
      .join("\n");
    const conf = join(dir, "nutcracker.yml");
    writeFileSync(conf, `${yml}\n`);
    nutcracker = await start(
      "nutcracker",
      ["-c", conf, "-s", String(statsPort), "-a", "127.0.0.1", "-p", join(dir, "nc.pid")],
      { port: listenPorts[listenPorts.length - 1] },
    );
    for (const p of listenPorts.slice(0, -1)) {
      const c = await Conn.open(p);
      c.close();
    }
  });

  after(async () => {
    await stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  cases.forEach((c, ci) => {
    test(`${c.id}: every key is where nutcracker put it`, async () => {
      assert.ok(nutcracker, "nutcracker started");
      const keys = makeKeys(`p${ci}:`, KEYS_PER_POOL, 1000 + ci);
      // Set all keys through nutcracker, pipelined.
      const via = await Conn.open(listenPorts[ci]);
      via.send(
        Buffer.concat(
          keys.map((k) =>
            Buffer.concat([
              Buffer.from("set "),
              k,
              Buffer.from(` 0 0 ${ci % 10}\r\n`),
              Buffer.from(`${"v".repeat(ci % 10)}\r\n`),
            ]),
          ),
        ),
      );
      const replies = await via.readUntil((b) => countOf(b, "\r\n") >= keys.length);
      via.close();
      assert.equal(countOf(replies, "STORED\r\n"), keys.length, replies.toString("latin1"));

      // Ask each memcached which of the keys it holds.
      const holder = new Map<string, number>();
      for (const [si, [m]] of c.servers.entries()) {
        const conn = await Conn.open(mcPorts[m]);
        for (let i = 0; i < keys.length; i += 25) {
          const batch = keys.slice(i, i + 25);
          const req: Buffer[] = [Buffer.from("get")];
          for (const k of batch) req.push(Buffer.from(" "), k);
          req.push(Buffer.from("\r\n"));
          conn.send(Buffer.concat(req));
          const res = await conn.readUntil((b) => b.subarray(-5).toString() === "END\r\n");
          for (const line of res.toString("latin1").split("\r\n")) {
            if (!line.startsWith("VALUE ")) continue;
            const k = line.split(" ")[1];
            assert.equal(holder.get(k), undefined, `key ${k} on two servers`);
            holder.set(k, si);
          }
        }
        conn.close();
      }

      const router = buildRouter({
        servers: c.servers.map(([m, w, name]) => {
          const addr = `127.0.0.1:${mcPorts[m]}`;
          return { name: name ?? addr, weight: w };
        }),
        hash: c.hash,
        distribution: c.distribution,
        hashTag: c.hashTag,
      });
      let mismatches = 0;
      const examples: string[] = [];
      for (const k of keys) {
        const where = holder.get(k.toString("latin1"));
        assert.notEqual(where, undefined, `key ${k.toString("latin1")} found on no server`);
        const ours = router.pick(k, 0, k.length);
        if (ours !== where) {
          mismatches++;
          if (examples.length < 5)
            examples.push(`${k.toString("hex")}: nutcracker ${where}, ours ${ours}`);
        }
      }
      assert.equal(
        mismatches,
        0,
        `${mismatches}/${keys.length} keys differ:\n${examples.join("\n")}`,
      );
    });
  });
});
