import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { main as check } from "../../../src/cli/check.js";
import { ConfigErrors, loadConfig, parseConfig } from "../../../src/config/index.js";
import { parseServerString } from "../../../src/config/schema/pool.js";

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
}
const fixtures = join(repoRoot(), "test", "fixtures", "config");

function errorsOf(text: string): string[] {
  try {
    parseConfig(text, "t.yml");
  } catch (err) {
    assert.ok(err instanceof ConfigErrors, String(err));
    return err.errors.map((e) => e.message);
  }
  assert.fail("expected errors");
}

describe("nutcracker.yml loads unchanged", () => {
  test("seed 004 (keepalived + twemproxy + redis)", async () => {
    const cfg = await loadConfig(join(fixtures, "seed004-nutcracker.yml"));
    assert.equal(cfg.pools.length, 1);
    const p = cfg.pools[0];
    assert.equal(p.name, "nutcrakerB");
    assert.deepEqual(p.listen, { kind: "tcp", host: "0.0.0.0", port: 63790 });
    assert.equal(p.hash, "one_at_a_time");
    assert.equal(p.hash_tag, "{}");
    assert.equal(p.distribution, "modula");
    assert.equal(p.auto_eject_hosts, true);
    assert.equal(p.redis, true);
    assert.equal(p.server_retry_timeout, 2000);
    assert.equal(p.server_failure_limit, 1);
    assert.equal(p.timeout, 400);
    assert.equal(p.servers.length, 2);
    assert.equal(p.servers[0].key, "10.75.201.26:6379");
  });

  test("every documented form, with twemproxy defaults", async () => {
    const cfg = await loadConfig(join(fixtures, "twemproxy-example.yml"));
    assert.deepEqual(
      cfg.pools.map((p) => p.name),
      ["alpha", "beta", "gamma", "omega", "delta"],
    );
    const [alpha, beta, gamma, omega, delta] = cfg.pools;
    // nc_conf.h defaults
    assert.equal(alpha.timeout, undefined);
    assert.equal(alpha.backlog, 512);
    assert.equal(alpha.server_connections, 1);
    assert.equal(alpha.client_connections, 0);
    assert.equal(alpha.preconnect, false);
    assert.equal(alpha.redis_db, 0);
    assert.equal(alpha.tcpkeepalive, false);
    const def = parseConfig("p:\n  listen: 127.0.0.1:1\n  servers: [ 'h:2:1' ]\n", "d.yml")
      .pools[0];
    assert.equal(def.hash, "fnv1a_64");
    assert.equal(def.distribution, "ketama");
    assert.equal(def.server_retry_timeout, 30000);
    assert.equal(def.server_failure_limit, 2);
    assert.equal(def.auto_eject_hosts, false);
    assert.equal(def.hash_tag, undefined);
    // unquoted number as a password is the string twemproxy sees
    assert.equal(beta.redis_auth, "12345");
    assert.equal(beta.servers[2].key, "server3");
    assert.equal(gamma.server_connections, 2);
    assert.deepEqual(omega.listen, { kind: "unix", path: "/tmp/gamma", mode: 0o666 });
    assert.equal(omega.servers[0].weight, 100000);
    const d0 = delta.servers[0];
    assert.equal(d0.kind, "server");
    if (d0.kind === "server") {
      assert.deepEqual(d0.address, { kind: "unix", path: "/tmp/mc-1.sock", mode: undefined });
      assert.equal(d0.key, "one");
    }
    assert.equal(delta.servers[1].key, "/tmp/mc-2.sock");
  });
});

describe("server strings (nc_conf.c conf_add_server)", () => {
  test("name, pname and the port-11211 rule", () => {
    const a = parseServerString("10.0.0.1:11211:1");
    assert.ok(typeof a !== "string");
    assert.equal(a.key, "10.0.0.1");
    assert.equal(a.pname, "10.0.0.1:11211:1");
    const b = parseServerString("10.0.0.1:11212:3 cache-b");
    assert.ok(typeof b !== "string");
    assert.equal(b.key, "cache-b");
    assert.equal(b.pname, "10.0.0.1:11212:3");
    assert.equal(b.weight, 3);
    const c = parseServerString("10.0.0.1:11212:3");
    assert.ok(typeof c !== "string");
    assert.equal(c.key, "10.0.0.1:11212");
  });
  test("rejects what twemproxy rejects", () => {
    assert.match(String(parseServerString("10.0.0.1:11212:0")), /zero weight/);
    assert.match(String(parseServerString("10.0.0.1:11212:x")), /invalid weight/);
    assert.match(String(parseServerString("10.0.0.1:99999:1")), /invalid port/);
    assert.match(String(parseServerString("10.0.0.1")), /format string/);
  });
});

describe("errors: all of them, with file, line, key path and what is allowed", () => {
  test("collects every problem in file order", () => {
    const msgs = errorsOf(
      [
        "alpha:", //  1
        "  listen: 127.0.0.1", // 2
        "  hash: fnv", // 3
        "  preconnect: yes", // 4
        "  bogus: 1", // 5
        "  servers:", // 6
        "    - 127.0.0.1:11211:1", // 7
        "    - 127.0.0.1:11212:0", // 8
        "  redis_auth: x", // 9
      ].join("\n"),
    );
    assert.equal(msgs.length, 6, msgs.join("\n"));
    assert.match(msgs[0], /^t\.yml:2: alpha\.listen: .*hostname:port/);
    assert.match(msgs[1], /^t\.yml:3: alpha\.hash: must be one of: one_at_a_time, md5, .*jenkins/);
    assert.match(msgs[2], /^t\.yml:4: alpha\.preconnect: must be a boolean \(got "yes"\)/);
    assert.match(msgs[3], /^t\.yml:5: alpha\.bogus: unknown key 'bogus'/);
    assert.match(msgs[4], /^t\.yml:8: alpha\.servers\[1\]: has a zero weight/);
    assert.match(msgs[5], /^t\.yml:9: alpha\.redis_auth: is only valid for a redis pool/);
  });

  test("duplicate server names and listen addresses (conf_validate_server, post_validate)", () => {
    const msgs = errorsOf(
      [
        "a:",
        "  listen: 127.0.0.1:1",
        "  servers:",
        "    - 127.0.0.1:11211:1 x",
        "    - 127.0.0.1:11212:1 x",
        "b:",
        "  listen: 127.0.0.1:1",
        "  servers: [ '127.0.0.1:2:1', '127.0.0.1:2:2' ]",
      ].join("\n"),
    );
    assert.equal(msgs.length, 3, msgs.join("\n"));
    assert.match(msgs[0], /^t\.yml:5: a\.servers\[1\]: .*same name 'x'/);
    assert.match(msgs[1], /b\.listen: pools 'a' and 'b' have the same listen address/);
    assert.match(msgs[2], /b\.servers\[1\]: .*same name '127\.0\.0\.1:2'/);
  });

  test("duplicate names are reported alongside other errors", () => {
    const msgs = errorsOf("a:\n  listen: h:1\n  hash: x\n  servers: ['h:2:1 s', 'h:3:1 s']\n");
    assert.equal(msgs.length, 2, msgs.join("\n"));
    assert.match(msgs[1], /a\.servers\[1\]: .*same name 's'/);
  });

  test("accepted like twemproxy: redis_db without redis, timeout 0, hash_tag must be 2 chars", () => {
    const ok = parseConfig(
      "a:\n  listen: h:1\n  redis_db: 3\n  timeout: 0\n  servers: ['h:2:1']\n",
      "x",
    );
    assert.equal(ok.pools[0].redis_db, 3);
    const msgs = errorsOf("a:\n  listen: h:1\n  hash_tag: '{'\n  servers: ['h:2:1']\n");
    assert.match(
      msgs[0],
      /t\.yml:3: a\.hash_tag: is not a valid hash tag string with two characters/,
    );
  });

  test("YAML syntax errors and duplicate keys carry a line", () => {
    const msgs = errorsOf("a:\n  listen: h:1\n  listen: h:2\n  servers: ['h:2:1']\n");
    assert.match(msgs[0], /^t\.yml:3: /);
    assert.match(errorsOf("a: [\n")[0], /^t\.yml:\d+: /);
    assert.match(errorsOf("")[0], /empty/);
  });

  test("workers: auto or 1-64 (default 1), with the line and what is allowed", () => {
    const pool = "p:\n  listen: 127.0.0.1:1\n  servers: ['127.0.0.1:2:1']\n";
    assert.equal(parseConfig(pool, "t.yml").workers, 1);
    assert.equal(parseConfig(`workers: auto\n${pool}`, "t.yml").workers, "auto");
    assert.equal(parseConfig(`workers: 2\n${pool}`, "t.yml").workers, 2);
    const msgs = errorsOf(`${pool}workers: many\n`);
    assert.equal(msgs.length, 1, msgs.join("\n"));
    assert.match(msgs[0], /^t\.yml:4: workers: must be "auto" or a whole number from 1 to 64/);
  });

  test("native sections: replica sets, tcp, vrrp with references checked", () => {
    const cfg = parseConfig(
      [
        "pools:",
        "  shards:",
        "    listen: 127.0.0.1:22121",
        "    redis: true",
        "    servers:",
        "      - name: shard1",
        "        members: [ { address: 127.0.0.1:6379, role: master }, { address: 127.0.0.1:6380, role: replica } ]",
        "        read: prefer-replica",
        "      - 127.0.0.1:6390:1 shard2",
        "tcp:",
        "  mycat:",
        "    listen: 0.0.0.0:8066",
        "    check: { type: http, path: /health }",
        "    servers: [ { address: 10.0.0.1:8066, weight: 3 }, { address: 10.0.0.2:8066, backup: true } ]",
        "vrrp:",
        "  scripts: { chk: { script: 'true', weight: -20 } }",
        "  instances:",
        "    VI_1: { interface: eth0, virtual_router_id: 51, virtual_ipaddress: [ 10.0.0.100/24 ], track_script: [ chk ], authentication: { auth_type: PASS, auth_pass: 1111 } }",
        "admin: { listen: 127.0.0.1:8080 }",
      ].join("\n"),
      "n.yml",
    );
    const rs = cfg.pools[0].servers[0];
    assert.equal(rs.kind, "replicaset");
    if (rs.kind === "replicaset") {
      assert.equal(rs.key, "shard1");
      assert.equal(rs.members[1].role, "replica");
      assert.equal(rs.write, "one");
    }
    assert.equal(cfg.tcp[0].name, "mycat");
    assert.equal(cfg.tcp[0].check?.interval, 2000);
    assert.deepEqual(cfg.tcp[0].servers[0].address, { kind: "tcp", host: "10.0.0.1", port: 8066 });
    assert.equal(cfg.vrrp?.instances[0].priority, 100);
    assert.equal(cfg.vrrp?.instances[0].authentication?.auth_pass, "1111");
    const msgs = errorsOf(
      "vrrp:\n  instances:\n    VI_1: { interface: eth0, virtual_router_id: 51, virtual_ipaddress: [ x ], track_script: [ nope ] }\n",
    );
    assert.match(msgs[0], /vrrp\.instances\.VI_1\.track_script\[0\]: unknown script 'nope'/);
  });
});

describe("keepcache check", () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-check-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  test("ok file returns 0, bad file returns 2", async () => {
    const out: string[] = [];
    const io = { out: (x: string) => void out.push(x), err: (x: string) => void out.push(x) };
    const bad = join(dir, "bad.yml");
    writeFileSync(bad, "a:\n  listen: x\n  hash: nope\n  servers: ['h:1:1']\n");
    const okCode = await check(["-c", join(fixtures, "seed004-nutcracker.yml")], io);
    const badCode = await check(["-c", bad], io);
    const missingCode = await check(["-c", join(dir, "missing.yml")], io);
    assert.equal(okCode, 0);
    assert.equal(badCode, 2);
    assert.equal(missingCode, 2);
    assert.match(out[0], /seed004-nutcracker\.yml: ok \(1 pool, 2 servers\)/);
    assert.match(out[1], /bad\.yml:2: a\.listen:/);
    assert.match(out[2], /bad\.yml:3: a\.hash: must be one of/);
    assert.match(out[3], /cannot read/);
  });
});

describe("redis command policy keys", () => {
  test("unknown command names are errors with file, line, key and a suggestion", () => {
    const msgs = errorsOf(
      [
        "r:", // 1
        "  listen: 127.0.0.1:6000", // 2
        "  redis: true", // 3
        "  allow_commands:", // 4
        "    - confg", // 5
        "    - config get", // 6
        "  deny_commands: [keys, AUTH]", // 7
        "  servers:", // 8
        "    - 127.0.0.1:6379:1", // 9
      ].join("\n"),
    );
    assert.equal(msgs.length, 2, msgs.join("\n"));
    assert.match(
      msgs[0],
      /^t\.yml:5: r\.allow_commands\[0\]: unknown redis command "confg" \(did you mean config\?\)/,
    );
    assert.match(msgs[1], /^t\.yml:7: r\.deny_commands\[1\]: auth cannot be closed/);
  });

  test("redis_user needs its password; the lists need a redis pool", () => {
    const msgs = errorsOf(
      [
        "m:",
        "  listen: 127.0.0.1:6000",
        "  redis_user: u", // 3
        "  deny_commands: [get]",
        "  servers:",
        "    - 127.0.0.1:11211:1",
      ].join("\n"),
    );
    assert.ok(
      msgs.some((m) => /^t\.yml:3: m\.redis_user: is only valid for a redis pool/.test(m)),
      msgs.join("\n"),
    );
    assert.ok(
      msgs.some((m) => /redis_user needs redis_user_password/.test(m)),
      msgs.join("\n"),
    );
    assert.ok(
      msgs.some((m) => /allow_commands and deny_commands are only valid for a redis pool/.test(m)),
      msgs.join("\n"),
    );
  });
});

// Redis Cluster pool keys (`redis_cluster: true`): defaults, and errors naming file:line and key.
describe("redis cluster pool config", () => {
  test("seeds and defaults", () => {
    const cfg = parseConfig(
      [
        "c:",
        "  listen: 127.0.0.1:22123",
        "  redis: true",
        "  redis_cluster: true",
        "  read: prefer-replica",
        "  servers:",
        "    - 10.0.0.1:6379:1",
        "    - 10.0.0.2:6379:1",
      ].join("\n"),
      "t.yml",
    );
    const p = cfg.pools[0];
    assert.equal(p.redis_cluster, true);
    assert.equal(p.read, "prefer-replica");
    assert.equal(p.cluster_refresh_interval, 5000);
    assert.equal(p.cluster_failover_wait, 3000);
    assert.equal(p.servers.length, 2);
  });

  test("errors name the line, the key and what is allowed", () => {
    const msgs = errorsOf(
      [
        "c:",
        "  listen: 127.0.0.1:22123",
        "  redis_cluster: true",
        "  read: replica",
        "  redis_db: 2",
        "  servers:",
        "    - /tmp/redis.sock:1",
        "    - name: rs",
        "      members: [{ address: 127.0.0.1:6379 }]",
      ].join("\n"),
    );
    const has = (re: RegExp) =>
      assert.ok(
        msgs.some((m) => re.test(m)),
        msgs.join("\n"),
      );
    has(/^t\.yml:3: c\.redis_cluster: is only valid for a redis pool \(add "redis: true"\)/);
    has(/^t\.yml:5: c\.redis_db: must be 0 for a Redis Cluster pool/);
    has(/^t\.yml:7: c\.servers\[0\]: a Redis Cluster pool lists seed nodes as "host:port:weight"/);
    has(/^t\.yml:8: c\.servers\[1\]: a Redis Cluster pool lists seed nodes/);
    const notCluster = errorsOf(
      [
        "d:",
        "  listen: 127.0.0.1:1",
        "  redis: true",
        "  read: replica",
        "  servers:",
        "    - 127.0.0.1:6379:1",
      ].join("\n"),
    );
    assert.match(
      notCluster.join("\n"),
      /^t\.yml:4: d\.read: is only valid for a Redis Cluster pool/m,
    );
    const badRead = errorsOf(
      [
        "e:",
        "  listen: 127.0.0.1:1",
        "  redis: true",
        "  redis_cluster: true",
        "  read: any",
        "  servers:",
        "    - 127.0.0.1:6379:1",
      ].join("\n"),
    );
    assert.match(badRead.join("\n"), /^t\.yml:5: e\.read: .*master.*replica.*prefer-replica/m);
  });
});
