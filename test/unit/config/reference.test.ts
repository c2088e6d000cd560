import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parseDocument } from "yaml";
import { main as check } from "../../../src/cli/check.js";
import { keysAt } from "../../../src/config/schema/json.js";
import {
  describedJsonSchema,
  keyRows,
  referenceMarkdown,
} from "../../../src/config/schema/reference.js";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}
const root = repoRoot();
const read = (rel: string) => readFileSync(join(root, rel), "utf8");
const EXAMPLES = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".yml"));

describe("generated config tooling is up to date", () => {
  test("schema/keepcache.schema.json is the schema's (npm run gen:config)", () => {
    assert.deepEqual(JSON.parse(read("schema/keepcache.schema.json")), describedJsonSchema());
  });

  test("docs/configuration.md is the schema's (npm run gen:config)", () => {
    assert.equal(read("docs/configuration.md"), referenceMarkdown());
  });

  test("every key has a description and a row in the reference", () => {
    const rows = keyRows();
    assert.ok(rows.length > 150, String(rows.length));
    assert.deepEqual(
      rows.filter((r) => !r.description).map((r) => r.path),
      [],
    );
    const md = read("docs/configuration.md");
    for (const r of rows) assert.ok(md.includes(`| \`${r.path}\` |`), r.path);
  });

  test("keys at a path come from the schema (what did-you-mean offers)", () => {
    assert.ok(keysAt(["alpha"]).includes("hash_tag"));
    assert.ok(keysAt(["vrrp", "instances", "VI_1"]).includes("nopreempt"));
    assert.ok(keysAt(["tcp", "db", "servers", 0, "check"]).includes("port"));
    assert.ok(keysAt(["alpha", "servers", 0]).includes("members"));
  });
});

describe("the JSON Schema agrees with keepcache's validation", () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(describedJsonSchema());
  const yamlFiles = [
    ...EXAMPLES.map((f) => `examples/${f}`),
    "test/fixtures/config/twemproxy-example.yml",
    "test/fixtures/config/seed004-nutcracker.yml",
    "deploy/docker/keepcache.yml",
  ];
  for (const f of yamlFiles)
    test(`${f}: valid for editors too`, () => {
      const ok = validate(parseDocument(read(f)).toJS());
      assert.ok(ok, JSON.stringify(validate.errors, null, 1));
    });

  test("a misspelt key and a wrong enum value are flagged", () => {
    const bad = {
      alpha: { listen: "127.0.0.1:1", hash: "md6", hash_tags: "{}", servers: ["a:1:1"] },
    };
    assert.equal(validate(bad), false);
    const msgs = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("\n");
    assert.match(msgs, /\/alpha\/hash must be equal to one of the allowed values/);
    assert.match(msgs, /must NOT have additional properties/);
  });
});

describe("examples", () => {
  test("one per seed deployment", () => {
    assert.deepEqual(EXAMPLES.sort(), [
      "memcached-pair-vip.yml",
      "mycat-mysql-vrrp.yml",
      "redis-master-replicas-vip.yml",
      "redis-sentinel.yml",
      "twemproxy-redis-shards.yml",
    ]);
  });

  for (const f of EXAMPLES)
    test(`${f} passes keepcache check and names the shipped schema`, async () => {
      let err = "";
      const code = await check(["-c", join(root, "examples", f)], {
        out: () => {},
        err: (s) => {
          err += s;
        },
      });
      assert.equal(code, 0, err);
      assert.equal(err, "");
      const first = read(`examples/${f}`).split("\n")[0];
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      assert.ok(m, first);
      assert.ok(existsSync(join(root, "examples", m[1])), m[1]);
    });

  test("the README's quick start links every example and the reference", () => {
    const readme = read("README.md");
    const quick = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Commands"));
    for (const f of EXAMPLES) assert.ok(quick.includes(`(examples/${f})`), f);
    assert.ok(readme.includes("(docs/configuration.md)"));
  });
});
