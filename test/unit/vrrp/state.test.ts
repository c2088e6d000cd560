import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../../src/vrrp/clock.js";
import { type Action, type InstanceConfig, VrrpInstance } from "../../../src/vrrp/state.js";
import { SyncGroup } from "../../../src/vrrp/sync.js";
import { masterDownIntervalMs, skewTimeMs } from "../../../src/vrrp/timing.js";

/** A LAN of routers for one VRID: adverts are delivered to every other live router at once. */
class Lan {
  readonly clock = new FakeClock();
  readonly routers = new Map<string, { inst: VrrpInstance; log: Action[]; up: boolean }>();
  readonly transitions: string[] = [];
  partitioned = false;

  add(ip: string, over: Partial<InstanceConfig> = {}): VrrpInstance {
    const cfg: InstanceConfig = {
      name: `R${ip}`,
      version: 2,
      vrid: 1,
      priority: 100,
      adverIntCs: 100,
      initialState: "BACKUP",
      nopreempt: false,
      preemptDelayMs: 0,
      primaryIp: ip,
      ...over,
    };
    const log: Action[] = [];
    const inst = new VrrpInstance(cfg, this.clock, (a) => {
      if (!this.routers.get(ip)?.up) return; // a crashed router sends nothing
      log.push(a);
      if (a.type === "state") this.transitions.push(`${this.clock.now()} ${ip} ${a.to}`);
      if (a.type === "advert") this.deliver(ip, a.priority, inst.cfg.adverIntCs);
    });
    this.routers.set(ip, { inst, log, up: true });
    return inst;
  }

  deliver(from: string, priority: number, adverIntCs: number): void {
    for (const [ip, r] of this.routers) {
      if (ip !== from && r.up && !this.partitioned)
        r.inst.receiveAdvert({ priority, src: from, adverIntCs });
    }
  }

  /** The router dies silently (no priority-0 advert). */
  crash(ip: string): void {
    this.routers.get(ip)!.up = false;
  }

  masters(): string[] {
    return [...this.routers].filter(([, r]) => r.up && r.inst.state === "MASTER").map(([ip]) => ip);
  }
}

describe("VRRP timing (RFC 3768 §6.1, RFC 5798 §6.1)", () => {
  test("formulas", () => {
    assert.equal(skewTimeMs(2, 100, 100), 609.375);
    assert.equal(masterDownIntervalMs(2, 100, 100), 3609.375);
    assert.equal(skewTimeMs(3, 100, 10), 60.9375);
    assert.equal(masterDownIntervalMs(3, 100, 10), 360.9375);
    assert.equal(skewTimeMs(2, 255, 100), 1000 / 256);
  });
});

describe("VRRP state machine", () => {
  test("election by priority; backup takes over Master_Down_Interval after the master dies", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.1", { priority: 150 });
    const b = lan.add("10.0.0.2", { priority: 100 });
    a.startup();
    b.startup();
    // Both start as BACKUP; a's Master_Down_Interval is 3 + 106/256 s = 3414.0625 ms.
    lan.clock.advance(3414);
    assert.deepEqual(lan.masters(), []);
    lan.clock.advance(1);
    assert.deepEqual(lan.masters(), ["10.0.0.1"]);
    assert.equal(b.state, "BACKUP");
    // a's only advert went out at 3414.0625; b's down timer = 3 + 156/256 s from then.
    lan.crash("10.0.0.1");
    lan.clock.advance(7023 - lan.clock.now());
    assert.equal(b.state, "BACKUP");
    lan.clock.advance(1);
    assert.equal(b.state, "MASTER");
    assert.deepEqual(lan.transitions.at(-1), "7023.4375 10.0.0.2 MASTER");
  });

  test("two BACKUPs with no master: the higher priority wins, lower stays backup", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.1", { priority: 90 });
    const b = lan.add("10.0.0.2", { priority: 200 });
    a.startup();
    b.startup();
    lan.clock.advance(10_000);
    assert.deepEqual(lan.masters(), ["10.0.0.2"]);
    assert.equal(a.state, "BACKUP");
  });

  test("equal priority: the higher primary IP wins (RFC 5798 §6.4.3)", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.9");
    const b = lan.add("10.0.0.10");
    lan.partitioned = true; // split brain: both become master
    a.startup();
    b.startup();
    lan.clock.advance(5000);
    assert.deepEqual(lan.masters(), ["10.0.0.9", "10.0.0.10"]);
    lan.partitioned = false; // healed: the next adverts resolve it
    lan.clock.advance(1000);
    assert.deepEqual(lan.masters(), ["10.0.0.10"]);
  });

  test("priority-0 advert on shutdown: backup takes over after Skew_Time only", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.1", { priority: 150 });
    const b = lan.add("10.0.0.2", { priority: 100 });
    a.startup();
    b.startup();
    lan.clock.advance(4200);
    assert.equal(a.state, "MASTER");
    const t0 = lan.clock.now();
    a.shutdown();
    lan.routers.delete("10.0.0.1");
    lan.clock.advance(609);
    assert.equal(b.state, "BACKUP");
    lan.clock.advance(1);
    assert.equal(b.state, "MASTER");
    assert.equal(lan.transitions.at(-1), `${t0 + 609.375} 10.0.0.2 MASTER`);
    const aLog = lan.routers.get("10.0.0.2")!.log;
    assert.ok(aLog.some((x) => x.type === "garp"));
  });

  test("preemption: a returning higher-priority router takes over after its down interval", () => {
    const lan = new Lan();
    const b = lan.add("10.0.0.2", { priority: 100 });
    b.startup();
    lan.clock.advance(5000);
    assert.equal(b.state, "MASTER");
    const a = lan.add("10.0.0.1", { priority: 150 });
    a.startup();
    // a ignores b's lower-priority adverts and becomes master when its timer runs out.
    lan.clock.advance(3000 + ((256 - 150) * 1000) / 256 + 1);
    assert.equal(a.state, "MASTER");
    assert.equal(b.state, "BACKUP");
    const bLog = lan.routers.get("10.0.0.2")!.log;
    assert.ok(bLog.some((x) => x.type === "remove_vips"));
  });

  test("nopreempt: a higher-priority backup does not take over from a live master", () => {
    const lan = new Lan();
    const b = lan.add("10.0.0.2", { priority: 100, nopreempt: true });
    b.startup();
    lan.clock.advance(5000);
    const a = lan.add("10.0.0.1", { priority: 150, nopreempt: true });
    a.startup();
    lan.clock.advance(30_000);
    assert.deepEqual(lan.masters(), ["10.0.0.2"]);
  });

  test("preempt_delay: preemption waits the delay after first seeing the lower master", () => {
    const lan = new Lan();
    const b = lan.add("10.0.0.2", { priority: 100 });
    b.startup();
    lan.clock.advance(5000);
    const a = lan.add("10.0.0.1", { priority: 150, preemptDelayMs: 10_000 });
    a.startup();
    lan.clock.advance(9000);
    assert.equal(a.state, "BACKUP");
    lan.clock.advance(5000); // delay passed at ~t=15000, then a further Master_Down_Interval
    assert.equal(a.state, "MASTER");
    assert.equal(b.state, "BACKUP");
  });

  test("state MASTER still starts as BACKUP (keepalived 2.2.7 measured): first advert after Master_Down_Interval", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.1", { initialState: "MASTER" });
    a.startup();
    assert.equal(a.state, "BACKUP");
    lan.clock.advance(3609);
    assert.equal(a.state, "BACKUP");
    lan.clock.advance(1);
    assert.equal(a.state, "MASTER");
  });

  test("address owner (255) becomes master at startup and wins", () => {
    const lan = new Lan();
    const b = lan.add("10.0.0.2", { priority: 254, initialState: "MASTER" });
    b.startup();
    lan.clock.advance(1000);
    const a = lan.add("10.0.0.1", { priority: 255 });
    a.startup();
    assert.equal(a.state, "MASTER");
    lan.clock.advance(1000);
    assert.equal(b.state, "BACKUP");
  });

  test("v3 backups learn the master's advert interval", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.1", { version: 3, priority: 200, adverIntCs: 10 });
    const b = lan.add("10.0.0.2", { version: 3, priority: 100, adverIntCs: 100 });
    a.startup();
    b.startup();
    lan.clock.advance(5000);
    assert.equal(a.state, "MASTER");
    assert.equal(b.masterDownMs, 360.9375);
    lan.crash("10.0.0.1");
    lan.clock.advance(361);
    assert.equal(b.state, "MASTER");
  });

  test("tracker weights lower the master below the backup → failover; weight-0 → FAULT", () => {
    const lan = new Lan();
    const a = lan.add("10.0.0.1", { priority: 101 });
    const b = lan.add("10.0.0.2", { priority: 100 });
    a.startup();
    b.startup();
    lan.clock.advance(5000);
    assert.equal(a.state, "MASTER");
    a.setTrackerSum(-20);
    assert.equal(a.priority, 81);
    lan.clock.advance(4000);
    assert.equal(b.state, "MASTER");
    assert.equal(a.state, "BACKUP");
    a.setTrackerSum(-500);
    assert.equal(a.priority, 1);
    b.setFault("chk", true);
    assert.equal(b.state, "FAULT");
    const bLog = lan.routers.get("10.0.0.2")!.log;
    assert.deepEqual(
      bLog.slice(-4).map((x) => x.type),
      ["advert", "remove_vips", "state", "notify"],
    );
    assert.deepEqual(bLog.at(-1), {
      type: "notify",
      state: "FAULT",
      argv: ["INSTANCE", "R10.0.0.2", "FAULT", "100"],
    });
    lan.clock.advance(1000);
    assert.equal(a.state, "MASTER"); // priority-0 from b → skew time
    b.setFault("chk", false);
    assert.equal(b.state, "BACKUP");
    lan.clock.advance(10_000);
    assert.equal(b.state, "MASTER"); // preempts a (priority 1)
  });

  test("sync group: members move together, FAULT in one faults all", () => {
    const clock = new FakeClock();
    const actions: Action[] = [];
    const mk = (name: string, vrid: number) =>
      new VrrpInstance(
        {
          name,
          version: 2,
          vrid,
          priority: 100,
          adverIntCs: 100,
          initialState: "BACKUP",
          nopreempt: false,
          preemptDelayMs: 0,
          primaryIp: "10.0.0.1",
        },
        clock,
        (a) => actions.push(a),
      );
    const http = mk("http", 1);
    const mysql = mk("mysql", 2);
    const g = new SyncGroup("VG_1", [http, mysql], (a) => actions.push(a));
    http.startup();
    mysql.startup();
    // mysql keeps hearing a master; http does not → http's timer fires → both MASTER.
    clock.advance(2000);
    mysql.receiveAdvert({ priority: 200, src: "10.0.0.9", adverIntCs: 100 });
    clock.advance(1700);
    assert.equal(http.state, "MASTER");
    assert.equal(mysql.state, "MASTER");
    assert.equal(g.state, "MASTER");
    // A better advert for one member sends both to BACKUP.
    mysql.receiveAdvert({ priority: 200, src: "10.0.0.9", adverIntCs: 100 });
    assert.equal(http.state, "BACKUP");
    assert.equal(mysql.state, "BACKUP");
    http.setFault("eth1", true);
    assert.equal(mysql.state, "FAULT");
    assert.ok(actions.some((a) => a.type === "notify" && a.argv.join(" ") === "GROUP VG_1 FAULT"));
    http.setFault("eth1", false);
    assert.equal(http.state, "BACKUP");
    assert.equal(mysql.state, "BACKUP");
  });
});
