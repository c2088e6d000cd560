/**
 * Base64 key decoding for meta commands with the `b` flag (protocol.txt "Meta Get": "b:
 * interpret key as base64 encoded binary value"). memcached stores and looks up the decoded
 * bytes, and twemproxy-style routing hashes raw key bytes, so the proxy must hash the decoded
 * key too, or `mg <base64> b` and `get <raw>` could land on different servers.
 *
 * Pure: decodes into a caller-owned scratch buffer (no allocation per request).
 */
import assert from "node:assert";

/** Sextet value per byte, 255 for anything outside the standard alphabet (RFC 4648 section 4). */
const SEXTET = new Uint8Array(256).fill(255);
{
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) SEXTET[alphabet.charCodeAt(i)] = i;
}

/** Longest decoded key: a 250-byte base64 key (KEY_MAX_LENGTH) decodes to at most 187 bytes. */
export const MAX_DECODED_KEY = 188;

/**
 * Decodes base64 bytes [s, e) of `src` into `dst` from offset 0; returns the decoded length,
 * or -1 when the text is not padded base64 (the request parser rejects those first, with
 * memcached's "CLIENT_ERROR error decoding key", so -1 only guards the invariant).
 */
export function decodeBase64Into(src: Uint8Array, s: number, e: number, dst: Uint8Array): number {
  const len = e - s;
  if (len === 0 || len % 4 !== 0) return -1;
  let end = e;
  if (src[end - 1] === 0x3d) end--;
  if (src[end - 1] === 0x3d) end--;
  const out = Math.floor(((end - s) * 6) / 8);
  assert(out <= dst.length, "decoded key larger than the scratch buffer");
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = s; i < end; i++) {
    const v = SEXTET[src[i]];
    if (v === 255) return -1;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dst[o++] = (acc >> bits) & 0xff;
    }
  }
  return o;
}
