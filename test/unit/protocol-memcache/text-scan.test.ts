/**
 * The text parser looks for "\n" with a loop over the first 64 bytes and Buffer#indexOf past
 * them, resuming where the last search stopped. Lines on both sides of that boundary, and
 * arriving in pieces that end on either side of it, must parse the same.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { Cmd, ParseStatus } from "../../../src/protocol/memcache/text.js";
import { assertSplitInvariant } from "../../helpers/split.js";
import { textTarget } from "./text-helpers.js";

function getLine(keyLen: number, keys: number): string {
  const ks: string[] = [];
  for (let i = 0; i < keys; i++) ks.push(String.fromCharCode(97 + i).repeat(keyLen));
  return `get ${ks.join(" ")}\r\n`;
}

/** Parses `input` whole and cut at `cuts` (mod its length), asserts both agree; the results. */
function wholeAndCut(input: Buffer, cuts: number[]) {
  const whole = textTarget()();
  whole.feed(input);
  const want = whole.drain();
  const t = textTarget()();
  const got = [];
  let prev = 0;
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  for (const at of [...points, input.length]) {
    t.feed(input.subarray(prev, at));
    prev = at;
    got.push(...t.drain());
  }
  assert.deepEqual(got, want);
  return want;
}

describe("text parser: newline search around the short-scan boundary", () => {
  test("get lines of 50 to 140 bytes, whole, byte by byte and split everywhere", () => {
    for (let len = 44; len <= 136; len += 3) {
      const line = getLine(len, 1);
      const input = Buffer.from(`${line}${getLine(3, 2)}version\r\n`, "latin1");
      const r = assertSplitInvariant(textTarget(), input);
      assert.deepEqual(
        r.map((x) => [x.s, x.cmd, x.keys.length]),
        [
          [ParseStatus.Ok, Cmd.Get, 1],
          [ParseStatus.Ok, Cmd.Get, 2],
          [ParseStatus.Ok, Cmd.Version, 0],
        ],
      );
      assert.equal(r[0].keys[0].length, len);
    }
  });

  test("property: random get lines in random pieces parse as when fed whole", () => {
    const arb = fc.tuple(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 4 })), {
        minLength: 1,
        maxLength: 5,
      }),
      fc.array(fc.nat(), { maxLength: 6 }),
    );
    fc.assert(
      fc.property(arb, ([lines, cuts]) => {
        const input = Buffer.from(lines.map(([l, k]) => getLine(l, k)).join(""), "latin1");
        assert.equal(wholeAndCut(input, cuts).length, lines.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe("text parser: a long get line is split into keys as it arrives", () => {
  /** A get line past the 2048-byte command limit, with runs of spaces and a trailing one. */
  function longLine(keys: string[], gaps: number[]): string {
    return `get ${keys.map((k, i) => k + " ".repeat(1 + ((gaps[i % gaps.length] ?? 0) % 3))).join("")}\r\n`;
  }

  test("whole, byte by byte and split everywhere: the same keys, then the next request", () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
    const line = longLine(keys, [0, 2, 1]);
    assert.ok(line.length > 2048);
    const input = Buffer.from(`${line}get a b\r\nversion\r\n`, "latin1");
    const r = assertSplitInvariant(textTarget(), input, { maxSplitLength: 8192 });
    assert.deepEqual(
      r.map((x) => [x.s, x.cmd]),
      [
        [ParseStatus.Ok, Cmd.Get],
        [ParseStatus.Ok, Cmd.Get],
        [ParseStatus.Ok, Cmd.Version],
      ],
    );
    assert.deepEqual(r[0].keys, keys);
    assert.deepEqual(r[1].keys, ["a", "b"]);
  });

  test("a NUL byte ends the line, whatever the pieces (memcached reads it as a C string)", () => {
    const keys = Array.from({ length: 300 }, (_, i) => `key:${i}`);
    const line = longLine(keys, [1]).replace("key:150 ", "key:150\0ignored ");
    const r = assertSplitInvariant(textTarget(), Buffer.from(`${line}version\r\n`, "latin1"), {
      maxSplitLength: 0,
    });
    assert.deepEqual(r[0].keys, keys.slice(0, 151));
    assert.equal(r[1].cmd, Cmd.Version);
  });

  test("a key too long, a line past maxGetLine: memcached's answers, whatever the pieces", () => {
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    keys[200] = "x".repeat(251);
    const bad = Buffer.from(`${longLine(keys, [0])}get ok\r\n`, "latin1");
    const r = assertSplitInvariant(textTarget(), bad, { maxSplitLength: 0 });
    assert.deepEqual(
      r.map((x) => [x.s, x.error]),
      [
        [ParseStatus.Error, "CLIENT_ERROR bad command line format"],
        [ParseStatus.Ok, ""],
      ],
    );
    const long = Buffer.from(
      longLine(
        keys.slice(0, 199).map((k) => k.padEnd(20, "z")),
        [1],
      ),
      "latin1",
    );
    const cut = assertSplitInvariant(textTarget({ maxGetLineLength: 2500 }), long, {
      maxSplitLength: 0,
    });
    assert.deepEqual(
      cut.map((x) => [x.s, x.error]),
      [[ParseStatus.Error, "CLIENT_ERROR line too long"]],
    );
  });

  test("property: long get lines in random pieces parse as when fed whole", () => {
    const arb = fc.tuple(
      fc.array(fc.stringMatching(/^[a-z0-9:]{1,40}$/), { minLength: 150, maxLength: 400 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 12 }),
    );
    fc.assert(
      fc.property(arb, ([keys, gaps, cuts]) => {
        const input = Buffer.from(`${longLine(keys, gaps)}${longLine(keys, [0])}`, "latin1");
        assert.deepEqual(wholeAndCut(input, cuts)[0].keys, keys);
      }),
      { numRuns: 200 },
    );
  });
});
