/**
 * The memcache driver's `expect` tokens: how the framer reads the reply to a request, and which
 * replies a silent (noreply / quiet) request does not show. One small integer per request:
 *   bits 0-3   reply shape (Kind)
 *   bits 4-7   drop rules (Drop)
 *   bits 8-15  binary opcode to put back into the reply header (a quiet opcode the proxy sent
 *              as its loud twin), with bit 16 saying it is set.
 */
export const Kind = {
  /** One line: STORED, DELETED, a number, OK, VERSION ..., an error. */
  Line: 1,
  /** get/gets/gat/gats and stats: VALUE blocks / STAT lines until any other line (END). */
  Multi: 2,
  /** A meta reply: one line, plus a data block after "VA <size>". */
  Meta: 3,
  /** Lines until END or an error line (stats cachedump, stats detail dump). */
  Lines: 4,
  /** One binary response packet (Kind values from here on are binary). */
  Binary: 5,
  /** Binary Stat: packets until the one with an empty key and body (or an error status). */
  BinaryStats: 6,
  /**
   * `lru_crawler metadump`: "key=..." lines until any other line (END, or BUSY / BADCLASS /
   * an error: protocol.txt "lru_crawler metadump", proto_text.c process_lru_crawler_command).
   */
  Dump: 7,
} as const;

export const Drop = {
  /** Classic noreply: the client reads nothing, so every reply is dropped (errors counted). */
  All: 16,
  /** Meta mg with q: EN (miss) is hidden (protocol.txt "Meta Get", flag q). */
  MetaMiss: 32,
  /** Meta ms/md/ma with q: HD (and ma's VA) is hidden; NS/EX/NF/errors show. */
  MetaOk: 64,
  /** Binary: GetQ/GetKQ/GatQ/GatKQ hide a miss; the other quiet opcodes hide success. */
  BinaryQuiet: 128,
} as const;

export const KIND_MASK = 15;
export const RESTORE = 1 << 16;

export function withOpcode(expect: number, opcode: number): number {
  return expect | RESTORE | (opcode << 8);
}
