import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MEMCACHED_FLAGS, nutcrackerVerbose } from "../../../src/cli/compat.js";
import { parseFlags } from "../../../src/cli/flags.js";
import { UsageError } from "../../../src/errors.js";

const OURS = {
  "conf-file": { type: "string", short: "c" },
  port: { type: "string", short: "p" },
  verbose: { type: "boolean", short: "v", multiple: true },
} as const;

function usageError(argv: string[]): string {
  try {
    parseFlags(argv, OURS, "usage: x");
  } catch (err) {
    assert.ok(err instanceof UsageError);
    return err.message;
  }
  assert.fail("expected a usage error");
}

describe("one strict parser", () => {
  test("an unknown flag names the closest known one, long with long, short with short", () => {
    assert.match(usageError(["--prot", "1"]), /^unknown option '--prot' \(did you mean --port\?\)/);
    assert.match(usageError(["--conf", "x"]), /\(did you mean --conf-file\?\)/);
    assert.match(usageError(["--conf-fil=x"]), /\(did you mean --conf-file\?\)/);
    assert.match(usageError(["--zzzzzz"]), /^unknown option '--zzzzzz'\n\nusage: x$/);
  });

  test("another program's flags are parsed, and the ignored ones named with the reason", () => {
    const warnings: string[] = [];
    const v = parseFlags(
      ["-p", "1", "-t", "8", "-o", "a,b", "-o", "c", "-d", "-u", "mc"],
      OURS,
      "u",
      {
        flags: MEMCACHED_FLAGS,
        warn: (m) => warnings.push(m),
      },
    );
    assert.equal(v.port, "1");
    assert.equal(v.daemon, true);
    assert.equal(v.user, "mc");
    assert.deepEqual(v.extended, ["a,b", "c"]);
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0], /^-t\/--threads 8 ignored: /);
    assert.match(warnings[1], /^-o\/--extended a,b c ignored: /);
  });

  test("nutcracker's -v N becomes keepcache's -v count", () => {
    assert.deepEqual(nutcrackerVerbose(["-v", "5", "-c", "f"]), ["-c", "f"]);
    assert.deepEqual(nutcrackerVerbose(["-v", "6"]), ["-v"]);
    assert.deepEqual(nutcrackerVerbose(["-v7"]), ["-v"]);
    assert.deepEqual(nutcrackerVerbose(["--verbose=11"]), ["-vv"]);
    assert.deepEqual(nutcrackerVerbose(["--verbose", "8"]), ["-vv"]);
    // keepcache's own forms are left alone.
    assert.deepEqual(nutcrackerVerbose(["-v", "-c", "f"]), ["-v", "-c", "f"]);
    assert.deepEqual(nutcrackerVerbose(["-vv"]), ["-vv"]);
  });
});
