/**
 * One `tcp:` service: accept clients, pick a server from the current routing snapshot, connect
 * (with connect_timeout and a retry on the next server), send the PROXY header if configured,
 * then pipe bytes. Full servers (maxconn) make clients wait in a bounded FIFO for queue_timeout;
 * when nothing is up, the sorry_server takes the client (keepalived sorry_server).
 */
import net from "node:net";
import { type Algorithm, createAlgorithm } from "./algorithms/index.js";
import type { Candidate } from "./algorithms/types.js";
import {
  newServerCounters,
  newServiceCounters,
  type ServerCounters,
  type ServiceCounters,
} from "./counters.js";
import { AffinityTable } from "./persistence.js";
import { proxyHeader } from "./proxy-protocol.js";
import { effectiveWeight } from "./slowstart.js";
import type { RoutingSnapshot, ServerView, TcpServiceShape } from "./snapshot.js";
import { splice } from "./splice.js";
import { WaitQueue } from "./wait-queue.js";

/** Passive health signals to the control plane (the data plane reports, never decides). */
export interface HealthReporter {
  reportFailure(serverId: string, reason: string): void;
  reportSuccess(serverId: string): void;
}

export interface TcpServiceOptions {
  /** Bound of the wait queue (clients beyond it are closed at once). */
  maxQueue?: number;
  /** Connect attempts per client, each on a different server (HAProxy `retries` + 1). */
  maxAttempts?: number;
  /** Bound of the persistence table. */
  maxAffinity?: number;
}

interface Pending {
  client: net.Socket;
  tried: Set<string>;
  attempts: number;
  waiter?: { cancel(): void };
}

type Route =
  | { kind: "server"; view: ServerView }
  | { kind: "queue" }
  | { kind: "sorry" }
  | { kind: "none" };

export class TcpService {
  readonly counters: ServiceCounters = newServiceCounters();
  /** Per-server counters, keyed by ServerView.id; kept across snapshots. */
  readonly serverCounters = new Map<string, ServerCounters>();
  private snap: RoutingSnapshot;
  private readonly algo: Algorithm;
  private readonly affinity: AffinityTable | undefined;
  private readonly queue: WaitQueue<Pending>;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly maxAttempts: number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly cfg: TcpServiceShape,
    initial: RoutingSnapshot,
    private readonly health: HealthReporter | undefined = undefined,
    opts: TcpServiceOptions = {},
  ) {
    this.snap = initial;
    this.algo = createAlgorithm(cfg.balance);
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 3);
    this.affinity =
      cfg.persistence_timeout > 0
        ? new AffinityTable(cfg.persistence_timeout * 1000, opts.maxAffinity)
        : undefined;
    this.queue = new WaitQueue(opts.maxQueue ?? 10_000, cfg.queue_timeout);
    for (const s of initial.servers) this.countersFor(s.id);
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) =>
      this.accept(c),
    );
  }

  snapshot(): RoutingSnapshot {
    return this.snap;
  }

  /** Swaps the routing snapshot (control plane). Queued clients get any capacity it adds. */
  setSnapshot(s: RoutingSnapshot): void {
    this.snap = s;
    for (const v of s.servers) this.countersFor(v.id);
    this.drainQueue();
  }

  countersFor(id: string): ServerCounters {
    let c = this.serverCounters.get(id);
    if (!c) this.serverCounters.set(id, (c = newServerCounters()));
    return c;
  }

  async listen(): Promise<net.AddressInfo | string> {
    const l = this.cfg.listen;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      const done = () => {
        this.server.off("error", reject);
        resolve();
      };
      if (l.kind === "unix") this.server.listen({ path: l.path, backlog: this.cfg.backlog }, done);
      else this.server.listen({ host: l.host, port: l.port, backlog: this.cfg.backlog }, done);
    });
    if (this.affinity) {
      const a = this.affinity;
      this.sweepTimer = setInterval(() => a.sweep(), 10_000);
      this.sweepTimer.unref();
    }
    const addr = this.server.address();
    if (addr === null) throw new Error("listener has no address");
    return addr;
  }

  /** Stops accepting, fails queued clients, and destroys every open connection. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.queue.clear();
    for (const s of this.sockets) s.destroy();
    if (this.server.listening) await closed;
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
  }

  private accept(client: net.Socket): void {
    this.counters.connectionsTotal++;
    this.counters.active++;
    this.track(client);
    const p: Pending = { client, tried: new Set(), attempts: 0 };
    // Until the splice owns it, a client error just ends the attempt.
    const early = () => {
      p.waiter?.cancel();
      this.syncQueueLength();
    };
    client.on("error", early);
    client.once("close", () => {
      early();
      this.counters.active--;
    });
    this.dispatch(p);
  }

  /** Primaries that may take new connections; backups only when no primary can. */
  private tier(tried: ReadonlySet<string>): ServerView[] {
    const all = this.snap.servers;
    const ok = (s: ServerView, backup: boolean) =>
      s.up && s.weight > 0 && s.backup === backup && !tried.has(s.id);
    const primaries = all.filter((s) => ok(s, false));
    return primaries.length > 0 ? primaries : all.filter((s) => ok(s, true));
  }

  private free(tier: ServerView[]): ServerView[] {
    return tier.filter((s) => s.maxconn === 0 || this.countersFor(s.id).active < s.maxconn);
  }

  /** The data plane's only choice: which eligible server, from the snapshot as it is now. */
  private route(p: Pending, now: number): Route {
    const tier = this.tier(p.tried);
    if (tier.length === 0) return this.snap.sorry ? { kind: "sorry" } : { kind: "none" };
    const free = this.free(tier);
    if (free.length === 0) return { kind: "queue" };
    const ip = p.client.remoteAddress ?? "";
    if (this.affinity) {
      const sticky = this.affinity.get(ip, now);
      const v = sticky === undefined ? undefined : free.find((s) => s.id === sticky);
      if (v) {
        this.affinity.set(ip, v.id, now);
        return { kind: "server", view: v };
      }
    }
    const cands: Candidate[] = free.map((s) => ({
      id: s.id,
      weight: effectiveWeight(s.weight, s.upSince, this.snap.slowstartMs, now),
      active: this.countersFor(s.id).active,
    }));
    const view = free[this.algo.pick(cands, { clientIp: ip })];
    this.affinity?.set(ip, view.id, now);
    return { kind: "server", view };
  }

  private dispatch(p: Pending): void {
    if (p.client.destroyed) return;
    const r = this.route(p, Date.now());
    if (r.kind === "server") this.connect(p, r.view);
    else if (r.kind === "queue") this.enqueue(p);
    else if (r.kind === "sorry") this.connectSorry(p);
    else {
      this.counters.noServer++;
      p.client.destroy();
    }
  }

  private enqueue(p: Pending): void {
    const w = this.queue.push(p, () => {
      this.counters.queueTimeouts++;
      this.syncQueueLength();
      p.client.destroy();
    });
    if (!w) {
      this.counters.queueFull++;
      p.client.destroy();
      return;
    }
    p.waiter = w;
    this.counters.queuedTotal++;
    this.syncQueueLength();
  }

  /** Serves queued clients, oldest first, while some server has a free slot. */
  private drainQueue(): void {
    while (this.queue.length > 0) {
      const tier = this.tier(new Set());
      if (tier.length > 0 && this.free(tier).length === 0) break;
      const p = this.queue.shift();
      if (!p) break;
      p.waiter = undefined;
      this.syncQueueLength();
      this.dispatch(p);
    }
    this.syncQueueLength();
  }

  private syncQueueLength(): void {
    this.counters.queueLength = this.queue.length;
  }

  private connect(p: Pending, v: ServerView): void {
    p.attempts++;
    p.tried.add(v.id);
    const sc = this.countersFor(v.id);
    sc.active++; // reserve the slot now, so maxconn holds while connecting
    const up = net.connect({ host: v.host, port: v.port, allowHalfOpen: true });
    this.track(up);
    up.setNoDelay(true);
    const timer = setTimeout(
      () => up.destroy(new Error("connect timeout")),
      this.cfg.connect_timeout,
    );
    let settled = false;
    const onFail = (e?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      p.client.off("close", onClientGone);
      sc.active--;
      if (e === undefined || p.client.destroyed) return this.drainQueue(); // client left first
      sc.connectFailures++;
      this.counters.connectFailures++;
      this.health?.reportFailure(`${this.name}/${v.id}`, `connect: ${e.message}`);
      if (p.attempts < this.maxAttempts) this.dispatch(p);
      else {
        this.counters.noServer++;
        p.client.destroy();
      }
      this.drainQueue();
    };
    const onClientGone = () => up.destroy();
    const onEarlyClose = () => onFail(undefined);
    up.once("error", onFail);
    up.once("close", onEarlyClose);
    p.client.once("close", onClientGone);
    up.once("connect", () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      up.off("error", onFail);
      up.off("close", onEarlyClose);
      p.client.off("close", onClientGone);
      this.health?.reportSuccess(`${this.name}/${v.id}`);
      sc.connectionsTotal++;
      this.startPipe(p.client, up, (t) => {
        sc.active--;
        sc.bytesIn += t.fromClient;
        sc.bytesOut += t.fromServer;
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
    const up = net.connect({ host: s.host, port: s.port, allowHalfOpen: true });
    this.track(up);
    const timer = setTimeout(
      () => up.destroy(new Error("connect timeout")),
      this.cfg.connect_timeout,
    );
    up.once("error", () => {
      clearTimeout(timer);
      this.counters.noServer++;
      p.client.destroy();
    });
    up.once("connect", () => {
      clearTimeout(timer);
      up.removeAllListeners("error");
      this.startPipe(p.client, up, () => {});
    });
  }

  private startPipe(
    client: net.Socket,
    up: net.Socket,
    done: (t: { fromClient: number; fromServer: number }) => void,
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
    splice(client, up, (t) => {
      this.counters.bytesIn += t.fromClient;
      this.counters.bytesOut += t.fromServer;
      done(t);
    });
  }
}
