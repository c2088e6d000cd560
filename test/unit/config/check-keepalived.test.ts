import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { main as check } from "../../../src/cli/check.js";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}
const SEEDS = join(repoRoot(), "test", "fixtures", "keepalived");
const dir = mkdtempSync(join(tmpdir(), "kc-check-ka-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function runCheck(file: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await check(["-c", file], {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

/** The 1-based line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const i = readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} not in ${file}`);
  return i + 1;
}

describe("keepcache check on keepalived.conf", () => {
  const seeds = readdirSync(SEEDS).filter((f) => f.endsWith(".conf"));
  test("the seed configs are all here", () => assert.ok(seeds.length >= 12, seeds.join(" ")));
  for (const f of seeds)
    test(`${f} passes, as run and vrrp accept it`, async () => {
      const r = await runCheck(join(SEEDS, f));
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /: ok \(.*vrrp instance/);
      // Lines that do not carry over are warnings at the user's own lines, not errors.
      for (const l of r.err.split("\n").filter(Boolean))
        assert.match(l, new RegExp(`^${join(SEEDS, f)}:\\d+: warning: not used: `));
    });

  test("a value out of range is reported at its own line of the user's file", async () => {
    const src = readFileSync(join(SEEDS, "seed001-a-master.conf"), "utf8");
    const bad = join(dir, "bad.conf");
    writeFileSync(bad, src.replace("priority 160", "priority 300"));
    const r = await runCheck(bad);
    assert.equal(r.code, 2);
    const errors = r.err.split("\n").filter((l) => l && !l.includes("warning"));
    assert.equal(errors.length, 1, r.err);
    assert.equal(
      errors[0].startsWith(`${bad}:${lineOf(bad, "priority 300")}: vrrp_instance VI_1 > priority`),
      true,
      errors[0],
    );
    assert.match(errors[0], /vrrp\.instances\.VI_1\.priority.*255.*got 300/);
  });

  test("a real_server check's value is reported at its line, in an included file", async () => {
    const inc = join(dir, "services.conf");
    writeFileSync(
      inc,
      [
        "virtual_server 10.0.0.9 3306 {",
        "  delay_loop 2",
        "  real_server 10.0.0.1 3306 {",
        "    weight 1",
        "    TCP_CHECK {",
        "      connect_timeout -3",
        "    }",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const top = join(dir, "top.conf");
    writeFileSync(top, "global_defs {\n  router_id lb1\n}\ninclude services.conf\n");
    const r = await runCheck(top);
    assert.equal(r.code, 2);
    assert.match(r.err, new RegExp(`^${inc}:6: virtual_server 10.0.0.9 3306 > `, "m"));
    assert.doesNotMatch(r.err, /imported\)|<imported>/);
  });

  test("a block never closed and a missing include name the user's file and line", async () => {
    const open = join(dir, "open.conf");
    writeFileSync(open, "global_defs {\n}\nvrrp_instance VI_1 {\n  state MASTER\n");
    const r1 = await runCheck(open);
    assert.equal(r1.code, 2);
    assert.match(
      r1.err,
      new RegExp(`^${open}:3: vrrp_instance: block opened here is never closed`),
    );
    const missing = join(dir, "missing-include.conf");
    writeFileSync(missing, "global_defs {\n}\n\ninclude /nonexistent/keepalived.d/x.conf\n");
    const r2 = await runCheck(missing);
    assert.equal(r2.code, 2);
    assert.match(r2.err, new RegExp(`^${missing}:4: include: .*ENOENT`));
  });
});

describe("did you mean, for YAML keys", () => {
  test("a misspelt pool directive and vrrp key get the closest allowed key", async () => {
    const f = join(dir, "typos.yml");
    writeFileSync(
      f,
      [
        "alpha:",
        "  listen: 127.0.0.1:22121",
        "  hash_tags: '{}'",
        "  servers: ['127.0.0.1:11211:1']",
        "vrrp:",
        "  instances:",
        "    VI_1:",
        "      interface: lo",
        "      virtual_router_id: 5",
        "      priorty: 100",
        "      virtual_ipaddress: [10.0.0.1/24]",
        "",
      ].join("\n"),
    );
    const r = await runCheck(f);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /typos\.yml:3: alpha\.hash_tags: unknown key 'hash_tags' \(did you mean hash_tag\?\) \(not a twemproxy pool directive\)/,
    );
    assert.match(
      r.err,
      /typos\.yml:10: vrrp\.instances\.VI_1\.priorty: unknown key 'priorty' \(did you mean priority\?\)$/m,
    );
  });
});
