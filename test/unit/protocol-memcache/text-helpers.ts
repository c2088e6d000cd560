/** Adapts TextRequestParser to the split helper: results as plain, buffer-independent values. */

import type { TextParserOptions } from "../../../src/protocol/memcache/text.js";
import {
  ParseStatus,
  TextRequest,
  TextRequestParser,
} from "../../../src/protocol/memcache/text.js";
import type { SplitTarget } from "../../helpers/split.js";

export interface Parsed {
  s: number;
  cmd: number;
  frame: string;
  keys: string[];
  data: string;
  flags: number;
  exptime: number;
  bytes: number;
  noreply: boolean;
  cas: string;
  delta: string;
  mflags: number;
  toks: string[];
  opaque: string;
  error: string;
  close: boolean;
}

export function snapshot(p: TextRequestParser, r: TextRequest, s: number): Parsed {
  const b = p.buffer;
  const str = (a: number, e: number) => b.toString("latin1", a, e);
  const keys: string[] = [];
  for (let i = 0; i < r.keyCount; i++) keys.push(str(r.keyStarts[i], r.keyEnds[i]));
  const toks: string[] = [];
  for (let i = 0; i < r.tokCount; i++) toks.push(str(r.tokStarts[i], r.tokEnds[i]));
  return {
    s,
    cmd: r.cmd,
    frame: s === ParseStatus.Ok ? str(r.frameStart, r.frameEnd) : "",
    keys,
    data: s === ParseStatus.Ok ? str(r.dataStart, r.dataEnd) : "",
    flags: r.flags,
    exptime: r.exptime,
    bytes: r.bytes,
    noreply: r.noreply,
    cas: r.hasCas ? `${r.casHi}:${r.casLo}` : "",
    delta: `${r.deltaHi}:${r.deltaLo}`,
    mflags: r.mflags,
    toks,
    opaque: str(r.opaqueStart, r.opaqueEnd),
    error: r.error,
    close: r.close,
  };
}

export function textTarget(opts?: TextParserOptions): () => SplitTarget<Parsed> {
  return () => {
    const p = new TextRequestParser(opts);
    const r = new TextRequest();
    return {
      feed: (c) => p.feed(c),
      drain: () => {
        const out: Parsed[] = [];
        for (let i = 0; i < 100_000; i++) {
          const s = p.next(r);
          if (s === ParseStatus.NeedMore) return out;
          out.push(snapshot(p, r, s));
        }
        throw new Error("parser did not stop");
      },
    };
  };
}

/** Parses input whole and returns the results. */
export function parseAll(input: string | Buffer, opts?: TextParserOptions): Parsed[] {
  const t = textTarget(opts)();
  t.feed(typeof input === "string" ? Buffer.from(input, "latin1") : input);
  return t.drain();
}
