/**
 * The pure parts of VRRP host I/O: VIP line parsing and ip(8) arguments (address.ts), the GARP
 * schedule (address.ts GarpTimer), the IPv4 header we send (socket.ts) read back by the
 * receive path, keepalived.conf detection (cli/vrrp.ts) and the operator hold (state.ts).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { looksLikeKeepalived } from "../../../src/config/file.js";
import { GarpTimer, ipArgs, parseVip } from "../../../src/vrrp/address.js";
import { FakeClock } from "../../../src/vrrp/clock.js";
import { encodeAdvert } from "../../../src/vrrp/packet.js";
import { checkDatagram } from "../../../src/vrrp/receive.js";
import { ipv4Header } from "../../../src/vrrp/socket.js";
import { type Action, VrrpInstance } from "../../../src/vrrp/state.js";

describe("parseVip / ipArgs", () => {
  test("keepalived's line syntax, with /32 when no mask is given", () => {
    assert.deepEqual(parseVip("10.0.0.100/24 dev eth1 label eth1:1", "eth0"), {
      address: "10.0.0.100",
      prefix: 24,
      family: 4,
      dev: "eth1",
      label: "eth1:1",
    });
    assert.equal(parseVip("10.0.0.100", "eth0").prefix, 32);
    assert.equal(parseVip("fd00::1", "eth0").prefix, 128);
    assert.equal(
      parseVip("  10.0.0.1/8  brd 10.255.255.255 scope global", "eth0").brd,
      "10.255.255.255",
    );
  });

  test("bad lines are refused with KC_VRRP", () => {
    for (const l of ["10.0.0.300/24", "10.0.0.1/33", "10.0.0.1 dev", "10.0.0.1 mtu 9000", ""]) {
      assert.throws(() => parseVip(l, "eth0"), { code: "KC_VRRP" }, l);
    }
  });

  test("ip(8) arguments: add carries label/brd/scope, del only address and device", () => {
    const v = parseVip("10.0.0.100/24 dev eth0 label eth0:1 scope global", "eth0");
    assert.deepEqual(ipArgs("add", v), [
      ...["-4", "addr", "add", "10.0.0.100/24", "dev", "eth0"],
      ...["scope", "global", "label", "eth0:1"],
    ]);
    assert.deepEqual(ipArgs("del", v), ["-4", "addr", "del", "10.0.0.100/24", "dev", "eth0"]);
  });
});

describe("GarpTimer", () => {
  test("bursts at 0 and garp_master_delay, refresh until cancelled", () => {
    const clock = new FakeClock();
    const sent: [number, number][] = [];
    const g = new GarpTimer(clock, (n) => sent.push([clock.now(), n]));
    g.start({
      bursts: [
        { afterMs: 0, count: 5 },
        { afterMs: 5000, count: 5 },
      ],
      refreshMs: 2000,
    });
    clock.advance(6500);
    assert.deepEqual(sent, [
      [0, 5],
      [2000, 1],
      [4000, 1],
      [5000, 5],
      [6000, 1],
    ]);
    g.cancel();
    clock.advance(10_000);
    assert.equal(sent.length, 5);
    assert.equal(clock.pending(), 0);
  });
});

describe("ipv4Header", () => {
  test("what we send passes the receive checks (TTL 255, proto 112, v3 pseudo-header)", () => {
    fc.assert(
      fc.property(
        fc.ipV4(),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 254 }),
        (src, vrid, prio) => {
          const dst = "224.0.0.18";
          const msg = encodeAdvert(
            { version: 3, vrid, priority: prio, addresses: ["10.1.2.3"], adverIntCs: 10 },
            { pseudo: { src, dst } },
          );
          const dgram = Buffer.concat([ipv4Header(src, dst, msg.length), msg]);
          const v = checkDatagram(dgram, {
            vrid,
            version: 3,
            adverIntCs: 10,
            authType: "none",
            addresses: ["10.1.2.3"],
            unicastPeers: [],
          });
          assert.ok(v.ok, v.ok ? "" : v.detail);
          assert.equal(v.src, src);
          assert.equal(v.advert.priority, prio);
          assert.equal(dgram[1], 0xc0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("looksLikeKeepalived", () => {
  test("keepalived blocks vs keepcache YAML", () => {
    assert.ok(looksLikeKeepalived("global_defs {\n router_id a\n}\n"));
    assert.ok(looksLikeKeepalived("# c\nvrrp_instance VI_1 {\n"));
    assert.ok(looksLikeKeepalived("vrrp_script chk\n{\n"));
    assert.equal(looksLikeKeepalived("vrrp:\n  instances:\n    VI_1:\n"), false);
    assert.equal(looksLikeKeepalived("alpha:\n  listen: 127.0.0.1:22121\n"), false);
  });
});

describe("VrrpInstance.forceBackup", () => {
  const cfg = {
    name: "VI_1",
    version: 3 as const,
    vrid: 1,
    priority: 150,
    adverIntCs: 10,
    initialState: "BACKUP" as const,
    nopreempt: false,
    preemptDelayMs: 0,
    primaryIp: "10.0.0.1",
  };

  test("a held master leaves with priority 0 and stays backup until released", () => {
    const clock = new FakeClock();
    const log: Action[] = [];
    const inst = new VrrpInstance(cfg, clock, (a) => log.push(a));
    inst.startup();
    clock.advance(1000);
    assert.equal(inst.state, "MASTER");
    log.length = 0;
    inst.forceBackup(true);
    assert.equal(inst.state, "BACKUP");
    assert.deepEqual(log[0], { type: "advert", priority: 0 });
    assert.ok(log.some((a) => a.type === "remove_vips"));
    clock.advance(10_000);
    assert.equal(inst.state, "BACKUP", "held: no takeover even with nobody advertising");
    assert.equal(inst.isHeld, true);
    inst.forceBackup(false);
    clock.advance(inst.masterDownMs + 1);
    assert.equal(inst.state, "MASTER");
  });
});
