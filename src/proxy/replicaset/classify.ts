/**
 * Pure classification of backend replies and requests for replica-set decisions: is a reply a
 * hit, a miss, a refusal (NOT_STORED/EXISTS/NOT_FOUND) or a server error; is a Redis error a
 * role change that a retry elsewhere can fix; is a request (a split part or a broadcast,
 * which carry no Plan flags) read-only. Never allocates on the hot path.
 */

export enum ReplyClass {
  Ok = 0,
  /** A read found nothing (memcached END / EN / binary NOT_FOUND on a get; Redis nil). */
  Miss = 1,
  /** A write was refused on its merits: NOT_STORED, EXISTS, NOT_FOUND (protocol.txt). */
  Refused = 2,
  /** SERVER_ERROR, ERROR, CLIENT_ERROR, a binary error status, a Redis error. */
  Error = 3,
  /**
   * Redis -READONLY, -MASTERDOWN, -LOADING (sentinel-clients.md): the server cannot serve this
   * now because of its role; the request was not executed, so it is safe to send elsewhere.
   */
  RoleChange = 4,
}

function startsWith(buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** memcached text/meta or binary reply (protocol.txt, protocol-binary.txt). */
export function memcacheReplyClass(buf: Buffer, start: number, end: number): ReplyClass {
  if (end - start >= 24 && buf[start] === 0x81) {
    const status = (buf[start + 6] << 8) | buf[start + 7];
    if (status === 0) return ReplyClass.Ok;
    if (status === 0x0001) return ReplyClass.Miss; // Key not found
    if (status === 0x0002 || status === 0x0005) return ReplyClass.Refused; // exists, not stored
    return ReplyClass.Error;
  }
  const c = buf[start];
  if (c === 0x45) {
    // END (a retrieval with no VALUE), EN (meta miss), EXISTS, ERROR
    if (startsWith(buf, start, end, "END\r\n") || startsWith(buf, start, end, "EN\r\n"))
      return ReplyClass.Miss;
    if (startsWith(buf, start, end, "EXISTS") || startsWith(buf, start, end, "EX"))
      return startsWith(buf, start, end, "ERROR") ? ReplyClass.Error : ReplyClass.Refused;
    if (startsWith(buf, start, end, "ERROR")) return ReplyClass.Error;
    return ReplyClass.Ok;
  }
  if (c === 0x4e) {
    // NOT_STORED, NOT_FOUND, NS, NF
    if (
      startsWith(buf, start, end, "NOT_") ||
      startsWith(buf, start, end, "NS") ||
      startsWith(buf, start, end, "NF")
    )
      return ReplyClass.Refused;
    return ReplyClass.Ok;
  }
  if (c === 0x53 && startsWith(buf, start, end, "SERVER_ERROR")) return ReplyClass.Error;
  if (c === 0x43 && startsWith(buf, start, end, "CLIENT_ERROR")) return ReplyClass.Error;
  return ReplyClass.Ok;
}

const ROLE_WORDS = ["READONLY", "MASTERDOWN", "LOADING"];

/** Redis RESP2/RESP3 reply. */
export function redisReplyClass(buf: Buffer, start: number, end: number): ReplyClass {
  const c = buf[start];
  if (c === 0x2d /* - */ || c === 0x21 /* ! */) {
    let p = start + 1;
    if (c === 0x21) {
      while (p < end && buf[p] !== 0x0a) p++;
      p++;
    }
    for (const w of ROLE_WORDS) {
      if (startsWith(buf, p, end, w)) {
        const after = buf[p + w.length];
        if (after === 0x20 || after === 0x0d) return ReplyClass.RoleChange;
      }
    }
    return ReplyClass.Error;
  }
  // $-1 (RESP2 nil bulk), *-1 (nil array), _ (RESP3 null)
  if (c === 0x5f) return ReplyClass.Miss;
  if ((c === 0x24 || c === 0x2a) && buf[start + 1] === 0x2d) return ReplyClass.Miss;
  return ReplyClass.Ok;
}

const MC_READS = ["get ", "gets ", "gat ", "gats ", "mg ", "stats", "version", "mn"];
/** Binary opcodes that only read: Get, GetQ, GetK, GetKQ, Noop, Version, Stat, GAT, GATQ. */
const MC_BINARY_READS = new Set([0x00, 0x09, 0x0c, 0x0d, 0x0a, 0x0b, 0x10, 0x1d, 0x1e]);

/** A memcached request that only reads (for split parts and broadcasts, which carry no Plan). */
export function memcacheRequestIsRead(buf: Buffer, start: number, end: number): boolean {
  if (end > start && buf[start] === 0x80) return MC_BINARY_READS.has(buf[start + 1]);
  for (const w of MC_READS) if (startsWith(buf, start, end, w)) return true;
  return false;
}

const REDIS_READS = new Set([
  "GET",
  "MGET",
  "EXISTS",
  "INFO",
  "DBSIZE",
  "PING",
  "TIME",
  "STRLEN",
  "TTL",
  "PTTL",
  "TYPE",
]);

/** A Redis request (`*N\r\n$L\r\nNAME...`) whose command only reads. */
export function redisRequestIsRead(buf: Buffer, start: number, end: number): boolean {
  if (buf[start] !== 0x2a) return false;
  let p = start;
  while (p < end && buf[p] !== 0x0a) p++;
  p++;
  if (buf[p] !== 0x24) return false;
  let len = 0;
  for (p++; p < end && buf[p] !== 0x0d; p++) len = len * 10 + (buf[p] - 0x30);
  p += 2;
  if (len > 16 || p + len > end) return false;
  return REDIS_READS.has(buf.toString("latin1", p, p + len).toUpperCase());
}
