/**
 * Replays a parser's input whole, byte by byte, and split in two at every offset, and asserts
 * each way yields the same sequence of results. Generic: the caller adapts its parser to
 * `SplitTarget`, whose `drain` turns everything parsed so far into plain, buffer-independent
 * values (strings and numbers, not offsets into a buffer that later feeds may replace).
 */
import assert from "node:assert/strict";

export interface SplitTarget<R> {
  feed(chunk: Buffer): void;
  /** Results parsed since the last call, as comparable plain values. */
  drain(): R[];
}

export interface SplitOptions {
  /** Skip the every-offset pass for inputs longer than this (keeps suites fast). Default 4096. */
  maxSplitLength?: number;
  /** Skip the byte-by-byte pass for inputs longer than this. Default 65536. */
  maxByteLength?: number;
}

function run<R>(make: () => SplitTarget<R>, chunks: Buffer[]): R[] {
  const t = make();
  const out: R[] = [];
  for (const c of chunks) {
    t.feed(c);
    out.push(...t.drain());
  }
  return out;
}

/** Returns the results of feeding `input` whole, after checking the other ways agree. */
export function assertSplitInvariant<R>(
  make: () => SplitTarget<R>,
  input: Buffer,
  opts: SplitOptions = {},
): R[] {
  const whole = run(make, [input]);
  if (input.length <= (opts.maxByteLength ?? 65536)) {
    const bytes: Buffer[] = [];
    for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
    assert.deepEqual(run(make, bytes), whole, "byte-by-byte feeding differs from whole");
  }
  if (input.length <= (opts.maxSplitLength ?? 4096)) {
    for (let i = 1; i < input.length; i++) {
      const got = run(make, [input.subarray(0, i), input.subarray(i)]);
      assert.deepEqual(got, whole, `split at offset ${i} differs from whole`);
    }
  }
  return whole;
}
