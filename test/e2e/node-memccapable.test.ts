/**
 * Conformance: libmemcached's memccapable (27 ASCII + 27 binary tests) against `keepcache node`,
 * and, as the reference, against real memcached in the same run.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { freePort } from "../../tools/ports.js";
import { startMemcached, stopAll } from "../../tools/procs.js";
import { type NodeProc, startNode } from "../helpers/keepcache.js";

const run = promisify(execFile);

async function memccapable(
  port: number,
): Promise<{ passed: string[]; failed: string[]; out: string }> {
  let out: string;
  try {
    const r = await run("memccapable", ["-h", "127.0.0.1", "-p", String(port), "-t", "3"], {
      timeout: 120_000,
    });
    out = r.stdout + r.stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    out = (e.stdout ?? "") + (e.stderr ?? "");
  }
  const passed = [...out.matchAll(/^(.+?)\s+\[pass\]/gm)].map((m) => m[1].trim());
  const failed = [...out.matchAll(/^(.+?)\s+\[fail\]/gm)].map((m) => m[1].trim());
  return { passed, failed, out };
}

describe("memccapable", () => {
  let node: NodeProc;
  before(async () => {
    node = await startNode();
  });
  after(stopAll);

  test("real memcached passes all 54 (the reference)", async () => {
    const port = await freePort();
    await startMemcached(port);
    const r = await memccapable(port);
    assert.equal(r.passed.length, 54, r.out);
  });

  test("keepcache node passes all 54 (27 ASCII, 27 binary)", async () => {
    const r = await memccapable(node.port);
    assert.deepEqual(r.failed, [], r.out);
    assert.equal(r.passed.filter((n) => n.startsWith("ascii")).length, 27, r.out);
    assert.equal(r.passed.filter((n) => n.startsWith("binary")).length, 27, r.out);
  });
});
