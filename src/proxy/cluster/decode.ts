/**
 * Decodes one complete RESP2/RESP3 reply (as framed by protocol/resp/reply.ts) into plain
 * values, for the few control-plane replies the cluster pool reads whole (CLUSTER SHARDS,
 * CLUSTER SLOTS). Never used on the data path, which forwards byte ranges.
 * Strings stay Buffers' text (utf8); maps and attributes become flat [k, v, k, v] arrays, so a
 * RESP3 map and the RESP2 flat list of CLUSTER SHARDS read the same; an attribute is dropped.
 * Iterative (explicit stack): nesting depth costs no JS stack.
 */
import assert from "node:assert";
import { parseLL } from "../../protocol/resp/int.js";

export type Decoded = string | number | null | boolean | ErrorValue | Decoded[];

export class ErrorValue {
  constructor(readonly message: string) {}
}

interface Open {
  items: Decoded[];
  left: number;
  attribute: boolean;
}

/** Decodes the complete reply at buf[start, end). Throws (assert) on a malformed frame. */
export function decodeReply(buf: Buffer, start: number, end: number): Decoded {
  const stack: Open[] = [];
  let pos = start;
  let result: Decoded | undefined;
  let done = false;
  while (!done) {
    assert(pos < end, "truncated RESP reply");
    const type = buf[pos];
    const cr = buf.indexOf(0x0d, pos);
    assert(cr >= 0 && cr < end, "truncated RESP line");
    const line = () => buf.toString("utf8", pos + 1, cr);
    let value: Decoded | undefined;
    let next = cr + 2;
    switch (type) {
      case 0x2b: // +
      case 0x28: // ( big number, kept as text
        value = line();
        break;
      case 0x2d: // -
        value = new ErrorValue(line());
        break;
      case 0x3a: // :
        value = parseLL(buf, pos + 1, cr);
        break;
      case 0x2c: // ,
        value = Number(line());
        break;
      case 0x23: // #
        value = buf[pos + 1] === 0x74;
        break;
      case 0x5f: // _
        value = null;
        break;
      case 0x24: // $
      case 0x21: // !
      case 0x3d: {
        // = verbatim: "txt:" prefix dropped
        const n = parseLL(buf, pos + 1, cr);
        if (n < 0) value = null;
        else {
          assert(cr + 2 + n + 2 <= end, "truncated RESP bulk");
          const from = type === 0x3d ? cr + 2 + 4 : cr + 2;
          const s = buf.toString("utf8", from, cr + 2 + n);
          value = type === 0x21 ? new ErrorValue(s) : s;
          next = cr + 2 + n + 2;
        }
        break;
      }
      case 0x2a: // *
      case 0x7e: // ~
      case 0x3e: // >
      case 0x25: // %
      case 0x7c: {
        // | attribute
        let n = parseLL(buf, pos + 1, cr);
        if (n < 0) {
          value = null;
          break;
        }
        if (type === 0x25 || type === 0x7c) n *= 2;
        if (n === 0 && type !== 0x7c) value = [];
        else if (n > 0 || type === 0x7c)
          stack.push({ items: [], left: n, attribute: type === 0x7c });
        break;
      }
      default:
        assert.fail(`unknown RESP type byte ${type}`);
    }
    pos = next;
    // Complete values bubble up through finished aggregates.
    while (value !== undefined || (stack.length > 0 && stack[stack.length - 1].left === 0)) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        result = value;
        done = true;
        break;
      }
      if (value !== undefined) {
        top.items.push(value);
        top.left--;
        value = undefined;
      }
      if (top.left > 0) break;
      stack.pop();
      // An attribute annotates the next value: it is not a value itself.
      if (!top.attribute) value = top.items;
      else if (stack.length === 0) break;
    }
  }
  return result as Decoded;
}
