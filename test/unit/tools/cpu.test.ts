/**
 * The bench's CPU reading (tools/cpu.ts): utime and stime from /proc/PID/stat, whatever the
 * command name holds (proc(5): it is in parentheses and may contain spaces and parentheses).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cpuOf, parseStat } from "../../../tools/cpu.js";

describe("process CPU from /proc/PID/stat", () => {
  test("fields 14 and 15, counted after the last ')'", () => {
    const line =
      "4242 (a b) (c)) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 56 0 0 20 0 11 0 777 0 0\n";
    assert.deepEqual(parseStat(line), { user: 12_340_000, system: 560_000 });
  });

  test("this process: readable, and it does not go backwards", () => {
    const a = cpuOf(process.pid);
    let x = 0;
    for (let i = 0; i < 1e6; i++) x += i;
    const b = cpuOf(process.pid);
    assert.ok(x > 0);
    assert.ok(Number.isFinite(a.user) && Number.isFinite(a.system));
    assert.ok(b.user >= a.user && b.system >= a.system);
  });
});
