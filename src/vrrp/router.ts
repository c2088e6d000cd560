/**
 * One virtual router on the host: the pure VrrpInstance (state.ts) plus its I/O — the raw
 * socket (socket.ts), the VIPs and gratuitous ARP (address.ts). Actions the state machine emits
 * are carried out here; address changes run one at a time, in order, so a quick
 * MASTER→BACKUP→MASTER never leaves the VIP removed after it was re-added.
 */
import type { VrrpInstanceConfig } from "../config/index.js";
import { KeepcacheError } from "../errors.js";
import type { Logger } from "../log.js";
import { addVip, GarpTimer, parseVip, removeVip, sendGarp, type Vip } from "./address.js";
import type { Clock } from "./clock.js";
import { instanceConfig, receiverConfig } from "./from-config.js";
import { type AdvertInput, encodeAdvert } from "./packet.js";
import { checkDatagram, type ReceiverConfig } from "./receive.js";
import { CounterSource, ReplayGuard } from "./replay.js";
import { VrrpSocket } from "./socket.js";
import { type Action, VrrpInstance, type VrrpState } from "./state.js";

export interface RouterStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  state: VrrpState;
  priority: number;
  basePriority: number;
  vips: string[];
  /** Who is master as far as we know: us, or the source of the last accepted advert. */
  masterIp: string | undefined;
  held: boolean;
  /** Wall-clock ms of the last state change. */
  since: number;
  /** State changes since start (a flapping VIP shows as a fast-growing count). */
  transitions: number;
  advertsSent: number;
  advertsReceived: number;
  drops: Record<string, number>;
}

export interface RouterDeps {
  clock: Clock;
  log: Logger;
  /** Our source address (unicast_src_ip or the interface's primary IPv4). */
  src: string;
  /** Runs notify scripts for an instance-level notify action. */
  notify(a: Extract<Action, { type: "notify" }>): void;
}

export class Router {
  readonly inst: VrrpInstance;
  readonly vips: Vip[];
  private readonly excluded: Vip[];
  private readonly recv: ReceiverConfig;
  private sock: VrrpSocket | undefined;
  private garp: GarpTimer | undefined;
  private addrChain: Promise<void> = Promise.resolve();
  private pendingSends = new Set<Promise<void>>();
  private readonly counter = new CounterSource();
  private readonly replay = new ReplayGuard();
  private masterIp: string | undefined;
  private since = Date.now();
  private transitions = 0;
  private sent = 0;
  private received = 0;
  private readonly drops: Record<string, number> = {};

  constructor(
    readonly cfg: VrrpInstanceConfig,
    private readonly deps: RouterDeps,
  ) {
    if (cfg.authentication?.auth_type === "AH") {
      throw new KeepcacheError(
        "KC_VRRP",
        `${cfg.name}: auth_type AH is not supported (RFC 3768 §5.3.6.3 removed it); use PASS or HMAC`,
      );
    }
    this.vips = cfg.virtual_ipaddress.map((l) => parseVip(l, cfg.interface));
    this.excluded = cfg.virtual_ipaddress_excluded.map((l) => parseVip(l, cfg.interface));
    if (this.vips.some((v) => v.family === 6)) {
      throw new KeepcacheError(
        "KC_VRRP",
        `${cfg.name}: IPv6 virtual routers are not supported yet; move IPv6 addresses to virtual_ipaddress_excluded`,
      );
    }
    this.recv = receiverConfig(cfg);
    this.inst = new VrrpInstance(instanceConfig(cfg, deps.src), deps.clock, (a) => this.handle(a));
  }

  /** Opens the socket and clears any VIP a crashed predecessor left behind; then startup(). */
  async start(): Promise<void> {
    this.sock = VrrpSocket.open({
      ifname: this.cfg.interface,
      src: this.deps.src,
      unicastPeers: this.cfg.unicast_peer,
      onDatagram: (d) => this.onDatagram(d),
      onError: (err) => this.deps.log.error({ err, instance: this.cfg.name }, "VRRP socket error"),
    });
    await this.queue(() => this.removeAll());
    this.inst.startup();
  }

  status(): RouterStatus {
    return {
      name: this.cfg.name,
      interface: this.cfg.interface,
      vrid: this.cfg.virtual_router_id,
      version: this.cfg.version,
      state: this.inst.state,
      priority: this.inst.priority,
      basePriority: this.cfg.priority,
      vips: this.vips.map((v) => `${v.address}/${v.prefix}`),
      masterIp: this.inst.state === "MASTER" ? this.deps.src : this.masterIp,
      held: this.inst.isHeld,
      since: this.since,
      transitions: this.transitions,
      advertsSent: this.sent,
      advertsReceived: this.received,
      drops: { ...this.drops },
    };
  }

  /** Leaves MASTER with priority-0 adverts, removes the VIPs, closes the socket. */
  async stop(shutdownAdverts: number): Promise<void> {
    const wasMaster = this.inst.state === "MASTER";
    this.inst.shutdown();
    // keepalived sends one priority-0 advert; `shutdown_adverts` repeats it against loss.
    for (let i = 1; wasMaster && i < shutdownAdverts; i++) this.sendAdvert(0);
    await Promise.allSettled([...this.pendingSends]);
    await this.addrChain;
    this.sock?.close();
    this.sock = undefined;
  }

  private handle(a: Action): void {
    const log = this.deps.log;
    switch (a.type) {
      case "advert":
        this.sendAdvert(a.priority);
        return;
      case "add_vips":
        this.queue(() => this.addAll());
        return;
      case "remove_vips":
        this.garp?.cancel();
        this.garp = undefined;
        this.queue(() => this.removeAll());
        return;
      case "garp": {
        this.garp?.cancel();
        const g = new GarpTimer(this.deps.clock, (n) => this.queue(() => this.announce(n)));
        this.garp = g;
        g.start(a.schedule);
        return;
      }
      case "state":
        this.since = Date.now();
        this.transitions++;
        if (a.to !== "BACKUP") this.masterIp = undefined;
        log.info(
          {
            instance: this.cfg.name,
            from: a.from,
            to: a.to,
            reason: a.reason,
            priority: this.inst.priority,
          },
          `${this.cfg.name}: ${a.from} -> ${a.to}`,
        );
        return;
      case "notify":
        this.deps.notify(a);
        return;
    }
  }

  private queue(fn: () => Promise<void>): Promise<void> {
    const next = this.addrChain.then(fn).catch((err: unknown) => {
      this.deps.log.error({ err, instance: this.cfg.name }, "VIP change failed");
    });
    this.addrChain = next;
    return next;
  }

  private async addAll(): Promise<void> {
    for (const v of [...this.vips, ...this.excluded]) await addVip(v);
  }

  private async removeAll(): Promise<void> {
    for (const v of [...this.vips, ...this.excluded]) await removeVip(v);
  }

  private async announce(count: number): Promise<void> {
    if (this.inst.state !== "MASTER") return;
    const onError = (err: Error) =>
      this.deps.log.warn({ err, instance: this.cfg.name }, "gratuitous ARP failed");
    for (const v of this.vips) sendGarp(v, count, onError);
  }

  private sendAdvert(priority: number): void {
    const sock = this.sock;
    if (!sock) return;
    const c = this.cfg;
    const auth = c.authentication;
    const input: AdvertInput = {
      version: c.version,
      vrid: c.virtual_router_id,
      priority,
      addresses: this.vips.map((v) => v.address),
      adverIntCs: Math.round(c.advert_int * 100),
      authPass: auth?.auth_type === "PASS" ? auth.auth_pass : undefined,
    };
    for (const dst of sock.destinations()) {
      const msg = encodeAdvert(input, {
        pseudo: { src: sock.src, dst },
        v3Checksum: c.v3_checksum_as_v2 ? "as_v2" : "rfc",
        hmac:
          auth?.auth_type === "HMAC" && auth.secret
            ? { secret: auth.secret, counter: this.counter.next() }
            : undefined,
      });
      const p = sock
        .send(msg, dst)
        .then(() => {
          this.sent++;
        })
        .catch((err: unknown) =>
          this.deps.log.warn({ err, instance: c.name, dst }, "advert send failed"),
        )
        .finally(() => this.pendingSends.delete(p));
      this.pendingSends.add(p);
    }
  }

  private onDatagram(d: Buffer): void {
    const v = checkDatagram(d, this.recv);
    if (!v.ok) {
      // Another VRID on the same link is normal traffic, not a drop worth counting.
      if (v.reason === "vrid") return;
      this.drops[v.reason] = (this.drops[v.reason] ?? 0) + 1;
      this.deps.log.debug(
        { instance: this.cfg.name, reason: v.reason, detail: v.detail },
        "advert dropped",
      );
      return;
    }
    const src = v.src ?? "";
    if (v.advert.hmacCounter !== undefined && !this.replay.accept(src, v.advert.hmacCounter)) {
      this.drops.replay = (this.drops.replay ?? 0) + 1;
      return;
    }
    for (const w of v.warnings) this.deps.log.warn({ instance: this.cfg.name, src }, w);
    this.received++;
    if (v.advert.priority > 0) this.masterIp = src;
    this.inst.receiveAdvert({ priority: v.advert.priority, src, adverIntCs: v.advert.adverIntCs });
  }
}
