/**
 * RESP2 encoding of the small reply trees the Sentinel endpoint builds (strings, integers,
 * nulls, arrays), with the project's writers (protocol/resp/encoder.ts). Sentinel replies are
 * built per request and are at most a few KB, so building them as values is cheap.
 */
import { arrayHeader, bulk, integer, nullReply } from "../protocol/resp/encoder.js";

export type Value = string | number | null | Value[];

export function encode(v: Value, out: Buffer[] = []): Buffer[] {
  if (v === null) out.push(nullReply());
  else if (typeof v === "number") out.push(integer(v));
  else if (typeof v === "string") out.push(bulk(v));
  else {
    out.push(arrayHeader(v.length));
    for (const e of v) encode(e, out);
  }
  return out;
}

export function encodeValue(v: Value): Buffer {
  return Buffer.concat(encode(v));
}
