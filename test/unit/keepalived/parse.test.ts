import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  importKeepalived,
  parseKeepalived,
  tokenizeLine,
} from "../../../src/config/keepalived/index.js";
import { ConfigError } from "../../../src/errors.js";

describe("keepalived.conf parser", () => {
  test("tokens: blanks, quotes, braces, # and ! comments", () => {
    const t = (l: string) => tokenizeLine(l).map((x) => x.t);
    assert.deepEqual(t('  script "killall -0 haproxy"  # check'), ["script", "killall -0 haproxy"]);
    assert.deepEqual(t("vrrp_instance VI_1{"), ["vrrp_instance", "VI_1", "{"]);
    assert.deepEqual(t("! Configuration File for keepalived"), []);
    assert.deepEqual(t('notify "/x.sh {a}" }'), ["notify", "/x.sh {a}", "}"]);
    assert.deepEqual(t("router_id node1#comment"), ["router_id", "node1"]);
    assert.deepEqual(t("interface\u00a0eth0\u3000"), ["interface", "eth0"]);
  });

  test("blocks keep line numbers; `{` may sit on the next line", () => {
    const s = parseKeepalived(
      "global_defs\n{\n  router_id a\n}\nvrrp_instance X {\n state BACKUP\n}\n",
      "k.conf",
    );
    assert.equal(s.length, 2);
    assert.deepEqual(
      s.map((x) => [x.key, x.line, x.block?.map((b) => [b.key, b.args, b.line])]),
      [
        ["global_defs", 1, [["router_id", ["a"], 3]]],
        ["vrrp_instance", 5, [["state", ["BACKUP"], 6]]],
      ],
    );
  });

  test("unbalanced braces name the line", () => {
    assert.throws(
      () => parseKeepalived("a {\n b\n", "k.conf"),
      (e: unknown) => e instanceof ConfigError && e.line === 1,
    );
    assert.throws(
      () => parseKeepalived("a\n}\n", "k.conf"),
      (e: unknown) => e instanceof ConfigError && e.line === 2,
    );
  });

  test("include splices files, keeping their own names and lines", () => {
    const files: Record<string, string> = {
      "/etc/k/vi.conf": "vrrp_instance VI {\n priority 9\n}\n",
    };
    const s = parseKeepalived(
      "global_defs {\n}\ninclude vi.conf\n",
      "/etc/k/keepalived.conf",
      (p, from) => {
        assert.equal(from, "/etc/k/keepalived.conf");
        return [[`/etc/k/${p}`, files[`/etc/k/${p}`]]];
      },
    );
    assert.equal(s[1].key, "vrrp_instance");
    assert.equal(s[1].file, "/etc/k/vi.conf");
    assert.equal(s[1].block?.[0].line, 2);
  });

  test("fuzz: only ConfigError escapes the parser and importer", () => {
    const words = fc.constantFrom(
      ...[
        "{",
        "}",
        "\n",
        " ",
        '"',
        "#",
        "vrrp_instance",
        "virtual_server",
        "real_server",
        "TCP_CHECK",
      ],
      ...[
        "priority",
        "x",
        "1",
        "weight",
        "track_script",
        "vrrp_sync_group",
        "group",
        "global_defs",
      ],
    );
    fc.assert(
      fc.property(fc.array(words, { maxLength: 60 }), (ws) => {
        try {
          importKeepalived(ws.join(" "), "f.conf");
        } catch (e) {
          assert.ok(e instanceof ConfigError, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});
