/**
 * One `tcp:` service: accept clients, pick a server from the current routing snapshot, connect
 * (with connect_timeout and a retry on the next server), send the PROXY header if configured,
 * then relay bytes. Full servers (maxconn) make clients wait in a bounded FIFO for
 * queue_timeout; when nothing is up, the sorry_server takes the client (keepalived
 * sorry_server).
 *
 * Established connections are never cut by a snapshot change (a server going down or being
 * removed by a reload): LVS keeps existing connections of a removed or weight-0 real server,
 * and HAProxy keeps them unless `on-marked-down shutdown-sessions`. We follow both defaults; a
 * dead server ends its connections by itself (RST/FIN), which the relay forwards.
 */
import net from "node:net";
import { formatHostPort } from "../config/schema/common.js";
import { BackendError } from "../errors.js";
import { type Algorithm, createAlgorithm } from "./algorithms/index.js";
import {
  newServerCounters,
  newServiceCounters,
  type ServerCounters,
  type ServiceCounters,
} from "./counters.js";
import { Deadlines } from "./deadlines.js";
import { DirectReader } from "./direct-reader.js";
import { LinkTable, type LiveCounters } from "./links.js";
import { bindListener, configureAccepted } from "./listener.js";
import { AffinityTable } from "./persistence.js";
import { proxyHeader } from "./proxy-protocol.js";
import { eligible, pick, type Tiers, tiersOf, withFreeSlot } from "./route.js";
import type { HealthReporter, TcpServiceOptions } from "./service-options.js";
import type { RoutingSnapshot, ServerView, TcpServiceShape } from "./snapshot.js";
import { splice } from "./splice.js";
import { WaitQueue } from "./wait-queue.js";

export type { HealthReporter, TcpServiceOptions } from "./service-options.js";

interface Pending {
  client: net.Socket;
  tried: Set<string> | undefined;
  attempts: number;
  waiter: { cancel(): void } | undefined;
  /** The server socket while it is connecting. */
  up: net.Socket | undefined;
}

const ignore = () => {};

export class TcpService {
  readonly counters: ServiceCounters = newServiceCounters();
  /** Per-server counters, keyed by ServerView.id; kept across snapshots. Bytes: closed only. */
  readonly serverCounters = new Map<string, ServerCounters>();
  private snap: RoutingSnapshot;
  private tiers: Tiers;
  private algo: Algorithm;
  private affinity: AffinityTable | undefined;
  private queue: WaitQueue<Pending>;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly links = new LinkTable();
  private readonly deadlines = new Deadlines();
  private readonly maxAttempts: number;
  private readonly onConnection = (c: net.Socket) => this.accept(c);
  private readonly counterOf = (id: string) => this.countersFor(id);

  constructor(
    readonly name: string,
    private cfg: TcpServiceShape,
    initial: RoutingSnapshot,
    private readonly health: HealthReporter | undefined = undefined,
    private readonly opts: TcpServiceOptions = {},
  ) {
    this.snap = initial;
    this.tiers = tiersOf(initial);
    this.algo = createAlgorithm(cfg.balance);
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.affinity = AffinityTable.forSeconds(cfg.persistence_timeout, opts.maxAffinity);
    this.queue = new WaitQueue(opts.maxQueue ?? 10_000, cfg.queue_timeout);
    for (const s of initial.servers) this.countersFor(s.id);
  }

  get config(): TcpServiceShape {
    return this.cfg;
  }

  snapshot(): RoutingSnapshot {
    return this.snap;
  }

  /** The listening socket (the balancer hands it to worker processes). */
  listener(): net.Server | undefined {
    return this.server;
  }

  /** Swaps the routing snapshot (control plane). Queued clients get any capacity it adds. */
  setSnapshot(s: RoutingSnapshot): void {
    this.snap = s;
    this.tiers = tiersOf(s);
    for (const v of s.servers) this.countersFor(v.id);
    this.drainQueue();
  }

  /**
   * Reload with the same listener: new settings and servers apply to new connections; open
   * connections and queued clients stay. Rotation and affinity state restart only when the
   * algorithm or the persistence timeout changed.
   */
  reconfigure(cfg: TcpServiceShape, s: RoutingSnapshot): void {
    const old = this.cfg;
    this.cfg = cfg;
    if (cfg.balance !== old.balance) this.algo = createAlgorithm(cfg.balance);
    if (cfg.persistence_timeout !== old.persistence_timeout) {
      this.affinity?.stopSweeper();
      this.affinity = AffinityTable.forSeconds(cfg.persistence_timeout, this.opts.maxAffinity);
      if (this.server) this.affinity?.startSweeper();
    }
    if (cfg.queue_timeout !== old.queue_timeout) {
      const prev = this.queue;
      this.queue = new WaitQueue(this.opts.maxQueue ?? 10_000, cfg.queue_timeout);
      for (let p = prev.shift(); p !== undefined; p = prev.shift()) this.enqueue(p, false);
    }
    this.setSnapshot(s);
  }

  countersFor(id: string): ServerCounters {
    let c = this.serverCounters.get(id);
    if (!c) this.serverCounters.set(id, (c = newServerCounters()));
    return c;
  }

  /** Counters plus the bytes open connections have moved so far. */
  liveCounters(): LiveCounters {
    return this.links.live(this.counters, this.serverCounters, this.queue.length);
  }

  async listen(): Promise<net.AddressInfo | string> {
    const server = await bindListener(
      this.cfg.listen,
      this.cfg.backlog,
      `tcp service ${this.name}`,
    );
    this.adopt(server);
    const addr = server.address();
    if (addr === null) throw new Error("listener has no address");
    return addr;
  }

  /**
   * Serves a listening socket bound elsewhere (a worker process receives the primary's socket
   * over IPC; the kernel then hands each accepted connection to one of the processes).
   */
  adopt(server: net.Server): void {
    configureAccepted(server);
    server.on("connection", this.onConnection);
    server.on("error", () => {}); // accept errors (EMFILE) are retried by libuv
    this.server = server;
    this.affinity?.startSweeper();
  }

  /**
   * Stops accepting and fails queued clients. Without `drain`, every open connection is
   * destroyed too; with it (reload removed the service) they run to their natural end.
   */
  async close(opts: { drain?: boolean } = {}): Promise<void> {
    this.affinity?.stopSweeper();
    const server = this.server;
    this.server = undefined;
    // net.Server.close() stops listening at once, but its callback waits for every accepted
    // connection to end: only worth awaiting when we end them ourselves.
    const closed = new Promise<void>((r) => (server?.listening ? server.close(() => r()) : r()));
    server?.off("connection", this.onConnection);
    this.queue.clear();
    if (opts.drain) return;
    this.deadlines.clear();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(client: net.Socket): void {
    this.counters.connectionsTotal++;
    this.counters.active++;
    this.sockets.add(client);
    const p: Pending = { client, tried: undefined, attempts: 0, waiter: undefined, up: undefined };
    // Until the relay owns it, a client error only ends the attempt ('close' follows).
    client.on("error", ignore);
    // One listener for the whole life of the client: leave the queue, abort a connect in
    // progress, and untrack (fewer listeners and no once() wrappers per connection).
    client.on("close", () => {
      this.sockets.delete(client);
      p.waiter?.cancel();
      p.up?.destroy();
      this.counters.queueLength = this.queue.length;
      this.counters.active--;
    });
    this.dispatch(p);
  }

  private dispatch(p: Pending): void {
    if (p.client.destroyed) return;
    const tier = eligible(this.tiers, p.tried);
    if (tier.length === 0) {
      if (this.snap.sorry) this.connectSorry(p);
      else {
        this.counters.noServer++;
        p.client.destroy();
      }
      return;
    }
    const free = withFreeSlot(this.tiers, tier, this.counterOf);
    if (free.length === 0) {
      this.enqueue(p, true);
      return;
    }
    // The clock matters only to affinity expiry and slowstart ramps.
    const now = this.affinity !== undefined || this.snap.slowstartMs > 0 ? Date.now() : 0;
    const needIp = this.affinity !== undefined || this.algo.name === "sh";
    const ip = needIp ? (p.client.remoteAddress ?? "") : "";
    if (this.affinity) {
      const sticky = this.affinity.get(ip, now);
      const v = sticky === undefined ? undefined : free.find((s) => s.id === sticky);
      if (v) {
        this.affinity.set(ip, v.id, now);
        this.connect(p, v);
        return;
      }
    }
    const view = pick(this.algo, free, this.snap, this.counterOf, ip, now);
    this.affinity?.set(ip, view.id, now);
    this.connect(p, view);
  }

  private enqueue(p: Pending, fresh: boolean): void {
    const w = this.queue.push(p, () => {
      this.counters.queueTimeouts++;
      this.counters.queueLength = this.queue.length;
      p.client.destroy();
    });
    if (!w) {
      this.counters.queueFull++;
      p.client.destroy();
      return;
    }
    p.waiter = w;
    if (fresh) this.counters.queuedTotal++;
    this.counters.queueLength = this.queue.length;
  }

  /** Serves queued clients, oldest first, while some server has a free slot. */
  private drainQueue(): void {
    while (this.queue.length > 0) {
      const tier = eligible(this.tiers, undefined);
      if (tier.length > 0 && withFreeSlot(this.tiers, tier, this.counterOf).length === 0) break;
      const p = this.queue.shift();
      if (!p) break;
      p.waiter = undefined;
      this.dispatch(p);
    }
    this.counters.queueLength = this.queue.length;
  }

  private connect(p: Pending, v: ServerView): void {
    p.attempts++;
    const sc = this.countersFor(v.id);
    sc.active++; // reserve the slot now, so maxconn holds while connecting
    const direct = new DirectReader();
    const up = net.connect({
      host: v.host,
      port: v.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: direct.onread,
    });
    this.sockets.add(up);
    p.up = up;
    const timer = this.deadlines.add(this.cfg.connect_timeout, () =>
      up.destroy(new BackendError("KC_BACKEND_TIMEOUT", v.id, "connect timeout")),
    );
    let settled = false;
    const onFail = (e?: Error) => {
      if (settled) return;
      settled = true;
      p.up = undefined;
      this.deadlines.cancel(timer);
      sc.active--;
      if (e === undefined || p.client.destroyed) return this.drainQueue(); // client left first
      sc.connectFailures++;
      this.counters.connectFailures++;
      this.health?.reportFailure(`${this.name}/${v.id}`, `connect: ${e.message}`);
      // Only a retry needs to know what was tried, so the common path allocates no set.
      (p.tried ??= new Set()).add(v.id);
      if (p.attempts < this.maxAttempts) this.dispatch(p);
      else {
        this.counters.noServer++;
        p.client.destroy();
      }
      this.drainQueue();
    };
    // These stay attached for the socket's life; after the connect they are no-ops (settled)
    // apart from untracking, and the relay adds its own error handling.
    up.on("error", onFail);
    up.on("close", () => {
      this.sockets.delete(up);
      onFail(undefined);
    });
    up.on("connect", () => {
      if (settled) return;
      settled = true;
      p.up = undefined;
      this.deadlines.cancel(timer);
      this.health?.reportSuccess(`${this.name}/${v.id}`);
      sc.connectionsTotal++;
      this.startRelay(p.client, up, v.id, sc, direct, () => {
        sc.active--;
        this.drainQueue();
      });
    });
  }

  private connectSorry(p: Pending): void {
    const s = this.snap.sorry;
    if (!s) {
      p.client.destroy();
      return;
    }
    this.counters.sorryConnections++;
    const up = net.connect({ host: s.host, port: s.port, allowHalfOpen: true, noDelay: true });
    this.sockets.add(up);
    p.up = up;
    up.on("close", () => this.sockets.delete(up));
    const timer = this.deadlines.add(this.cfg.connect_timeout, () =>
      up.destroy(
        new BackendError("KC_BACKEND_TIMEOUT", formatHostPort(s.host, s.port), "connect timeout"),
      ),
    );
    up.once("error", () => {
      p.up = undefined;
      this.deadlines.cancel(timer);
      this.counters.noServer++;
      p.client.destroy();
    });
    up.once("connect", () => {
      p.up = undefined;
      this.deadlines.cancel(timer);
      up.removeAllListeners("error");
      this.startRelay(p.client, up, "", undefined, undefined, () => {});
    });
  }

  private startRelay(
    client: net.Socket,
    up: net.Socket,
    id: string,
    sc: ServerCounters | undefined,
    direct: DirectReader | undefined,
    done: () => void,
  ): void {
    if (this.cfg.proxy_protocol !== "none") {
      up.write(
        proxyHeader(this.cfg.proxy_protocol, {
          srcIp: client.remoteAddress ?? "",
          srcPort: client.remotePort ?? 0,
          dstIp: client.localAddress ?? "",
          dstPort: client.localPort ?? 0,
        }),
      );
    }
    const unlink = this.links.add(client, up, id);
    splice(
      client,
      up,
      (t) => {
        unlink();
        this.counters.bytesIn += t.fromClient;
        this.counters.bytesOut += t.fromServer;
        if (sc) {
          sc.bytesIn += t.fromClient;
          sc.bytesOut += t.fromServer;
        }
        done();
      },
      direct,
    );
  }
}
