/** Bounds on config input: file size, alias expansion, flow nesting, include totals. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadConfigOrKeepalived } from "../../../src/cli/vrrp.js";
import {
  ConfigErrors,
  loadConfig,
  MAX_ALIAS_NODES,
  MAX_CONFIG_BYTES,
  MAX_FLOW_DEPTH,
  parseConfig,
} from "../../../src/config/load.js";

const dir = mkdtempSync(join(tmpdir(), "kc-limits-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigErrors, String(err));
    return err.errors.map((e) => e.message);
  }
  assert.fail("expected ConfigErrors");
}

const pool = "p:\n  listen: 127.0.0.1:1\n  servers: ['127.0.0.1:2:1']\n";

describe("config limits", () => {
  test("aliases: ordinary use passes, an exponential bomb is refused at its line", () => {
    const ok = parseConfig(
      [
        "p: { listen: 127.0.0.1:1, servers: &s ['127.0.0.1:2:1', '127.0.0.1:3:1'] }",
        "q: { listen: 127.0.0.1:4, servers: *s }",
        "r: { listen: 127.0.0.1:5, servers: *s }",
      ].join("\n"),
      "t.yml",
    );
    assert.equal(ok.pools.length, 3);
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
    ].join("\n");
    const msgs = problems(() => parseConfig(bomb, "t.yml"));
    assert.equal(msgs.length, 1);
    assert.match(msgs[0], new RegExp(`^t\\.yml:4: alias \\*c .*past ${MAX_ALIAS_NODES}`));
  });

  test("an alias inside the node it names is refused", () => {
    const msgs = problems(() => parseConfig("a: &x [1, *x]\n", "t.yml"));
    assert.match(msgs[0], /^t\.yml:1: /);
  });

  test("flow nesting past the limit is refused before parsing, at its line", () => {
    const deep = `${pool}x:\n  y: ${"[".repeat(MAX_FLOW_DEPTH + 1)}\n`;
    assert.match(problems(() => parseConfig(deep, "t.yml"))[0], /^t\.yml:5: \[ and \{ nest more/);
    // Brackets in quotes and comments do not count.
    const quoted = `# ${"[".repeat(100)}\n${pool}  hash_tag: "{}"\nq: '${"[".repeat(100)}'\n`;
    assert.ok(problems(() => parseConfig(quoted, "t.yml")).every((m) => !/nest/.test(m)));
  });

  test("a file over the size cap is refused without reading it all", async () => {
    const f = join(dir, "big.yml");
    writeFileSync(f, `${pool}${"#".repeat(MAX_CONFIG_BYTES)}\n`);
    let err: unknown;
    await loadConfig(f).catch((e) => {
      err = e;
    });
    assert.ok(err instanceof ConfigErrors);
    assert.match(err.errors[0].message, /big\.yml: is larger than 1 MiB/);
    // The loader run, vrrp and check share (YAML or keepalived.conf) has the same cap.
    assert.match(problems(() => loadConfigOrKeepalived(f))[0], /big\.yml: is larger than 1 MiB/);
  });

  test("a YAML error per byte is reported 20 times, not a million", () => {
    assert.ok(problems(() => parseConfig(`a: ${"]".repeat(10_000)}\n`, "t.yml")).length <= 20);
  });

  test("keepalived.conf: a file that includes itself twice stops at the total size cap", () => {
    const f = join(dir, "self.conf");
    writeFileSync(f, `! ${"x".repeat(50_000)}\ninclude self.conf\ninclude self.conf\n`);
    const msgs = problems(() => loadConfigOrKeepalived(f));
    assert.match(msgs[0], /self\.conf:2: include: the included files pass 1 MiB in total/);
  });

  test("admin tokens shorter than 16 characters are refused with their line", () => {
    const msgs = problems(() =>
      parseConfig(`${pool}admin:\n  listen: 127.0.0.1:9180\n  token: abc\n`, "t.yml"),
    );
    assert.match(msgs[0], /^t\.yml:6: admin\.token: must be at least 16 characters/);
  });
});
