/**
 * Per-connection protocol choice, as memcached's try_read_command (memcached.c) makes it: the
 * first byte of the first read decides, 0x80 (PROTOCOL_BINARY_REQ) for binary, anything else
 * for ASCII, once for the life of the connection.
 */
import { MAGIC_REQUEST } from "./binary-const.js";

export const Protocol = { Unknown: 0, Text: 1, Binary: 2 } as const;
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

/** The protocol of a connection whose first received bytes are `chunk` (Unknown if empty). */
export function detectProtocol(chunk: Buffer): Protocol {
  if (chunk.length === 0) return Protocol.Unknown;
  return chunk[0] === MAGIC_REQUEST ? Protocol.Binary : Protocol.Text;
}
