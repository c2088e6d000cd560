/** Pieces every meta command shares: base64 keys, TTL reporting, echoed return flags. */
import { MetaFlag as F, type TextRequest } from "../protocol/memcache/text-request.js";
import type { Store } from "../store/store.js";
import type { Handle } from "../store/types.js";
import type { OutBuffer } from "../util/out-buffer.js";
import { writeU64 } from "./reply.js";

/** A decoded base64 key (flag b) lives here; the request's own bytes are used otherwise. */
export interface Key {
  buf: Buffer;
  s: number;
  e: number;
}

export function keyOf(req: TextRequest, buf: Buffer): Key {
  if ((req.mflags & F.b) === 0) return { buf, s: req.keyStart, e: req.keyEnd };
  const k = Buffer.from(buf.toString("latin1", req.keyStart, req.keyEnd), "base64");
  return { buf: k, s: 0, e: k.length };
}

/** Seconds left before expiry, -1 for never (the `t` return flag). */
export function ttlLeft(store: Store, h: Handle, now: number): number {
  const exp = store.exptime(h);
  return exp === 0 ? -1 : Math.max(0, exp - now);
}

/** Echoes the O (opaque) and k (key) return flags, in request order, for ms/md/ma. */
export function echoFlags(req: TextRequest, buf: Buffer, out: OutBuffer, casHi = -1, casLo = 0) {
  for (let i = 0; i < req.tokCount; i++) {
    const s = req.tokStarts[i];
    const ch = buf[s];
    if (ch === 0x4f /* O */ || ch === 0x6b /* k */) {
      out.u8(0x20);
      if (ch === 0x6b) {
        out.u8(0x6b);
        out.bytes(buf, req.keyStart, req.keyEnd);
        if (req.mflags & F.b) out.ascii(" b");
      } else out.bytes(buf, s, req.tokEnds[i]);
    } else if (ch === 0x63 /* c */ && casHi >= 0) {
      out.ascii(" c");
      writeU64(out, casHi, casLo);
    }
  }
}
