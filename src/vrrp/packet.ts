/**
 * VRRP advertisement codec: v2 (RFC 3768 §5.1) and v3 (RFC 5798 §5.1, as updated by RFC 9568),
 * IPv4 and (v3) IPv6 address lists. Pure: Buffers in, Buffers/objects out. Decoding never
 * throws; it returns a result naming the RFC rule that failed.
 *
 *   v2: | ver=2 type=1 | VRID | Priority | Count | AuthType | AdverInt(s) | Checksum(16) |
 *       | IPv4 address × Count | Authentication Data (8 bytes) |
 *   v3: | ver=3 type=1 | VRID | Priority | Count | rsvd(4) MaxAdverInt(12, cs) | Checksum(16) |
 *       | IPvX address × Count |
 *
 * keepcache HMAC-SHA256 option (our own; keepalived has no equivalent). Wire format:
 *   the normal message, then a trailer of counter (8 bytes, big-endian, strictly increasing per
 *   sender) + tag (32 bytes) = HMAC-SHA256(secret, srcIP || message-with-checksum-zero || counter).
 *   v2 carries AuthType 254 (unassigned by IANA) and zero Authentication Data; v3 has no auth
 *   field, the trailer simply follows the address list. The checksum is computed last and covers
 *   the trailer too, so the datagram is a well-formed VRRP packet on the wire. A keepalived peer
 *   rejects it cleanly: v2 fails its "Invalid auth type" check, v3 its "packet length mismatch"
 *   check (the length is not 8 + Count × address size), so neither side ever misreads the other.
 *   Binding srcIP stops a captured advert being replayed from another host; the counter stops
 *   replay from the same one (the receiver keeps the last counter per source).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { bytesToIpv4, bytesToIpv6, ipToBytes } from "./addr.js";
import { internetChecksum } from "./checksum.js";

export const VRRP_PROTO = 112;
export const VRRP_TTL = 255;
export const VRRP_GROUP_V4 = "224.0.0.18";
export const VRRP_GROUP_V6 = "ff02::12";
export const TYPE_ADVERT = 1;
export const AUTH_NONE = 0;
export const AUTH_PASS = 1;
export const AUTH_AH = 2;
/** keepcache's HMAC-SHA256 advert authentication (see the header comment). */
export const AUTH_HMAC = 254;
export const HEADER_LEN = 8;
export const V2_AUTH_LEN = 8;
export const HMAC_TRAILER_LEN = 8 + 32;

/**
 * How a v3 IPv4 checksum is computed. "rfc": with the pseudo-header (RFC 5798 §5.2.8).
 * "as_v2": over the VRRP message only, as keepalived's `vrrp_v3_checksum_as_v2` and some old
 * peers do.
 */
export type V3ChecksumMode = "rfc" | "as_v2";

export interface Advert {
  version: 2 | 3;
  type: number;
  vrid: number;
  priority: number;
  family: 4 | 6;
  addresses: string[];
  /** Advertisement interval in centiseconds (v2 carries whole seconds on the wire). */
  adverIntCs: number;
  /** v2 AuthType (0 none, 1 PASS, 2 AH, 254 keepcache HMAC); 0 for v3. */
  authType: number;
  /** v2 Authentication Data, 8 bytes; empty for v3. */
  authData: Buffer;
  checksum: number;
  /** Present when the advert carried a keepcache HMAC trailer that verified. */
  hmacCounter?: bigint;
}

export interface AdvertInput {
  version: 2 | 3;
  vrid: number;
  priority: number;
  addresses: string[];
  adverIntCs: number;
  /** v2 only: PASS auth with this password (keepalived uses the first 8 bytes, zero padded). */
  authPass?: string;
  /** v2 only: emit a raw AuthType (e.g. AH) without data; mostly for tests. */
  authType?: number;
  type?: number;
}

export interface PseudoHeader {
  src: string;
  dst: string;
}

export interface EncodeOptions {
  /** Required for v3 IPv4 ("rfc" mode), v3 IPv6 and HMAC. */
  pseudo?: PseudoHeader;
  v3Checksum?: V3ChecksumMode;
  hmac?: { secret: Buffer | string; counter: bigint };
}

export type DropReason =
  | "short"
  | "version"
  | "type"
  | "length"
  | "checksum"
  | "auth_type"
  | "auth"
  | "hmac"
  | "ttl"
  | "vrid"
  | "adver_int"
  | "addr_count"
  | "addr_list"
  | "cast"
  | "unicast_src"
  | "not_vrrp";

export type Decoded =
  | { ok: true; advert: Advert }
  | { ok: false; reason: DropReason; detail: string };

export interface DecodeOptions {
  family: 4 | 6;
  pseudo?: PseudoHeader;
  v3Checksum?: V3ChecksumMode;
  /** When set, a v3 advert must carry the HMAC trailer and a v2 advert AuthType 254. */
  hmacSecret?: Buffer | string;
}

/** The v2 Authentication Data for PASS: the password's first 8 bytes, zero padded (RFC 2338 §5.3.10). */
export function passData(pass: string): Buffer {
  const out = Buffer.alloc(V2_AUTH_LEN);
  Buffer.from(pass, "utf8").copy(out, 0, 0, V2_AUTH_LEN);
  return out;
}

function pseudoHeader(p: PseudoHeader, family: 4 | 6, len: number): Buffer {
  const src = ipToBytes(p.src);
  const dst = ipToBytes(p.dst);
  if (family === 4) {
    // RFC 5798 §5.2.8 → RFC 768 layout: src, dst, zero, protocol, length.
    const h = Buffer.alloc(12);
    src.copy(h, 0);
    dst.copy(h, 4);
    h[9] = VRRP_PROTO;
    h.writeUInt16BE(len, 10);
    return h;
  }
  // RFC 8200 §8.1: src, dst, 32-bit upper-layer length, 3 zero bytes, next header.
  const h = Buffer.alloc(40);
  src.copy(h, 0);
  dst.copy(h, 16);
  h.writeUInt32BE(len, 32);
  h[39] = VRRP_PROTO;
  return h;
}

function hmacTag(secret: Buffer | string, src: string, body: Buffer): Buffer {
  return createHmac("sha256", secret).update(ipToBytes(src)).update(body).digest();
}

function computeChecksum(
  msg: Buffer,
  version: 2 | 3,
  family: 4 | 6,
  pseudo: PseudoHeader | undefined,
  mode: V3ChecksumMode,
): number | undefined {
  if (version === 2 || (family === 4 && mode === "as_v2")) return internetChecksum(msg);
  if (!pseudo) return undefined;
  return internetChecksum(pseudoHeader(pseudo, family, msg.length), msg);
}

export function encodeAdvert(a: AdvertInput, opts: EncodeOptions = {}): Buffer {
  const family: 4 | 6 = a.addresses.some((x) => x.includes(":")) ? 6 : 4;
  if (a.version === 2 && family === 6) throw new RangeError("VRRPv2 carries IPv4 addresses only");
  const alen = family === 4 ? 4 : 16;
  const authLen = a.version === 2 ? V2_AUTH_LEN : 0;
  const trailer = opts.hmac ? HMAC_TRAILER_LEN : 0;
  const msg = Buffer.alloc(HEADER_LEN + a.addresses.length * alen + authLen + trailer);
  msg[0] = (a.version << 4) | (a.type ?? TYPE_ADVERT);
  msg[1] = a.vrid;
  msg[2] = a.priority;
  msg[3] = a.addresses.length;
  if (a.version === 2) {
    const authType = opts.hmac ? AUTH_HMAC : (a.authType ?? (a.authPass ? AUTH_PASS : AUTH_NONE));
    msg[4] = authType;
    // v2 Adver Int is whole seconds (RFC 3768 §5.3.7); keepalived rounds down the same way.
    msg[5] = Math.floor(a.adverIntCs / 100);
  } else {
    // 4 reserved bits (zero) + 12-bit Max Adver Int in centiseconds (RFC 5798 §5.2.4).
    msg.writeUInt16BE(a.adverIntCs & 0x0fff, 4);
  }
  let off = HEADER_LEN;
  for (const ip of a.addresses) {
    const b = ipToBytes(ip);
    if (b.length !== alen) throw new RangeError(`mixed address families in advert: ${ip}`);
    b.copy(msg, off);
    off += alen;
  }
  if (a.version === 2 && a.authPass && !opts.hmac) passData(a.authPass).copy(msg, off);
  off += authLen;
  if (opts.hmac) {
    if (!opts.pseudo) throw new RangeError("HMAC adverts need the source address");
    msg.writeBigUInt64BE(opts.hmac.counter, off);
    hmacTag(opts.hmac.secret, opts.pseudo.src, msg.subarray(0, off + 8)).copy(msg, off + 8);
  }
  const sum = computeChecksum(msg, a.version, family, opts.pseudo, opts.v3Checksum ?? "rfc");
  if (sum === undefined) throw new RangeError("VRRPv3 checksum needs the pseudo-header (src, dst)");
  msg.writeUInt16BE(sum, 6);
  return msg;
}

const fail = (reason: DropReason, detail: string): Decoded => ({ ok: false, reason, detail });

/**
 * Structural checks of RFC 3768 §7.1 / RFC 5798 §6.4 that need only the VRRP message: version,
 * type, length against Count, checksum, HMAC. Per-instance rules live in receive.ts.
 */
export function decodeAdvert(msg: Buffer, opts: DecodeOptions): Decoded {
  if (msg.length < HEADER_LEN) return fail("short", `${msg.length} bytes, header is 8`);
  const version = msg[0] >> 4;
  if (version !== 2 && version !== 3) return fail("version", `version ${version}`);
  const type = msg[0] & 0x0f;
  if (type !== TYPE_ADVERT) return fail("type", `type ${type}, only ADVERTISEMENT (1) exists`);
  if (version === 2 && opts.family === 6) return fail("version", "VRRPv2 has no IPv6 form");
  const count = msg[3];
  const alen = opts.family === 4 ? 4 : 16;
  const authType = version === 2 ? msg[4] : AUTH_NONE;
  const hasTrailer = version === 2 ? authType === AUTH_HMAC : opts.hmacSecret !== undefined;
  if (opts.hmacSecret !== undefined && !hasTrailer) return fail("auth_type", "HMAC required");
  const authLen = version === 2 ? V2_AUTH_LEN : 0;
  const expected = HEADER_LEN + count * alen + authLen + (hasTrailer ? HMAC_TRAILER_LEN : 0);
  if (msg.length !== expected) {
    return fail("length", `${msg.length} bytes, Count ${count} implies ${expected}`);
  }
  const mode = opts.v3Checksum ?? "rfc";
  const sum = computeChecksum(msg, version, opts.family, opts.pseudo, mode);
  if (sum === undefined) return fail("checksum", "v3 checksum needs the pseudo-header");
  // A correct packet sums (checksum included) to 0xffff, so finishing yields 0.
  if (sum !== 0) return fail("checksum", `bad checksum 0x${msg.readUInt16BE(6).toString(16)}`);
  const addresses: string[] = [];
  for (let i = 0, off = HEADER_LEN; i < count; i++, off += alen) {
    addresses.push(opts.family === 4 ? bytesToIpv4(msg, off) : bytesToIpv6(msg, off));
  }
  const authOff = HEADER_LEN + count * alen;
  const advert: Advert = {
    version,
    type,
    vrid: msg[1],
    priority: msg[2],
    family: opts.family,
    addresses,
    adverIntCs: version === 2 ? msg[5] * 100 : msg.readUInt16BE(4) & 0x0fff,
    authType,
    authData: Buffer.from(msg.subarray(authOff, authOff + authLen)),
    checksum: msg.readUInt16BE(6),
  };
  if (hasTrailer) {
    if (opts.hmacSecret === undefined) return fail("auth_type", "HMAC advert, no secret set");
    if (!opts.pseudo) return fail("hmac", "HMAC check needs the source address");
    const tOff = authOff + authLen;
    const body = Buffer.from(msg.subarray(0, tOff + 8));
    body.writeUInt16BE(0, 6);
    const want = hmacTag(opts.hmacSecret, opts.pseudo.src, body);
    if (!timingSafeEqual(want, msg.subarray(tOff + 8, tOff + 8 + 32))) {
      return fail("hmac", "HMAC-SHA256 tag mismatch");
    }
    advert.hmacCounter = msg.readBigUInt64BE(tOff);
  }
  return { ok: true, advert };
}
