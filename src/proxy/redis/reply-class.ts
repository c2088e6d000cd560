/**
 * Pure classification of Redis replies for replica-set decisions (driver.ts ReplyClass): a nil
 * is a miss; -READONLY, -MASTERDOWN, -LOADING (sentinel-clients.md) a role change that a retry
 * elsewhere can fix; other errors errors. Never allocates.
 */
import { ReplyClass } from "../driver.js";

function startsWith(buf: Buffer, start: number, end: number, word: string): boolean {
  if (end - start < word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[start + i] !== word.charCodeAt(i)) return false;
  return true;
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
