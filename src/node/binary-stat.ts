/** The binary `stat` command (protocol-binary.txt "Stat"): one response per statistic. */
import {
  type BinaryRequest,
  HEADER_LENGTH,
  binaryStatus as S,
  writeBinaryHeader,
} from "../protocol/memcache/binary.js";
import type { OutBuffer } from "../util/out-buffer.js";
import { binaryError, respond } from "./binary-reply.js";
import type { NodeContext } from "./context.js";
import {
  generalStats,
  itemsStats,
  type StatPairs,
  settingsStats,
  sizesStats,
  slabsStats,
} from "./stats.js";

export function binaryStats(
  ctx: NodeContext,
  req: BinaryRequest,
  buf: Buffer,
  out: OutBuffer,
): void {
  const group = buf.toString("latin1", req.keyStart, req.keyEnd);
  let pairs: StatPairs;
  switch (group) {
    case "":
      pairs = generalStats(ctx);
      break;
    case "settings":
      pairs = settingsStats(ctx);
      break;
    case "items":
      pairs = itemsStats(ctx);
      break;
    case "slabs":
      pairs = slabsStats(ctx);
      break;
    case "sizes":
      pairs = sizesStats(ctx);
      break;
    default:
      binaryError(out, req, S.KeyNotFound);
      return;
  }
  // One response per stat (key = name, value = value), then an empty one (protocol-binary.txt "Stat").
  for (const [k, v] of pairs) {
    out.ensure(HEADER_LENGTH + k.length + v.length);
    out.pos = writeBinaryHeader(
      out.buf,
      out.pos,
      req.opcode,
      S.NoError,
      req.opaque,
      k.length,
      0,
      k.length + v.length,
    );
    out.ascii(k);
    out.ascii(v);
  }
  respond(out, req, S.NoError, 0, false, 0);
}
