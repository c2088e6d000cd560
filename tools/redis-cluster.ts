/**
 * A real Redis Cluster for tests: 3 masters + 3 replicas, redis-server processes with
 * `cluster-enabled yes` on free loopback ports in a temp dir, joined with
 * `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`, then waited on until
 * every node reports cluster_state:ok and the same slot owners. stop() kills them and removes
 * the directory.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePorts } from "./ports.js";
import { type Proc, startRedis } from "./procs.js";

const run = promisify(execFile);

export interface ClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout (ms): how long until a silent master is failed over. */
  nodeTimeoutMs?: number;
}

export class RedisCluster {
  private constructor(
    readonly ports: number[],
    readonly procs: (Proc | undefined)[],
    private readonly dir: string,
    readonly masters: number,
    readonly nodesPerShard: number,
  ) {}

  static async start(o: ClusterOptions = {}): Promise<RedisCluster> {
    const masters = o.masters ?? 3;
    const per = o.replicasPerMaster ?? 1;
    const n = masters * (1 + per);
    const ports = await freePorts(n);
    // The cluster bus port, set apart: its default (port + 10000) is not one freePorts checked.
    const buses = await freePorts(n);
    const dir = mkdtempSync(join(tmpdir(), "kc-cluster-"));
    const c = new RedisCluster(ports, [], dir, masters, 1 + per);
    try {
      const procs = await Promise.all(
        ports.map((p, i) =>
          startRedis(p, [
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            String(buses[i]),
            "--cluster-config-file",
            join(dir, `nodes-${p}.conf`),
            "--cluster-node-timeout",
            String(o.nodeTimeoutMs ?? 2000),
            // Replicas sync at once instead of after the default 5 s wait for more replicas.
            "--repl-diskless-sync-delay",
            "0",
          ]),
        ),
      );
      c.procs.push(...procs);
      await run(
        "redis-cli",
        [
          "--cluster",
          "create",
          ...ports.map((p) => `127.0.0.1:${p}`),
          "--cluster-replicas",
          String(per),
          "--cluster-yes",
        ],
        { timeout: 30_000 },
      );
      await c.waitConverged(15_000);
      return c;
    } catch (err) {
      await c.stop();
      throw err;
    }
  }

  /** Node count of each shard in one node's CLUSTER SHARDS (empty when it does not answer). */
  private async shardSizes(port: number): Promise<number[]> {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on("error", () => {});
    try {
      await r.connect();
      const shards = (await r.call("CLUSTER", "SHARDS")) as unknown[][];
      return shards.map((sh) => {
        const nodes = sh[sh.indexOf("nodes") + 1];
        return Array.isArray(nodes) ? nodes.length : 0;
      });
    } catch {
      return [];
    } finally {
      r.disconnect();
    }
  }

  /** Runs redis-cli against one node; returns its stdout. */
  async cli(port: number, ...args: string[]): Promise<string> {
    const r = await run("redis-cli", ["-p", String(port), ...args], { timeout: 10_000 });
    return r.stdout;
  }

  /**
   * Feeds `input` (commands, one a line) to `redis-cli -c` against one node: cluster-aware
   * direct access, which follows -MOVED to each key's node. Returns its stdout.
   */
  cliFollowing(port: number, input: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = execFile(
        "redis-cli",
        ["-c", "-p", String(port)],
        { timeout: 20_000 },
        (err, out) => (err ? reject(err) : resolve(out)),
      );
      p.stdin?.end(input);
    });
  }

  /** Until every live node says cluster_state:ok and all agree on who serves each slot. */
  async waitConverged(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const live = this.ports.filter((_, i) => this.procs[i] !== undefined);
      const infos = await Promise.all(
        live.map((p) => this.cli(p, "CLUSTER", "INFO").catch(() => "")),
      );
      const slots = await Promise.all(
        live.map((p) =>
          this.cli(p, "CLUSTER", "SLOTS")
            .then((s) => s.split("\n").sort().join("\n"))
            .catch(() => ""),
        ),
      );
      last = infos.map((s) => /cluster_state:(\w+)/.exec(s)?.[1] ?? "?").join(",");
      // Redis 7 groups a replica into its master's shard (shard-id) only once gossip has told
      // it: until then CLUSTER SHARDS shows the replica as a shard of its own.
      const grouped =
        live.length < this.ports.length ||
        (await Promise.all(live.map((p) => this.shardSizes(p)))).every(
          (sizes) => sizes.length === this.masters && sizes.every((n) => n === this.nodesPerShard),
        );
      if (
        grouped &&
        infos.every((s) => s.includes("cluster_state:ok")) &&
        slots.every((s) => s === slots[0] && s !== "")
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`cluster did not converge within ${timeoutMs} ms (states: ${last})`);
  }

  /**
   * Until every live replica has finished its first sync (INFO master_link_status:up): a
   * replica that never synced is not elected when its master fails (cluster-spec.md "Replica
   * election and promotion": its data is too old).
   */
  async waitReplicasSynced(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const live = this.ports.filter((_, i) => this.procs[i] !== undefined);
      const infos = await Promise.all(
        live.map((p) => this.cli(p, "INFO", "replication").catch(() => "")),
      );
      if (infos.every((s) => s.includes("role:master") || s.includes("master_link_status:up")))
        return;
      if (Date.now() > deadline) throw new Error(`replicas not synced within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The port of the master serving `slot` (CLUSTER NODES of the first live node). */
  async masterOf(slot: number): Promise<{ port: number; id: string }> {
    const live = this.ports.find((_, i) => this.procs[i] !== undefined) ?? this.ports[0];
    const text = await this.cli(live, "CLUSTER", "NODES");
    for (const line of text.split("\n")) {
      const f = line.split(" ");
      if (!f[2]?.includes("master") || f[2].includes("fail")) continue;
      const serves = f.slice(8).some((r) => {
        const [a, b] = r.split("-").map(Number);
        return slot >= a && slot <= (b ?? a);
      });
      if (serves) return { port: Number(/:(\d+)@/.exec(f[1])?.[1]), id: f[0] };
    }
    throw new Error(`no master serves slot ${slot}:\n${text}`);
  }

  /** The replica ports of the master on `port` (CLUSTER SHARDS of that master). */
  async replicasOf(port: number): Promise<number[]> {
    const text = await this.cli(
      port,
      "CLUSTER",
      "REPLICAS",
      (await this.cli(port, "CLUSTER", "MYID")).trim(),
    );
    return [...text.matchAll(/:(\d+)@/g)].map((m) => Number(m[1]));
  }

  /**
   * Moves one slot to another master as `redis-cli --cluster reshard` does (cluster-spec.md
   * "Live resharding"): SETSLOT IMPORTING on the target, MIGRATING on the source, MIGRATE of
   * its keys in batches, SETSLOT NODE on every master. Returns the source and target ports.
   * `during` runs while the slot is MIGRATING/IMPORTING, before its keys move.
   */
  async moveSlot(
    slot: number,
    during?: (source: number, target: number) => Promise<void>,
  ): Promise<{ source: number; target: number }> {
    const source = await this.masterOf(slot);
    const others = await Promise.all(
      this.ports
        .filter((p, i) => p !== source.port && this.procs[i] !== undefined)
        .map(async (p) => ({ port: p, role: await this.cli(p, "ROLE") })),
    );
    const masters = others.filter((n) => n.role.startsWith("master"));
    const target = masters[0];
    assert.ok(target !== undefined, "no other master to move the slot to");
    const targetId = (await this.cli(target.port, "CLUSTER", "MYID")).trim();
    const s = String(slot);
    await this.cli(target.port, "CLUSTER", "SETSLOT", s, "IMPORTING", source.id);
    await this.cli(source.port, "CLUSTER", "SETSLOT", s, "MIGRATING", targetId);
    await during?.(source.port, target.port);
    for (let round = 0; round < 10_000; round++) {
      const keys = (await this.cli(source.port, "CLUSTER", "GETKEYSINSLOT", s, "50"))
        .split("\n")
        .filter((k) => k !== "");
      if (keys.length === 0) break;
      const to = String(target.port);
      await this.cli(source.port, "MIGRATE", "127.0.0.1", to, "", "0", "5000", "KEYS", ...keys);
      await new Promise((r) => setTimeout(r, 20));
    }
    // The target first: were the source told first, it would send clients to a target that
    // still imports the slot and sends them back (MOVED) without ASKING.
    for (const m of [target, source, ...masters.filter((m) => m !== target)])
      await this.cli(m.port, "CLUSTER", "SETSLOT", s, "NODE", targetId);
    return { source: source.port, target: target.port };
  }

  /** kill -9 of one node (its index in `ports`). */
  async kill(i: number): Promise<void> {
    await this.procs[i]?.stop("SIGKILL");
    this.procs[i] = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p?.stop("SIGKILL")));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
