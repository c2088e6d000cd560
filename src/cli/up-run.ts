/**
 * The body of `keepcache up` (up.ts parses the flags): starts the member processes, the proxy
 * pool (one replica set over them, up-pool.ts: its own monitor does the failover) and the
 * admin plane, prints where everything is, and on SIGINT/SIGTERM stops it all in reverse
 * order, waiting for every child to exit.
 */
import { tmpdir } from "node:os";
import { ActionError } from "../admin/actions.js";
import { AdminServer } from "../admin/http.js";
import type { AdminListen } from "../admin/listen.js";
import { attachProxy } from "../admin/sources/proxy.js";
import { proxyReadyChecks } from "../admin/sources/proxy-ready.js";
import { attachReplicaSetEvents } from "../admin/sources/replicaset.js";
import { KeepcacheError } from "../errors.js";
import { poolActionHandlers, replicaSetMemberHook, setFailovers } from "../failover/admin.js";
import { child, type Logger } from "../log.js";
import { ProxyService } from "../proxy/proxy.js";
import { findOnPath } from "../scripts/path.js";
import { poolsDump } from "./dumps.js";
import { addDumpSection } from "./signals.js";
import { keepcacheProbe, MemberView, memberAdminHeaders, redisProbe } from "./up-nodes.js";
import { upPoolConfig, upSet } from "./up-pool.js";
import { Child, freePort, scratchRedisArgs } from "./up-procs.js";

/** `keepcache up`'s flags, parsed by up.ts. */
export interface UpArgs {
  port: number;
  admin: AdminListen;
  redis: boolean;
  verbose: boolean;
}

const POOL = "demo";
const MEMORY_MB = 64;

interface Member {
  name: string;
  port: number;
  proc: Child;
  view: MemberView;
  /** A keepcache node's admin listener (its /metrics); redis-server has none. */
  adminPort?: number;
}

type OnExit = (name: string, how: string) => void;

async function keepcacheMembers(log: Logger, onExit: OnExit): Promise<Member[]> {
  const names = ["node-a", "node-b"];
  const ports: number[][] = [];
  for (const _ of names) ports.push([await freePort(), await freePort(), await freePort()]);
  // This same program, as `keepcache up --child-of PID -- node ...` (stops with its parent).
  const self = [...process.execArgv, process.argv[1], "up", "--child-of", String(process.pid)];
  const peerNames = new Map(names.map((n, i) => [`127.0.0.1:${ports[i][1]}`, n]));
  return names.map((name, i) => {
    const [port, repl, admin] = ports[i];
    const args = [...self, "--", "node", "-p", String(port), "-l", "127.0.0.1"];
    args.push("-m", String(MEMORY_MB), "--node-id", String(i + 1), "--admin", `127.0.0.1:${admin}`);
    args.push("-x", `127.0.0.1:${ports[1 - i][1]}`, "--replication-port", String(repl));
    const proc = new Child({ name, command: process.execPath, args, port }, log, onExit);
    const view = new MemberView(
      name,
      `127.0.0.1:${port}`,
      keepcacheProbe(admin, peerNames),
      () => proc.alive,
      MEMORY_MB * 1024 * 1024,
    );
    return { name, port, proc, view, adminPort: admin };
  });
}

async function redisMembers(redis: string, log: Logger, onExit: OnExit): Promise<Member[]> {
  const names = ["redis-a", "redis-b"];
  const ports = [await freePort(), await freePort()];
  const byAddr = new Map(names.map((n, j) => [`127.0.0.1:${ports[j]}`, n]));
  return names.map((name, i) => {
    const port = ports[i];
    const args = scratchRedisArgs(port, tmpdir());
    args.push("--maxmemory", `${MEMORY_MB}mb`, "--maxmemory-policy", "allkeys-lru");
    // A replica's sync starts at once (Redis 7 otherwise waits 5 s for more replicas).
    args.push("--repl-diskless-sync-delay", "0");
    if (i > 0) args.push("--replicaof", "127.0.0.1", String(ports[0]));
    const proc = new Child({ name, command: redis, args, port }, log, onExit);
    const view = new MemberView(
      name,
      `127.0.0.1:${port}`,
      redisProbe(port, byAddr),
      () => proc.alive,
      MEMORY_MB * 1024 * 1024,
    );
    return { name, port, proc, view };
  });
}

function tryIt(port: number, redis: boolean): string {
  if (redis && findOnPath("redis-cli")) {
    return `redis-cli -p ${port} set hello world && redis-cli -p ${port} get hello`;
  }
  if (!redis && findOnPath("nc")) {
    return `printf 'set hello 0 0 5\\r\\nworld\\r\\nget hello\\r\\n' | nc -q 1 127.0.0.1 ${port}`;
  }
  const req = redis
    ? "*3\\r\\n$3\\r\\nSET\\r\\n$5\\r\\nhello\\r\\n$5\\r\\nworld\\r\\n*2\\r\\n$3\\r\\nGET\\r\\n$5\\r\\nhello\\r\\n"
    : "set hello 0 0 5\\r\\nworld\\r\\nget hello\\r\\n";
  return `node -e 's=require("net").connect(${port},"127.0.0.1",()=>s.write("${req}"));s.pipe(process.stdout);setTimeout(()=>s.end(),300)'`;
}

export async function startUp(
  args: UpArgs & { redisServer: string | undefined },
  log: Logger,
): Promise<number> {
  const redis = args.redisServer !== undefined;
  const admin = new AdminServer({
    listen: args.admin,
    token: process.env.KEEPCACHE_ADMIN_TOKEN,
    metricsToken: process.env.KEEPCACHE_METRICS_TOKEN,
    log: child("admin"),
    source: "--admin",
    streamIntervalMs: 500,
  });
  // Ctrl-C on a terminal signals the whole process group: the members exit on their own then.
  let closing = false;
  const onExit: OnExit = (name, how) => {
    if (closing) return;
    log.warn({ member: name, how }, "member process ended");
    admin.events.push({ kind: "node", subject: name, message: how, level: "warn" });
    // The set would see it within a probe round or two; the exit is certain now.
    const i = members.findIndex((m) => m.name === name);
    if (i >= 0) upSet(proxy, POOL)?.memberFailed(i, `process ${how}`);
  };
  const proxy = new ProxyService(child("proxy"));
  const members = redis
    ? await redisMembers(args.redisServer as string, log, onExit)
    : await keepcacheMembers(log, onExit);
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      for (const m of members) m.view.stop();
      await Promise.allSettled([admin.close(), proxy.stop()]);
      await Promise.allSettled(members.map((m) => m.proc.stop()));
    })();
    return stopping;
  };
  const signalled = new Promise<string>((resolve) => {
    const on = (sig: string) => {
      closing = true;
      resolve(sig);
    };
    process.once("SIGINT", () => on("SIGINT"));
    process.once("SIGTERM", () => on("SIGTERM"));
  });
  try {
    await Promise.all(members.map((m) => m.proc.start()));
    for (const m of members) {
      m.view.start();
      log.info({ member: m.name, port: m.port, memberPid: m.proc.pid }, "member started");
    }
    const cfg = upPoolConfig({
      pool: POOL,
      listenPort: args.port,
      redis,
      memberPorts: members.map((m) => m.port),
    });
    await proxy.start(cfg.pools);
    wireAdmin(admin, proxy, members, log);
    await admin.listen();
  } catch (err) {
    closing = true;
    await shutdown();
    // A busy --port or --admin: the CLI prints the ListenError's one line and exits 3.
    if (err instanceof KeepcacheError) throw err;
    log.error({ err }, "keepcache up failed to start");
    return 1;
  }
  // The SIGUSR1 dump: the pool with its replica set, and each member process.
  addDumpSection("pools", () => poolsDump(proxy));
  addDumpSection("members", () =>
    members.map((m) => ({ ...m.view.status(), pid: m.proc.pid, alive: m.proc.alive })),
  );
  const dash = admin.url();
  const lines = [
    "",
    `keepcache up: ${redis ? "redis master + replica" : "two replicating keepcache nodes"} behind a proxy that fails over`,
    "",
    `  proxy (${redis ? "redis" : "memcached"} protocol)   127.0.0.1:${args.port}    <- point clients here`,
    `  dashboard                   ${dash}`,
    `  metrics                     ${dash}metrics`,
    ...members.map(
      (m, i) =>
        `  ${m.name.padEnd(27)} 127.0.0.1:${m.port}  pid ${m.proc.pid}  ${i === 0 ? "(serving)" : "(standby, replicating)"}`,
    ),
    "",
    "Try it:",
    `  ${tryIt(args.port, redis)}`,
    `Then press "stop" on ${members[0].name} in the dashboard (or kill -9 ${members[0].proc.pid}) and try again.`,
    "Ctrl-C stops everything.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  log.info({ proxy: `127.0.0.1:${args.port}`, dashboard: dash, redis }, "keepcache up ready");
  const sig = await signalled;
  log.info({ signal: sig }, "stopping every process");
  await shutdown();
  log.info("stopped");
  return 0;
}

function wireAdmin(admin: AdminServer, proxy: ProxyService, members: Member[], log: Logger): void {
  const byName = new Map(members.map((m) => [m.name, m]));
  const byAddress = new Map(members.map((m) => [`127.0.0.1:${m.port}`, m.name]));
  const member = replicaSetMemberHook(proxy);
  attachProxy(admin, proxy, {
    // Drain/disable/weight act on whole shards; here the set fails over inside its one shard.
    serverActions: false,
    member: (pool, shard, address) => {
      const info = member(pool, shard, address);
      return { ...info, name: byAddress.get(address) ?? address };
    },
    failovers: (pool) => setFailovers(proxy, pool),
  });
  attachReplicaSetEvents(proxy, admin.events, {
    memberName: (_pool, _set, label) => byAddress.get(label),
  });
  for (const h of poolActionHandlers(proxy)) admin.actions.register(h);
  for (const c of proxyReadyChecks(proxy)) admin.ready.register(c);
  for (const m of members) {
    admin.status.register({ kind: "node", name: m.name, snapshot: () => m.view.status() });
    const port = m.adminPort;
    if (port === undefined) continue;
    // The member's own /metrics in ours, labelled {node}: one scrape target for the cluster.
    admin.metrics.registerRemote({ node: m.name }, async () => {
      if (!m.proc.alive) return undefined;
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: memberAdminHeaders(),
        signal: AbortSignal.timeout(500),
      });
      return r.ok ? await r.text() : undefined;
    });
  }
  admin.actions.register({
    kind: "node",
    name: "*",
    handle: async (a) => {
      if (a.kind !== "node") throw new ActionError(400, "not a node action");
      const m = byName.get(a.node);
      if (m === undefined) throw new ActionError(404, `no node '${a.node}'`);
      if (a.op === "stop") {
        if (!m.proc.alive) throw new ActionError(409, `${m.name} is not running`);
        await m.proc.stop("SIGTERM");
        upSet(proxy, POOL)?.memberFailed(members.indexOf(m), "stopped from the dashboard");
        return { message: `${m.name} stopped` };
      }
      if (m.proc.alive) throw new ActionError(409, `${m.name} is already running`);
      await m.proc.start();
      // The set's monitor sees it answer and brings it back (warmed / repointed) by itself.
      log.info({ member: m.name, memberPid: m.proc.pid }, "member restarted");
      return { message: `${m.name} started (pid ${m.proc.pid})` };
    },
  });
}
