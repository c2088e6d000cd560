/**
 * Pure classification of memcached replies for replica-set decisions (driver.ts ReplyClass):
 * a hit, a miss, a refusal (NOT_STORED/EXISTS/NOT_FOUND) or a server error. Never allocates.
 */
import { ReplyClass } from "../driver.js";

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
