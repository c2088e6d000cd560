/** A memcached binary-protocol request (protocol-binary.txt "Request header"), for tests. */
export function binaryRequest(
  op: number,
  key = "",
  extras: Buffer = Buffer.alloc(0),
  value = "",
  opaque = 7,
): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const h = Buffer.alloc(24);
  h[0] = 0x80;
  h[1] = op;
  h.writeUInt16BE(k.length, 2);
  h[4] = extras.length;
  h.writeUInt32BE(extras.length + k.length + v.length, 8);
  h.writeUInt32BE(opaque, 12);
  return Buffer.concat([h, extras, k, v]);
}
