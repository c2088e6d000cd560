/**
 * A production install, as a user makes one: `npm pack` of the built tree, the tarball
 * installed with `npm install --omit=dev` into an empty prefix (devDependencies such as
 * ioredis absent), and from that install every subcommand: `up`, `check` and `run` over a
 * memcached pool, a Redis pool and a Redis replica set (builtin failover), `node`, `import`,
 * and `vrrp` (in a network namespace, taking its VIP: the optional raw-socket module loads),
 * each doing its job. A production import of a devDependency fails here with
 * ERR_MODULE_NOT_FOUND.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { createLab } from "../../tools/netns.js";
import { freePorts, waitForPort } from "../../tools/ports.js";
import { repoRoot, start, startMemcached, startRedis } from "../../tools/procs.js";
import { suiteDir } from "../helpers/keepcache-run.js";
import { RawClient } from "../helpers/line-client.js";

const run = promisify(execFile);

/** One request on a fresh connection; the reply up to `terminator`. */
async function ask(port: number, cmd: string, terminator: string): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    return await c.call(cmd, terminator);
  } finally {
    c.sock.destroy();
  }
}

describe("packed tarball, production dependencies only", { timeout: 120_000 }, () => {
  const dir = suiteDir("kc-install-");
  const prefix = join(dir, "prefix");
  let bin = "";
  // Only the install's own modules: no NODE_PATH, and a HOME without ~/.node_modules.
  const env = { ...process.env, NODE_PATH: "", HOME: dir, KEEPCACHE_LOG_FORMAT: "json" };

  test("npm pack + npm install --omit=dev into an empty prefix", async () => {
    const root = repoRoot();
    // The test run builds dist/ first (npm test); pack what is built, without `prepare`.
    assert.ok(existsSync(join(root, "dist/src/cli/main.js")), "dist/ is built");
    const packed = await run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], {
      cwd: root,
      timeout: 60_000,
    });
    const tarball = join(dir, packed.stdout.trim().split("\n").at(-1) ?? "");
    const listing = (await run("tar", ["tzf", tarball])).stdout;
    assert.match(listing, /^package\/dist\/src\/cli\/main\.js$/m, "the tarball has the built CLI");
    assert.match(listing, /^package\/bin\/keepcache\.js$/m);
    assert.doesNotMatch(listing, /^package\/(test|dist\/test|node_modules)\//m);
    // Nothing above the prefix may supply modules (Node looks in every parent's node_modules).
    for (let d = dir; d !== "/"; d = join(d, "..")) {
      assert.ok(!existsSync(join(d, "node_modules")), `${d}/node_modules must not exist`);
    }
    mkdirSync(prefix);
    writeFileSync(join(prefix, "package.json"), "{}\n");
    await run(
      "npm",
      [
        "install",
        "--omit=dev",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--prefix",
        prefix,
        tarball,
      ],
      // npm keeps the user's HOME: its cache, and node-gyp's headers for raw-socket.
      { cwd: prefix, timeout: 90_000 },
    );
    bin = join(prefix, "node_modules/.bin/keepcache");
    assert.ok(existsSync(bin));
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    for (const dev of Object.keys(pkg.devDependencies))
      assert.ok(!existsSync(join(prefix, "node_modules", dev)), `${dev} is not installed`);
  });

  test("keepcache up serves from the install", async () => {
    assert.ok(bin, "installed");
    const [port, admin] = await freePorts(2);
    const up = await start(bin, ["up", "--port", String(port), "--admin", `127.0.0.1:${admin}`], {
      port,
      env,
      timeoutMs: 20_000,
    });
    // The proxy listens before its members are warm: retry until the set answers.
    let reply = "";
    for (let i = 0; i < 100 && reply !== "STORED\r\n"; i++) {
      reply = await ask(port, "set hello 0 0 5\r\nworld\r\n", "\r\n").catch(() => "");
      if (reply !== "STORED\r\n") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(reply, "STORED\r\n", up.output());
    assert.equal(
      await ask(port, "get hello\r\n", "END\r\n"),
      "VALUE hello 0 5\r\nworld\r\nEND\r\n",
    );
    await up.stop("SIGTERM");
    assert.equal(up.child.exitCode, 0, up.output());
  });

  test("keepcache check and run: a memcached pool, a Redis pool and a Redis replica set", async () => {
    assert.ok(bin, "installed");
    const [mc, r1, r2, r3, p1, p2, p3, stats] = await freePorts(8);
    await startMemcached(mc);
    await startRedis(r1);
    await startRedis(r2);
    await startRedis(r3, ["--replicaof", "127.0.0.1", String(r2)]);
    const file = join(dir, "prod.yml");
    writeFileSync(
      file,
      [
        "mc:",
        `  listen: 127.0.0.1:${p1}`,
        `  servers: ["127.0.0.1:${mc}:1"]`,
        "rd:",
        `  listen: 127.0.0.1:${p2}`,
        "  redis: true",
        `  servers: ["127.0.0.1:${r1}:1"]`,
        "set:",
        `  listen: 127.0.0.1:${p3}`,
        "  redis: true",
        "  servers:",
        "    - name: shard1",
        "      failover: builtin",
        "      members:",
        `        - { address: "127.0.0.1:${r2}", role: master }`,
        `        - { address: "127.0.0.1:${r3}", role: replica }`,
        "",
      ].join("\n"),
    );
    const checked = await run(bin, ["check", "-c", file], { env, timeout: 20_000 });
    assert.match(checked.stdout, /: ok \(3 pools/);
    const proxy = await start(bin, ["run", "-c", file, "-s", String(stats)], {
      port: p1,
      env,
      timeoutMs: 20_000,
    });
    await Promise.all([waitForPort(p2), waitForPort(p3)]).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${proxy.output()}`);
    });
    assert.equal(await ask(p1, "set k 0 0 1\r\nv\r\n", "\r\n"), "STORED\r\n", proxy.output());
    assert.equal(await ask(p2, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "\r\n"), "+OK\r\n");
    // The set's controller reads ROLE over its own RESP links before it routes writes.
    let reply = "";
    for (let i = 0; i < 50 && reply !== "+OK\r\n"; i++) {
      reply = await ask(p3, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n", "\r\n").catch(() => "");
      if (reply !== "+OK\r\n") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(reply, "+OK\r\n", proxy.output());
    assert.equal(await ask(p3, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "w\r\n"), "$1\r\nw\r\n");
    await proxy.stop("SIGTERM");
    assert.equal(proxy.child.exitCode, 0, proxy.output());
  });

  test("keepcache node serves, keepcache import converts a keepalived.conf", async () => {
    assert.ok(bin, "installed");
    const [port] = await freePorts(1);
    const node = await start(
      bin,
      ["node", "-p", String(port), "-l", "127.0.0.1", "--replication-port", "0"],
      {
        port,
        env,
        timeoutMs: 20_000,
      },
    );
    assert.equal(await ask(port, "set a 0 0 1\r\nb\r\n", "\r\n"), "STORED\r\n", node.output());
    await node.stop("SIGTERM");
    assert.equal(node.child.exitCode, 0, node.output());
    const conf = join(dir, "keepalived.conf");
    writeFileSync(
      conf,
      [
        "vrrp_instance VI_1 {",
        "  state MASTER",
        "  interface eth0",
        "  virtual_router_id 51",
        "  priority 100",
        "  virtual_ipaddress {",
        "    10.9.9.9/24",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const imported = await run(bin, ["import", conf], { env, timeout: 20_000 });
    assert.match(imported.stdout, /VI_1:/);
    assert.match(imported.stdout, /10\.9\.9\.9\/24/);
  });

  test("keepcache vrrp takes its VIP in a network namespace", async () => {
    assert.ok(bin, "installed");
    const lab = await createLab(1, 1);
    try {
      const [h] = lab.hosts;
      const vip = lab.addr(100);
      const file = join(dir, "vrrp.yml");
      writeFileSync(
        file,
        [
          "vrrp:",
          "  instances:",
          "    VI_1:",
          "      interface: eth0",
          "      state: MASTER",
          "      virtual_router_id: 52",
          "      priority: 150",
          "      advert_int: 0.2",
          `      virtual_ipaddress: ["${vip}/24"]`,
          "",
        ].join("\n"),
      );
      const p = lab.spawn(h.ns, bin, ["vrrp", "-c", file], env);
      let held = false;
      for (let i = 0; i < 100 && !held; i++) {
        held = await lab.hasAddr(h.ns, vip);
        if (!held) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(held, p.output());
      await p.kill("SIGTERM");
      assert.equal(await lab.hasAddr(h.ns, vip), false, "the VIP is released on SIGTERM");
    } finally {
      await lab.destroy();
    }
  });
});
