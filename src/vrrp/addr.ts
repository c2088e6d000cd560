/** IPv4/IPv6 text <-> bytes helpers, pure (node:net only for validation). */
import { isIPv4, isIPv6 } from "node:net";

export function ipv4ToBytes(ip: string): Buffer {
  if (!isIPv4(ip)) throw new TypeError(`not an IPv4 address: ${ip}`);
  return Buffer.from(ip.split(".").map((o) => Number(o)));
}

export function bytesToIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function ipv6ToBytes(ip: string): Buffer {
  if (!isIPv6(ip)) throw new TypeError(`not an IPv6 address: ${ip}`);
  let text = ip;
  const out = Buffer.alloc(16);
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const b = ipv4ToBytes(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}

/** RFC 5952 canonical text (lower case, longest zero run compressed). */
export function bytesToIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + i * 2] << 8) | b[off + i * 2 + 1]);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

export function ipToBytes(ip: string): Buffer {
  return isIPv4(ip) ? ipv4ToBytes(ip) : ipv6ToBytes(ip);
}

/** Compares two addresses of one family as unsigned big-endian numbers (RFC 5798 §6.4.3 tie-break). */
export function compareIp(a: string, b: string): number {
  return Buffer.compare(ipToBytes(a), ipToBytes(b));
}
