import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfig } from "../../../src/config/index.js";
import {
  instanceConfig,
  receiverConfig,
  scriptConfig,
  vipAddress,
} from "../../../src/vrrp/from-config.js";
import { encodeAdvert } from "../../../src/vrrp/packet.js";
import { checkMessage } from "../../../src/vrrp/receive.js";
import { CounterSource, ReplayGuard } from "../../../src/vrrp/replay.js";

const YAML = `
vrrp:
  scripts:
    chk: { script: "/bin/true", interval: 2, weight: -20 }
  instances:
    VI_1:
      interface: eth0
      virtual_router_id: 51
      priority: 100
      advert_int: 0.5
      version: 3
      preempt_delay: 5
      virtual_ipaddress: [ "192.168.1.100/24 dev eth0 label eth0:1", "192.168.1.101" ]
      authentication: { auth_type: HMAC, secret: "s3cret" }
      track_script: [ chk ]
`;

describe("native config → VRRP core", () => {
  test("units and addresses", () => {
    const cfg = parseConfig(YAML, "t.yml");
    const vi = cfg.vrrp!.instances[0];
    const ic = instanceConfig(vi, "10.0.0.1");
    assert.deepEqual(
      [ic.adverIntCs, ic.preemptDelayMs, ic.garpDelayMs, ic.garpRepeat, ic.primaryIp, ic.version],
      [50, 5000, 5000, 5, "10.0.0.1", 3],
    );
    const rc = receiverConfig(vi);
    assert.deepEqual(rc.addresses, ["192.168.1.100", "192.168.1.101"]);
    assert.equal(rc.authType, "HMAC");
    assert.equal(vipAddress("  fe80::1/64 dev eth0"), "fe80::1");
    const sc = scriptConfig("chk", cfg.vrrp!.scripts.chk);
    assert.deepEqual([sc.intervalMs, sc.timeoutMs, sc.weight], [2000, 2000, -20]);
    // An HMAC advert built from the same config is accepted by it.
    const pseudo = { src: "10.0.0.1", dst: "224.0.0.18" };
    const b = encodeAdvert(
      { version: 3, vrid: 51, priority: 100, addresses: rc.addresses, adverIntCs: 50 },
      { pseudo, hmac: { secret: "s3cret", counter: 1n } },
    );
    assert.equal(checkMessage(b, rc, { ...pseudo, ttl: 255 }).ok, true);
  });

  test("HMAC replay guard and counters", () => {
    const g = new ReplayGuard();
    assert.equal(g.accept("a", 5n), true);
    assert.equal(g.accept("a", 5n), false);
    assert.equal(g.accept("b", 1n), true);
    assert.equal(g.accept("a", 6n), true);
    const c = new CounterSource(() => 1000);
    assert.deepEqual([c.next(), c.next()], [1000n, 1001n]);
  });
});
