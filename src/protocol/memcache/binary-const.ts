/** Binary protocol constants (protocol-binary.txt "Packet Structure", "Defined Values"). */

export const MAGIC_REQUEST = 0x80;
export const MAGIC_RESPONSE = 0x81;
export const HEADER_LENGTH = 24;

export const Opcode = {
  Get: 0x00,
  Set: 0x01,
  Add: 0x02,
  Replace: 0x03,
  Delete: 0x04,
  Increment: 0x05,
  Decrement: 0x06,
  Quit: 0x07,
  Flush: 0x08,
  GetQ: 0x09,
  Noop: 0x0a,
  Version: 0x0b,
  GetK: 0x0c,
  GetKQ: 0x0d,
  Append: 0x0e,
  Prepend: 0x0f,
  Stat: 0x10,
  SetQ: 0x11,
  AddQ: 0x12,
  ReplaceQ: 0x13,
  DeleteQ: 0x14,
  IncrementQ: 0x15,
  DecrementQ: 0x16,
  QuitQ: 0x17,
  FlushQ: 0x18,
  AppendQ: 0x19,
  PrependQ: 0x1a,
  Verbosity: 0x1b,
  Touch: 0x1c,
  Gat: 0x1d,
  GatQ: 0x1e,
  SaslListMechs: 0x20,
  SaslAuth: 0x21,
  SaslStep: 0x22,
  GatK: 0x23,
  GatKQ: 0x24,
} as const;

export const binaryStatus = {
  NoError: 0x0000,
  KeyNotFound: 0x0001,
  KeyExists: 0x0002,
  ValueTooLarge: 0x0003,
  InvalidArguments: 0x0004,
  ItemNotStored: 0x0005,
  NonNumeric: 0x0006,
  NotMyVbucket: 0x0007,
  AuthError: 0x0020,
  AuthContinue: 0x0021,
  UnknownCommand: 0x0081,
  OutOfMemory: 0x0082,
  NotSupported: 0x0083,
  InternalError: 0x0084,
  Busy: 0x0085,
  TemporaryFailure: 0x0086,
} as const;

/** Quiet opcodes suppress the success reply (GetQ/GetKQ also the miss). */
const QUIET = new Uint8Array(256);
for (const op of [
  0x09, 0x0d, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1e, 0x24,
])
  QUIET[op] = 1;
export function isQuiet(opcode: number): boolean {
  return QUIET[opcode] === 1;
}

/**
 * Writes a 24-byte response header at `off` (protocol-binary.txt "Response header") and returns
 * the offset just past it. `casHi`/`casLo` are the cas halves.
 */
export function writeBinaryHeader(
  buf: Buffer,
  off: number,
  opcode: number,
  status: number,
  opaque: number,
  keyLen = 0,
  extrasLen = 0,
  bodyLen = keyLen + extrasLen,
  casHi = 0,
  casLo = 0,
): number {
  buf[off] = MAGIC_RESPONSE;
  buf[off + 1] = opcode;
  buf.writeUInt16BE(keyLen, off + 2);
  buf[off + 4] = extrasLen;
  buf[off + 5] = 0;
  buf.writeUInt16BE(status, off + 6);
  buf.writeUInt32BE(bodyLen >>> 0, off + 8);
  buf.writeUInt32BE(opaque >>> 0, off + 12);
  buf.writeUInt32BE(casHi >>> 0, off + 16);
  buf.writeUInt32BE(casLo >>> 0, off + 20);
  return off + HEADER_LENGTH;
}
