/**
 * The PROXY protocol header sent to a server before the client's bytes (haproxy
 * doc/proxy-protocol.txt). v1 is one text line (section 2.1); v2 is binary (section 2.2):
 * a 12-byte signature, version/command, family/protocol, a 16-bit length, then addresses.
 */
import net from "node:net";

export interface ProxyEndpoints {
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
}

/** 2.2: "\r\n\r\n\0\r\nQUIT\n". */
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket reports) as IPv4. */
function unmap(ip: string): string {
  return ip.toLowerCase().startsWith("::ffff:") && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

function family(e: ProxyEndpoints): 4 | 6 | 0 {
  const s = net.isIP(unmap(e.srcIp));
  const d = net.isIP(unmap(e.dstIp));
  return s === d && (s === 4 || s === 6) ? s : 0;
}

/** 2.1: "PROXY TCP4 src dst sport dport\r\n", or "PROXY UNKNOWN\r\n" when mixed/unknown. */
export function proxyV1(e: ProxyEndpoints | undefined): Buffer {
  const fam = e ? family(e) : 0;
  if (!e || fam === 0) return Buffer.from("PROXY UNKNOWN\r\n", "latin1");
  return Buffer.from(
    `PROXY TCP${fam} ${unmap(e.srcIp)} ${unmap(e.dstIp)} ${e.srcPort} ${e.dstPort}\r\n`,
    "latin1",
  );
}

function ipBytes(ip: string, fam: 4 | 6): Buffer {
  if (fam === 4) return Buffer.from(ip.split(".").map(Number));
  // node:net has no inet_pton: expand "::" by hand.
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  // An embedded dotted quad occupies the last two groups.
  const expandQuad = (g: string[]) => {
    const last = g[g.length - 1];
    if (last?.includes(".")) {
      const b = last.split(".").map(Number);
      g.splice(
        g.length - 1,
        1,
        ((b[0] << 8) | b[1]).toString(16),
        ((b[2] << 8) | b[3]).toString(16),
      );
    }
  };
  expandQuad(tail === undefined ? h : t);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(groups[i] || "0", 16), i * 2);
  return out;
}

/**
 * 2.2: version 2 + command PROXY (0x21), TCP over IPv4 (0x11) or IPv6 (0x21), addresses and
 * ports in network order. Without endpoints: command LOCAL (0x20), family UNSPEC, length 0.
 */
export function proxyV2(e: ProxyEndpoints | undefined): Buffer {
  const fam = e ? family(e) : 0;
  if (!e || fam === 0) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const addrLen = fam === 4 ? 12 : 36;
  const head = Buffer.from([0x21, fam === 4 ? 0x11 : 0x21, 0, addrLen]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(e.srcPort, 0);
  ports.writeUInt16BE(e.dstPort, 2);
  return Buffer.concat([
    V2_SIGNATURE,
    head,
    ipBytes(unmap(e.srcIp), fam),
    ipBytes(unmap(e.dstIp), fam),
    ports,
  ]);
}

export function proxyHeader(kind: "v1" | "v2", e: ProxyEndpoints | undefined): Buffer {
  return kind === "v1" ? proxyV1(e) : proxyV2(e);
}
