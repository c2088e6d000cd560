/**
 * Warming a memcached member that comes back after a failure, before it serves reads:
 * - stock memcached: copy the keys of a live member. `lru_crawler metadump all` lists them
 *   (protocol.txt "LRU_Crawler metadump", 1.4.31+); values are read with multi-key `get` and
 *   stored with `add` (never `set`: a write that reached the returning member meanwhile
 *   through the set's fan-out is newer and must win), in pipelined batches, bounded in time.
 * - keepcache nodes that replicate: the node pulls its own copy; wait until its `stats` show
 *   every peer link `online` (src/node/replication/stats.ts peer:<addr>:state).
 */
import { McConn, untilLine } from "./mc-conn.js";

export interface WarmResult {
  keys: number;
  copied: number;
  complete: boolean;
}

interface Addr {
  host: string;
  port: number;
}

/** memcached's uri_encode'd key (metadump) back to raw bytes. */
export function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c & 0xff);
  }
  return Buffer.from(out);
}

/** Parses metadump lines: `key=<enc> exp=<n> la=<n> cas=<n> fetch=<..> cls=<n> size=<n>`. */
export function parseMetadump(text: string, nowSec: number): { key: Buffer; exp: number }[] {
  const out: { key: Buffer; exp: number }[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("key=")) continue;
    const f = line.trim().split(" ");
    const key = percentDecode(f[0].slice(4));
    const expField = f.find((x) => x.startsWith("exp="));
    const exp = expField === undefined ? -1 : Number(expField.slice(4));
    if (exp !== -1 && exp <= nowSec) continue; // expired already
    out.push({ key, exp: exp === -1 ? 0 : exp });
  }
  return out;
}

const endLine = untilLine("END\r\n");

/** A metadump ends with END, or is refused with one line (BUSY while another crawl runs). */
function dumpFrame(buf: Buffer): number {
  const first = buf.indexOf(0x0a);
  if (first > 0 && !buf.subarray(0, 4).equals(Buffer.from("key="))) {
    const line = buf.toString("latin1", 0, first);
    if (/^(BUSY|ERROR|CLIENT_ERROR|SERVER_ERROR)/.test(line)) return first + 1;
  }
  return endLine(buf);
}

/** Frames a `get` reply (VALUE blocks with byte counts, then END). */
function getFrame(buf: Buffer): number {
  let p = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, p);
    if (nl < 0) return -1;
    const line = buf.toString("latin1", p, nl);
    if (line.startsWith("END")) return nl + 1;
    if (!line.startsWith("VALUE ")) return nl + 1; // an error line ends the reply
    const bytes = Number(line.trim().split(" ")[3]);
    p = nl + 1 + bytes + 2;
    if (p > buf.length) return -1;
  }
}

export async function copyKeys(
  from: Addr,
  to: Addr,
  opts: { deadline: number; batch?: number; inflight?: number },
): Promise<WarmResult> {
  const timeout = Math.max(100, opts.deadline - Date.now());
  const src = new McConn(from.host, from.port, timeout);
  const dst = new McConn(to.host, to.port, timeout);
  try {
    await Promise.all([src.connected(), dst.connected()]);
    // The crawler skips items that are busy (being read or bumped) while it walks the LRU,
    // so one dump under a read load can miss a few keys: dump again and copy what is new,
    // until the copy holds as many keys as the source reports or a pass finds nothing new.
    const seen = new Set<string>();
    let copied = 0;
    let listed = 0;
    let complete = false;
    for (let pass = 0; pass < 5 && Date.now() < opts.deadline; pass++) {
      const stats = (await src.request("stats\r\n", endLine)).toString("latin1");
      const items = Number(/STAT curr_items (\d+)/.exec(stats)?.[1] ?? 0);
      const dump = await src.request("lru_crawler metadump all\r\n", dumpFrame);
      if (!dump.subarray(dump.length - 5).equals(Buffer.from("END\r\n")))
        throw new Error(`metadump refused: ${dump.toString("latin1", 0, 80).trim()}`);
      const all = parseMetadump(dump.toString("latin1"), Math.floor(Date.now() / 1000));
      const fresh = all.filter((k) => !seen.has(k.key.toString("latin1")));
      for (const k of fresh) seen.add(k.key.toString("latin1"));
      listed = seen.size;
      const r = await copyBatch(src, dst, fresh, opts);
      copied += r.copied;
      complete = r.complete;
      if (!r.complete || seen.size >= items || (fresh.length === 0 && pass > 0)) break;
    }
    // Every add was noreply: one round trip proves they were all applied (in order).
    await dst.request("mn\r\n", untilLine("MN\r\n"));
    return { keys: listed, copied, complete };
  } finally {
    src.close();
    dst.close();
  }
}

async function copyBatch(
  src: McConn,
  dst: McConn,
  keys: { key: Buffer; exp: number }[],
  opts: { deadline: number; batch?: number; inflight?: number },
): Promise<{ copied: number; complete: boolean }> {
  const exp = new Map(keys.map((k) => [k.key.toString("latin1"), k.exp]));
  const batch = opts.batch ?? 100;
  let copied = 0;
  let next = 0;
  const worker = async () => {
    while (next < keys.length && Date.now() < opts.deadline) {
      const part = keys.slice(next, next + batch);
      next += batch;
      const cmd = Buffer.concat([
        Buffer.from("get"),
        ...part.flatMap((k) => [Buffer.from(" "), k.key]),
        Buffer.from("\r\n"),
      ]);
      const reply = await src.request(cmd, getFrame);
      copied += storeAll(dst, reply, exp);
    }
  };
  await Promise.all(Array.from({ length: opts.inflight ?? 4 }, worker));
  return { copied, complete: next >= keys.length };
}

function storeAll(dst: McConn, reply: Buffer, exp: Map<string, number>): number {
  let p = 0;
  let n = 0;
  for (;;) {
    const nl = reply.indexOf(0x0a, p);
    if (nl < 0) return n;
    const line = reply.toString("latin1", p, nl).trim();
    if (!line.startsWith("VALUE ")) return n;
    const [, key, flags, bytes] = line.split(" ");
    const len = Number(bytes);
    const data = reply.subarray(nl + 1, nl + 1 + len);
    dst.write(
      Buffer.concat([
        Buffer.from(`add ${key} ${flags} ${exp.get(key) ?? 0} ${len} noreply\r\n`, "latin1"),
        data,
        Buffer.from("\r\n"),
      ]),
    );
    n++;
    p = nl + 1 + len + 2;
  }
}

/** keepcache node: resolves true once every peer link reports `online`, false at the deadline. */
export async function waitNodeInSync(to: Addr, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const c = new McConn(to.host, to.port, 1000);
    try {
      await c.connected();
      const s = (await c.request("stats\r\n", untilLine("END\r\n"))).toString("latin1");
      const states = [...s.matchAll(/^STAT peer:\S+:state (\S+)/gm)].map((m) => m[1]);
      if (states.length > 0 && states.every((x) => x === "online" || x === "self")) return true;
    } catch {
      // not up yet
    } finally {
      c.close();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
