/** Peer authentication and the refusal to replicate in the clear over the network. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { keepcacheBin, stopAll } from "../../tools/procs.js";
import { Cluster, call, eventually, getMany, stats, waitOnline } from "./replication-cluster.js";

describe("replication: authentication", () => {
  after(() => stopAll());

  test("same secret: online and replicating; the secret can come from the environment", async () => {
    process.env.KEEPCACHE_REPLICATION_SECRET = "s3cret";
    try {
      const c = await Cluster.start(2);
      await waitOnline(c);
      assert.equal(await call(c.nodes[0].port, "set ak 0 0 1\r\n1\r\n"), "STORED\r\n");
      assert.ok(
        await eventually(async () => (await getMany(c.nodes[1].port, ["ak"])).size === 1, 3000),
      );
      for (const n of c.nodes) await n.proc.stop("SIGKILL");
    } finally {
      delete process.env.KEEPCACHE_REPLICATION_SECRET;
    }
  });

  test("a peer with the wrong secret is refused and logged", async () => {
    const c = await Cluster.start(2, (i) => ["--replication-secret", i === 0 ? "right" : "wrong"]);
    const [a, b] = c.nodes;
    const refused = await eventually(async () => {
      const s = await stats(a.port);
      return (
        s.get(`peer:127.0.0.1:${b.replPort}:state`) === "auth_failed" &&
        Number(s.get("repl_auth_failures")) >= 2
      );
    }, 5000);
    assert.ok(refused, a.proc.output());
    assert.match(a.proc.output(), /authentication failed/);
    assert.match(b.proc.output(), /authentication failed/);
    assert.equal(await call(a.port, "set nk 0 0 1\r\n1\r\n"), "STORED\r\n");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await getMany(b.port, ["nk"])).size, 0);
    for (const n of c.nodes) await n.proc.stop("SIGKILL");
  });

  test("a non-loopback peer without a secret refuses to start (exit 2)", () => {
    const env = { ...process.env };
    delete env.KEEPCACHE_REPLICATION_SECRET;
    const r = spawnSync(
      process.execPath,
      [keepcacheBin(), "node", "-p", "0", "-x", "192.0.2.10:11212"],
      {
        env,
        encoding: "utf8",
        timeout: 10_000,
      },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /non-loopback peer needs --replication-secret/);
  });
});
