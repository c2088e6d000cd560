/**
 * Receive-side validation of an advertisement against one virtual router, in keepalived's
 * order (vrrp.c vrrp_check_packet) and per RFC 3768 §7.1 / RFC 5798 §6.4.
 * Pure: a raw IPv4 datagram (as a Linux raw socket delivers it) or a bare VRRP message in,
 * a verdict out. The caller logs `detail` and counts `reason`.
 */
import { timingSafeEqual } from "node:crypto";
import { isIPv4 } from "node:net";
import { bytesToIpv4, ipToBytes } from "./addr.js";
import {
  type Advert,
  AUTH_HMAC,
  AUTH_NONE,
  AUTH_PASS,
  type DropReason,
  decodeAdvert,
  passData,
  type V3ChecksumMode,
  VRRP_PROTO,
  VRRP_TTL,
} from "./packet.js";

export interface Ipv4Info {
  ttl: number;
  proto: number;
  src: string;
  dst: string;
  /** The IP payload (the VRRP message), bounded by Total Length. */
  payload: Buffer;
}

export type IpParse =
  | { ok: true; ip: Ipv4Info }
  | { ok: false; reason: DropReason; detail: string };

/** Parses an IPv4 header (RFC 791 §3.1). */
export function parseIpv4(buf: Buffer): IpParse {
  if (buf.length < 20 || buf[0] >> 4 !== 4)
    return { ok: false, reason: "short", detail: "no IPv4 header" };
  const ihl = (buf[0] & 0x0f) * 4;
  const total = buf.readUInt16BE(2);
  if (ihl < 20 || total < ihl || total > buf.length) {
    return { ok: false, reason: "length", detail: `IHL ${ihl}, total ${total}, got ${buf.length}` };
  }
  // keepalived compares tot_len with the received length exactly (vrrp.c "ip_tot_len mismatch").
  if (total !== buf.length) {
    return { ok: false, reason: "length", detail: `ip_tot_len ${total} != received ${buf.length}` };
  }
  return {
    ok: true,
    ip: {
      ttl: buf[8],
      proto: buf[9],
      src: bytesToIpv4(buf, 12),
      dst: bytesToIpv4(buf, 16),
      payload: buf.subarray(ihl, total),
    },
  };
}

export interface ReceiverConfig {
  vrid: number;
  version: 2 | 3;
  /** Our configured advert interval in centiseconds (v2 must match exactly, RFC 3768 §7.1). */
  adverIntCs: number;
  authType: "none" | "PASS" | "HMAC";
  authPass?: string;
  hmacSecret?: Buffer | string;
  /** Our virtual addresses, in configured order. */
  addresses: string[];
  unicastPeers: string[];
  /** keepalived's check_unicast_src: a unicast advert must come from a listed peer. */
  checkUnicastSrc?: boolean;
  /**
   * Address list mismatch (RFC 3768 §7.1 "MAY verify ... SHOULD log"): keepalived drops ("drop");
   * "log" accepts with a warning, as the RFC permits and as `skip_check_adv_addr` does in effect.
   */
  addressCheck?: "drop" | "log";
  v3Checksum?: V3ChecksumMode;
}

export type Verdict =
  | { ok: true; advert: Advert; src: string | undefined; warnings: string[] }
  | { ok: false; reason: DropReason; detail: string };

const drop = (reason: DropReason, detail: string): Verdict => ({ ok: false, reason, detail });

function isMulticast(ip: string): boolean {
  if (isIPv4(ip)) {
    const first = Number(ip.split(".")[0]);
    return first >= 224 && first <= 239;
  }
  return ip.toLowerCase().startsWith("ff");
}

/** Validates a full IPv4 datagram: TTL, protocol, then the VRRP message. */
export function checkDatagram(datagram: Buffer, cfg: ReceiverConfig): Verdict {
  const p = parseIpv4(datagram);
  if (!p.ok) return p;
  if (p.ip.proto !== VRRP_PROTO) return drop("not_vrrp", `IP protocol ${p.ip.proto}`);
  return checkMessage(p.ip.payload, cfg, p.ip);
}

/**
 * Validates a VRRP message. `ip` carries TTL and addresses when known (IPv6 sockets report the
 * hop limit separately; pass it as ttl).
 */
export function checkMessage(
  msg: Buffer,
  cfg: ReceiverConfig,
  ip?: { ttl?: number; src: string; dst: string },
): Verdict {
  const unicast = cfg.unicastPeers.length > 0;
  // RFC 3768 §7.1 / RFC 5798 §6.4 "MUST verify that the IP TTL is 255"; keepalived skips it for
  // unicast peers, whose adverts may be routed.
  if (ip?.ttl !== undefined && !unicast && ip.ttl !== VRRP_TTL) {
    return drop("ttl", `TTL ${ip.ttl}, expected ${VRRP_TTL}`);
  }
  const family = ip && !isIPv4(ip.src) ? 6 : 4;
  const d = decodeAdvert(msg, {
    family,
    pseudo: ip ? { src: ip.src, dst: ip.dst } : undefined,
    v3Checksum: cfg.v3Checksum,
    hmacSecret: cfg.authType === "HMAC" ? cfg.hmacSecret : undefined,
  });
  if (!d.ok) return d;
  const a = d.advert;
  if (a.version !== cfg.version)
    return drop("version", `version ${a.version}, ours ${cfg.version}`);
  if (a.vrid !== cfg.vrid) return drop("vrid", `VRID ${a.vrid}, ours ${cfg.vrid}`);
  if (a.version === 2) {
    const want =
      cfg.authType === "PASS" ? AUTH_PASS : cfg.authType === "HMAC" ? AUTH_HMAC : AUTH_NONE;
    if (a.authType !== want) return drop("auth_type", `auth type ${a.authType}, expected ${want}`);
    if (want === AUTH_PASS && !timingSafeEqual(a.authData, passData(cfg.authPass ?? ""))) {
      return drop("auth", "invalid password");
    }
    // RFC 3768 §7.1: MUST verify the Adver Interval matches; keepalived drops to avoid two masters.
    if (Math.floor(cfg.adverIntCs / 100) * 100 !== a.adverIntCs) {
      return drop(
        "adver_int",
        `advert interval ${a.adverIntCs / 100}s, ours ${cfg.adverIntCs / 100}s`,
      );
    }
  }
  if (ip) {
    if (isMulticast(ip.dst) === unicast) {
      return drop(
        "cast",
        `expected ${unicast ? "unicast" : "multicast"} destination, got ${ip.dst}`,
      );
    }
    if (unicast && cfg.checkUnicastSrc && !cfg.unicastPeers.includes(ip.src)) {
      return drop("unicast_src", `${ip.src} is not a unicast peer`);
    }
  }
  const warnings: string[] = [];
  const mode = cfg.addressCheck ?? "drop";
  if (a.addresses.length !== cfg.addresses.length) {
    const detail = `received ${a.addresses.length} addresses, expected ${cfg.addresses.length}`;
    if (mode === "drop") return drop("addr_count", detail);
    warnings.push(detail);
  } else {
    const got = new Set(a.addresses.map((x) => ipToBytes(x).toString("hex")));
    for (const mine of cfg.addresses) {
      if (!got.has(ipToBytes(mine).toString("hex"))) {
        const detail = `address ${mine} associated with VRID ${cfg.vrid} not in advert`;
        if (mode === "drop") return drop("addr_list", detail);
        warnings.push(detail);
      }
    }
  }
  return { ok: true, advert: a, src: ip?.src, warnings };
}
