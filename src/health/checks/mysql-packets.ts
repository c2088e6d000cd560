/**
 * The few MySQL client/server protocol pieces a health check needs (MySQL "Client/Server
 * Protocol" docs: Protocol::Packet, Protocol::HandshakeV10, HandshakeResponse41, OK_Packet,
 * ERR_Packet, AuthSwitchRequest). Pure functions over Buffers.
 */
import { createHash } from "node:crypto";

/** Frame test: a packet is a 3-byte little-endian payload length, a sequence id, the payload. */
export function packetFrame(buf: Buffer): number {
  if (buf.length < 4) return 0;
  const need = 4 + buf.readUIntLE(0, 3);
  return buf.length >= need ? need : 0;
}

export function packetPayload(frame: Buffer): Buffer {
  return frame.subarray(4);
}

export function packet(seq: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  h[3] = seq & 0xff;
  return Buffer.concat([h, payload]);
}

export interface Greeting {
  protocol: number;
  serverVersion: string;
  connectionId: number;
  /** The 20-byte scramble (auth-plugin-data parts 1 and 2, without the trailing NUL). */
  scramble: Buffer;
  capabilities: number;
  authPlugin: string;
}

export interface ErrPacket {
  code: number;
  message: string;
}

export function isErr(p: Buffer): boolean {
  return p[0] === 0xff;
}

/** ERR_Packet: 0xff, error code (2, LE), optional '#' + 5-byte SQL state, message. */
export function parseErr(p: Buffer): ErrPacket {
  const code = p.length >= 3 ? p.readUInt16LE(1) : 0;
  let off = 3;
  if (p[off] === 0x23 /* '#' */) off += 6;
  return { code, message: p.subarray(off).toString("utf8") };
}

function cstring(p: Buffer, off: number): [string, number] {
  let end = p.indexOf(0, off);
  if (end < 0) end = p.length;
  return [p.subarray(off, end).toString("latin1"), end + 1];
}

/** Protocol::HandshakeV10; returns undefined unless the protocol version byte is 10. */
export function parseGreeting(p: Buffer): Greeting | undefined {
  if (p.length < 1 || p[0] !== 10) return undefined;
  const [serverVersion, o1] = cstring(p, 1);
  if (p.length < o1 + 4 + 8 + 1 + 2) return undefined;
  const connectionId = p.readUInt32LE(o1);
  const part1 = p.subarray(o1 + 4, o1 + 12);
  let off = o1 + 13; // skip the filler byte
  let capabilities = p.readUInt16LE(off);
  off += 2;
  let scramble = part1;
  let authPlugin = "mysql_native_password";
  if (p.length >= off + 1 + 2 + 2 + 1 + 10) {
    off += 1 + 2; // character set, status flags
    capabilities |= p.readUInt16LE(off) << 16;
    off += 2;
    const authLen = p[off];
    off += 1 + 10; // auth data length, reserved
    const len2 = Math.max(13, authLen - 8);
    const part2 = p.subarray(off, off + len2);
    // part 2 is NUL-terminated in practice; the scramble proper is 20 bytes.
    scramble = Buffer.concat([part1, part2]).subarray(0, 20);
    off += len2;
    if (off < p.length) authPlugin = cstring(p, off)[0] || authPlugin;
  }
  return { protocol: 10, serverVersion, connectionId, scramble, capabilities, authPlugin };
}

/** mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))); empty pw → empty. */
export function nativePassword(password: string, scramble: Buffer): Buffer {
  if (password === "") return Buffer.alloc(0);
  const sha1 = (b: Buffer) => createHash("sha1").update(b).digest();
  const s1 = sha1(Buffer.from(password, "utf8"));
  const s2 = sha1(s1);
  const s3 = sha1(Buffer.concat([scramble, s2]));
  for (let i = 0; i < s1.length; i++) s1[i] ^= s3[i];
  return s1;
}

const CLIENT_LONG_PASSWORD = 0x1;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH = 0x80000;

/** HandshakeResponse41 with mysql_native_password, no database, utf8 (charset 33). */
export function handshakeResponse(user: string, password: string, g: Greeting): Buffer {
  const caps =
    CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
  const fixed = Buffer.alloc(32);
  fixed.writeUInt32LE(caps, 0);
  fixed.writeUInt32LE(16 * 1024 * 1024, 4);
  fixed[8] = 33;
  const auth = nativePassword(password, g.scramble);
  return Buffer.concat([
    fixed,
    Buffer.from(`${user}\0`, "utf8"),
    Buffer.from([auth.length]),
    auth,
    Buffer.from("mysql_native_password\0", "latin1"),
  ]);
}

/** AuthSwitchRequest: 0xfe, plugin name NUL, plugin data (the new scramble, NUL-terminated). */
export function parseAuthSwitch(p: Buffer): { plugin: string; data: Buffer } | undefined {
  if (p[0] !== 0xfe || p.length < 2) return undefined;
  const [plugin, off] = cstring(p, 1);
  let data = p.subarray(off);
  if (data.length > 0 && data[data.length - 1] === 0) data = data.subarray(0, -1);
  return { plugin, data };
}

/** COM_QUIT, sent so the server logs a clean disconnect rather than an aborted connection. */
export const COM_QUIT = Buffer.from([0x01]);
