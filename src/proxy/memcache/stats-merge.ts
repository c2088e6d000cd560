/**
 * Aggregates `stats` across a pool's servers, so a client sees one server: counters and sizes
 * are summed; values that describe one process (pid, uptime, version, ...) are taken from the
 * first server. Order follows the first server's listing; names only others have come after.
 */

/** Per-process values: summing them would be meaningless. */
const FIRST_ONLY = new Set([
  "pid",
  "uptime",
  "time",
  "version",
  "libevent",
  "pointer_size",
  "threads",
  "max_connections",
  "reserved_fds",
  "hash_power_level",
  "malloc_fails",
  "evictions_enabled",
]);

const NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;

export type StatList = Array<[string, string]>;

export function aggregateStats(lists: readonly StatList[]): StatList {
  const order: string[] = [];
  const values = new Map<string, string[]>();
  for (const list of lists)
    for (const [k, v] of list) {
      let vs = values.get(k);
      if (vs === undefined) {
        vs = [];
        values.set(k, vs);
        order.push(k);
      }
      vs.push(v);
    }
  return order.map((k) => {
    const vs = values.get(k) ?? [];
    if (FIRST_ONLY.has(k) || !vs.every((v) => NUMBER.test(v))) return [k, vs[0]];
    if (vs.every((v) => !v.includes("."))) {
      let sum = 0n;
      for (const v of vs) sum += BigInt(v);
      return [k, sum.toString()];
    }
    // rusage_user / rusage_system: "seconds.micros".
    const sum = vs.reduce((a, v) => a + Number(v), 0);
    return [k, sum.toFixed(6)];
  });
}

/** "STAT name value\r\n"... lines of one text reply (END and other lines skipped). */
export function parseTextStats(reply: Buffer): StatList {
  const out: StatList = [];
  for (const line of reply.toString("latin1").split("\r\n")) {
    if (!line.startsWith("STAT ")) continue;
    const sp = line.indexOf(" ", 5);
    if (sp < 0) out.push([line.slice(5), ""]);
    else out.push([line.slice(5, sp), line.slice(sp + 1)]);
  }
  return out;
}

/** Binary Stat packets of one reply: key = name, value = body after the key. */
export function parseBinaryStats(reply: Buffer): StatList {
  const out: StatList = [];
  let p = 0;
  while (p + 24 <= reply.length) {
    const keyLen = reply.readUInt16BE(p + 2);
    const ext = reply[p + 4];
    const body = reply.readUInt32BE(p + 8);
    const k = p + 24 + ext;
    if (keyLen > 0) {
      out.push([
        reply.toString("latin1", k, k + keyLen),
        reply.toString("latin1", k + keyLen, p + 24 + body),
      ]);
    }
    p += 24 + body;
  }
  return out;
}
