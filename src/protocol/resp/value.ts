/**
 * Decodes one complete reply frame (as RespReplyFramer delimits it) into JavaScript values, for
 * the control plane (failover links: ROLE, INFO, SENTINEL, pub/sub), never for the proxy's data
 * path, which forwards byte ranges. Pure: the frame's bytes in, a value out. The framer has
 * already checked the frame's syntax and bounded its depth and lengths, so this walks it once,
 * on an explicit stack. Types (redis-doc docs/reference/protocol-spec.md):
 *   simple string, bulk string, verbatim string, big number → string (utf8; verbatim without
 *   its `txt:` prefix); integer, double → number; null, `$-1`, `*-1` → null; boolean → boolean;
 *   array, set, push → array; map → array of alternating keys and values (as RESP2 sends
 *   them); error, blob error → RespErrorValue; attributes are skipped.
 */
import { RespType } from "./reply.js";

/** An error reply (`-ERR ...`), as a value: top-level ones are rejections, nested ones stay. */
export class RespErrorValue {
  constructor(readonly message: string) {}
}

export type RespValue = string | number | boolean | null | RespErrorValue | RespValue[];

const CR = 0x0d;

interface Open {
  items: RespValue[];
  left: number;
  /** An attribute's elements are read and dropped. */
  skip: boolean;
}

/** The value of the frame buf[start, end). */
export function decodeReply(buf: Buffer, start: number, end: number): RespValue {
  const stack: Open[] = [];
  let pos = start;
  for (;;) {
    if (pos >= end) throw new Error("RESP value: frame ends early");
    const t = buf[pos];
    const cr = buf.indexOf(CR, pos + 1);
    const line = buf.toString("utf8", pos + 1, cr);
    pos = cr + 2;
    let value: RespValue;
    let opened: Open | undefined;
    switch (t) {
      case RespType.SimpleString:
      case RespType.BigNumber:
        value = line;
        break;
      case RespType.Error:
        value = new RespErrorValue(line);
        break;
      case RespType.Integer:
      case RespType.Double:
        value = Number(line);
        break;
      case RespType.Null:
        value = null;
        break;
      case RespType.Boolean:
        value = line === "t";
        break;
      case RespType.Bulk:
      case RespType.BlobError:
      case RespType.Verbatim: {
        const n = Number(line);
        if (n < 0) {
          value = null;
          break;
        }
        const s = buf.toString("utf8", pos, pos + n);
        pos += n + 2;
        value =
          t === RespType.BlobError
            ? new RespErrorValue(s)
            : t === RespType.Verbatim
              ? s.slice(4)
              : s;
        break;
      }
      default: {
        // Array, set, push, map, attribute.
        const n = Number(line);
        if (n < 0) {
          value = null;
          break;
        }
        const pairs = t === RespType.Map || t === RespType.Attribute;
        opened = { items: [], left: pairs ? n * 2 : n, skip: t === RespType.Attribute };
        value = opened.items;
      }
    }
    if (opened !== undefined && opened.left > 0) {
      stack.push(opened);
      continue;
    }
    // A complete value: add it to its parent, closing every parent it completes.
    let done: RespValue = value;
    let skipped = opened?.skip === true;
    for (;;) {
      const top = stack.at(-1);
      if (top === undefined) {
        if (skipped) break; // a top-level attribute: the value it describes follows
        return done;
      }
      if (!skipped) {
        if (!top.skip) top.items.push(done);
        top.left--;
      }
      if (top.left > 0) break;
      stack.pop();
      done = top.items;
      skipped = top.skip;
    }
  }
}
