/**
 * The raw IPv4 socket VRRP travels on (IP protocol 112), through the `raw-socket` addon.
 *
 * We write the IP header ourselves (IP_HDRINCL), as keepalived does (vrrp.c vrrp_build_ip4):
 * that pins TTL 255 (RFC 3768 §5.2.3, RFC 5798 §5.1.1.3), the source address the v3 checksum's
 * pseudo-header was computed with (RFC 5798 §5.2.8) and TOS 0xc0 (internetwork control). The
 * kernel fills the IP ID, total length and header checksum (raw(7)). The socket is bound to the
 * instance's interface (SO_BINDTODEVICE) so adverts for the same VRID on another link are never
 * seen, joins 224.0.0.18 there, and does not loop our own multicast back.
 *
 * IPv6 (ff02::12) is left out for now: a raw IPv6 socket does not deliver the IP header, so the
 * hop limit would need IPV6_RECVHOPLIMIT ancillary data, which the addon cannot read.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { networkInterfaces } from "node:os";
import { KeepcacheError } from "../errors.js";
import { ipv4ToBytes } from "./addr.js";
import { VRRP_GROUP_V4, VRRP_PROTO, VRRP_TTL } from "./packet.js";

// Linux option numbers (<linux/in.h>, <asm-generic/socket.h>); raw-socket exports only a few.
const SOL_SOCKET = 1;
const IPPROTO_IP = 0;
const SO_BINDTODEVICE = 25;
const IP_HDRINCL = 3;
const IP_MULTICAST_IF = 32;
const IP_MULTICAST_TTL = 33;
const IP_MULTICAST_LOOP = 34;
const IP_ADD_MEMBERSHIP = 35;
/** IPTOS_PREC_INTERNETCONTROL, what keepalived sets on adverts. */
const TOS_INTERNET_CONTROL = 0xc0;

interface RawSocket {
  on(ev: "message", fn: (buf: Buffer, source: string) => void): void;
  on(ev: "error", fn: (err: Error) => void): void;
  send(
    buf: Buffer,
    off: number,
    len: number,
    addr: string,
    cb: (err: Error | null, bytes: number) => void,
  ): void;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  close(): void;
}

interface RawModule {
  createSocket(opts: { protocol: number; addressFamily?: number; bufferSize?: number }): RawSocket;
}

let rawModule: RawModule | undefined;
function raw(): RawModule {
  // A native addon and an optional dependency: loaded only when VRRP starts, so an install
  // without it (no compiler, --omit=optional) runs everything else.
  if (rawModule) return rawModule;
  try {
    rawModule = createRequire(import.meta.url)("raw-socket") as RawModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== "MODULE_NOT_FOUND" && !/raw_socket\.node|raw-socket/.test(e.message)) throw err;
    throw new KeepcacheError(
      "KC_VRRP",
      `VRRP needs the optional native package 'raw-socket', which is not installed or not built (${e.message.split("\n")[0]}). Install it next to keepcache: \`npm install raw-socket\` (needs python3, make and a C++ compiler; Debian: apt-get install python3 make g++), or reinstall keepcache without --omit=optional. Everything but VRRP runs without it.`,
      { cause: err },
    );
  }
  return rawModule;
}

/** The 20-byte IPv4 header for one advert (RFC 791 §3.1); ID and checksums left to the kernel. */
export function ipv4Header(src: string, dst: string, payloadLen: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h[1] = TOS_INTERNET_CONTROL;
  h.writeUInt16BE(20 + payloadLen, 2);
  h[8] = VRRP_TTL;
  h[9] = VRRP_PROTO;
  ipv4ToBytes(src).copy(h, 12);
  ipv4ToBytes(dst).copy(h, 16);
  return h;
}

/** The first IPv4 address on `ifname` that is not one of `exclude` (our VIPs). */
export function primaryIpv4(ifname: string, exclude: string[] = []): string | undefined {
  const list = networkInterfaces()[ifname] ?? [];
  return list.find((a) => a.family === "IPv4" && !exclude.includes(a.address))?.address;
}

/** The kernel's index for `ifname` (ip_mreqn.imr_ifindex). */
export function ifIndex(ifname: string): number | undefined {
  try {
    const n = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, "utf8").trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export interface VrrpSocketOptions {
  ifname: string;
  /** Our source address: unicast_src_ip or the interface's primary address. */
  src: string;
  /** Empty: multicast to 224.0.0.18. Otherwise one copy to each peer (keepalived unicast_peer). */
  unicastPeers: string[];
  onDatagram(datagram: Buffer): void;
  onError?(err: Error): void;
}

export class VrrpSocket {
  private readonly sock: RawSocket;
  private closed = false;

  private constructor(
    private readonly opts: VrrpSocketOptions,
    sock: RawSocket,
  ) {
    this.sock = sock;
  }

  /** Opens and configures the socket; fails with KC_PERMISSION without CAP_NET_RAW. */
  static open(opts: VrrpSocketOptions): VrrpSocket {
    let sock: RawSocket;
    const mod = raw();
    try {
      sock = mod.createSocket({ protocol: VRRP_PROTO, bufferSize: 2048 });
    } catch (err) {
      const msg = (err as Error).message;
      if (/not permitted|permission/i.test(msg)) {
        throw new KeepcacheError(
          "KC_PERMISSION",
          `VRRP needs CAP_NET_RAW (and CAP_NET_ADMIN for the VIPs) to open a raw IP socket (protocol 112): ${msg}. Run it as root, or as a service user with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN (deploy/systemd/keepcache-vrrp.conf)`,
          { cause: err },
        );
      }
      throw new KeepcacheError("KC_VRRP", `cannot open the VRRP raw socket: ${msg}`, {
        cause: err,
      });
    }
    const s = new VrrpSocket(opts, sock);
    try {
      s.configure();
    } catch (err) {
      sock.close();
      throw new KeepcacheError(
        "KC_VRRP",
        `cannot set up VRRP on ${opts.ifname}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    sock.on("message", (buf) => {
      if (!VrrpSocket.isOwn(buf, opts.src)) opts.onDatagram(Buffer.from(buf));
    });
    sock.on("error", (err) => opts.onError?.(err));
    return s;
  }

  /** Our own packet (a second socket of this host on the same link): never an advert to obey. */
  private static isOwn(buf: Buffer, src: string): boolean {
    return buf.length >= 20 && ipv4ToBytes(src).equals(buf.subarray(12, 16));
  }

  private configure(): void {
    const { ifname, src, unicastPeers } = this.opts;
    const index = ifIndex(ifname);
    if (index === undefined) throw new Error(`no interface named ${ifname}`);
    const name = Buffer.from(`${ifname}\0`);
    this.sock.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    this.sock.setOption(IPPROTO_IP, IP_HDRINCL, int32(1), 4);
    if (unicastPeers.length > 0) return;
    // struct ip_mreqn { imr_multiaddr, imr_address, imr_ifindex } (ip(7)).
    const mreqn = Buffer.alloc(12);
    ipv4ToBytes(VRRP_GROUP_V4).copy(mreqn, 0);
    ipv4ToBytes(src).copy(mreqn, 4);
    mreqn.writeInt32LE(index, 8);
    this.sock.setOption(IPPROTO_IP, IP_ADD_MEMBERSHIP, mreqn, 12);
    this.sock.setOption(IPPROTO_IP, IP_MULTICAST_IF, mreqn, 12);
    this.sock.setOption(IPPROTO_IP, IP_MULTICAST_TTL, int32(VRRP_TTL), 4);
    this.sock.setOption(IPPROTO_IP, IP_MULTICAST_LOOP, int32(0), 4);
  }

  /** Where adverts go: the group, or each unicast peer. Encode one message per destination. */
  destinations(): string[] {
    return this.opts.unicastPeers.length > 0 ? this.opts.unicastPeers : [VRRP_GROUP_V4];
  }

  get src(): string {
    return this.opts.src;
  }

  /** Sends one VRRP message to `dst` inside our own IPv4 header. */
  send(msg: Buffer, dst: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const pkt = Buffer.concat([ipv4Header(this.opts.src, dst, msg.length), msg]);
    return new Promise((resolve, reject) => {
      this.sock.send(pkt, 0, pkt.length, dst, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}
