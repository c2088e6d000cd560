/**
 * Binary protocol reply writers (protocol-binary.txt "Response header"), with memcached 1.6.18's
 * error texts (proto_bin.c write_bin_error).
 */
import {
  type BinaryRequest,
  HEADER_LENGTH,
  binaryStatus as S,
  writeBinaryHeader,
} from "../protocol/memcache/binary.js";
import type { OutBuffer } from "../util/out-buffer.js";

/** memcached write_bin_error texts. */
export const errorText: Record<number, string> = {
  [S.KeyNotFound]: "Not found",
  [S.KeyExists]: "Data exists for key.",
  [S.ValueTooLarge]: "Too large.",
  [S.InvalidArguments]: "Invalid arguments",
  [S.ItemNotStored]: "Not stored.",
  [S.NonNumeric]: "Non-numeric server-side value for incr or decr",
  [S.UnknownCommand]: "Unknown command",
  [S.OutOfMemory]: "Out of memory",
};

/** Writes a response header for `req`; the caller then writes extras, key and value bytes. */
export function respond(
  out: OutBuffer,
  req: BinaryRequest,
  status: number,
  extras: number,
  key: boolean,
  valueLen: number,
  casHi = 0,
  casLo = 0,
): void {
  const keyLen = key ? req.keyLen : 0;
  out.ensure(HEADER_LENGTH + extras + keyLen + valueLen);
  out.pos = writeBinaryHeader(
    out.buf,
    out.pos,
    req.opcode,
    status,
    req.opaque,
    keyLen,
    extras,
    extras + keyLen + valueLen,
    casHi,
    casLo,
  );
}

/** An error response: the status and memcached's text for it as the body. */
export function binaryError(out: OutBuffer, req: BinaryRequest, status: number): void {
  const text = errorText[status] ?? "";
  respond(out, req, status, 0, false, text.length);
  out.ascii(text);
}
