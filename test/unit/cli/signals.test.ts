import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseInspect, stripInspect } from "../../../src/cli/inspector.js";
import { dumpFilePath, writeFileSafely } from "../../../src/cli/signals.js";
import { syslogPriority } from "../../../src/log.js";

test("pino levels map to syslog priorities (sd-daemon(3) prefixes)", () => {
  assert.deepEqual([10, 20, 30, 40, 50, 60].map(syslogPriority), [7, 7, 6, 4, 3, 2]);
});

test("NODE_OPTIONS loses every inspector option and keeps the rest", () => {
  assert.equal(
    stripInspect("--max-old-space-size=512 --inspect=0.0.0.0:9229 --enable-source-maps"),
    "--max-old-space-size=512 --enable-source-maps",
  );
  assert.equal(stripInspect("--inspect-brk --inspect-port=1 --inspect-wait"), "");
  assert.equal(stripInspect("--inspector-is-not-a-flag"), "--inspector-is-not-a-flag");
  assert.deepEqual(parseInspect("--inspect"), { host: "127.0.0.1", port: 9229 });
  assert.deepEqual(parseInspect("--inspect=9300"), { host: "127.0.0.1", port: 9300 });
  assert.deepEqual(parseInspect("--inspect=::1:9300"), { host: "::1", port: 9300 });
  assert.throws(() => parseInspect("--inspect=host:x"), /not \[HOST:\]PORT/);
});

test("the dump file: KEEPCACHE_DUMP_FILE, else per command and pid in the temp dir", () => {
  assert.equal(dumpFilePath("run", { KEEPCACHE_DUMP_FILE: "/run/kc.json" }), "/run/kc.json");
  assert.equal(dumpFilePath("vrrp", {}, 42), join(tmpdir(), "keepcache-vrrp-42.json"));
});

test("a symlink planted at the dump path is replaced, never followed", () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-dump-"));
  try {
    const victim = join(dir, "victim");
    writeFileSync(victim, "keep me");
    const path = join(dir, "dump.json");
    symlinkSync(victim, path);
    writeFileSafely(path, "{}\n");
    assert.equal(readFileSync(victim, "utf8"), "keep me");
    assert.equal(lstatSync(path).isSymbolicLink(), false);
    assert.equal(readFileSync(path, "utf8"), "{}\n");
    assert.equal(lstatSync(path).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
