import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { proxyV1, proxyV2, V2_SIGNATURE } from "../../../src/tcp/proxy-protocol.js";

// Examples from haproxy doc/proxy-protocol.txt section 2.1.
describe("PROXY protocol v1", () => {
  test("spec examples", () => {
    assert.equal(
      proxyV1({
        srcIp: "255.255.255.255",
        dstIp: "255.255.255.255",
        srcPort: 65535,
        dstPort: 65535,
      }).toString(),
      "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
    );
    const max6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    const l = proxyV1({ srcIp: max6, dstIp: max6, srcPort: 65535, dstPort: 65535 });
    assert.equal(l.toString(), `PROXY TCP6 ${max6} ${max6} 65535 65535\r\n`);
    assert.ok(l.length <= 107); // section 2.1: the longest TCP6 line is 107 bytes
    assert.equal(proxyV1(undefined).toString(), "PROXY UNKNOWN\r\n");
    assert.equal(
      proxyV1({
        srcIp: "192.168.0.1",
        dstIp: "192.168.0.11",
        srcPort: 56324,
        dstPort: 443,
      }).toString(),
      "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
    );
  });

  test("IPv4-mapped IPv6 becomes TCP4; mixed families are UNKNOWN", () => {
    assert.equal(
      proxyV1({ srcIp: "::ffff:10.1.2.3", dstIp: "10.0.0.1", srcPort: 1, dstPort: 2 }).toString(),
      "PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\n",
    );
    assert.equal(
      proxyV1({ srcIp: "::1", dstIp: "10.0.0.1", srcPort: 1, dstPort: 2 }).toString(),
      "PROXY UNKNOWN\r\n",
    );
  });
});

// Section 2.2: 12-byte signature, 0x21 = v2 PROXY, 0x11 = TCP over IPv4, 0x21 = TCP over IPv6.
describe("PROXY protocol v2", () => {
  test("signature bytes", () => {
    assert.deepEqual(V2_SIGNATURE, Buffer.from("0d0a0d0a000d0a515549540a", "hex"));
  });

  test("TCP4 header", () => {
    const h = proxyV2({
      srcIp: "192.168.0.1",
      dstIp: "192.168.0.11",
      srcPort: 56324,
      dstPort: 443,
    });
    assert.equal(
      h.toString("hex"),
      `0d0a0d0a000d0a515549540a` + `21` + `11` + `000c` + `c0a80001` + `c0a8000b` + `dc04` + `01bb`,
    );
    assert.equal(h.length, 16 + 12);
  });

  test("TCP6 header, with :: compression and an embedded IPv4 tail", () => {
    const h = proxyV2({ srcIp: "2001:db8::1", dstIp: "fe80::1:2", srcPort: 1, dstPort: 65535 });
    assert.equal(h.length, 16 + 36);
    assert.equal(h.subarray(12, 16).toString("hex"), "21210024");
    assert.equal(h.subarray(16, 32).toString("hex"), "20010db8000000000000000000000001");
    assert.equal(h.subarray(32, 48).toString("hex"), "fe800000000000000000000000010002");
    assert.equal(h.subarray(48).toString("hex"), "0001ffff");
    const m = proxyV2({ srcIp: "::1.2.3.4", dstIp: "::1", srcPort: 1, dstPort: 2 });
    assert.equal(m.subarray(16, 32).toString("hex"), "00000000000000000000000001020304");
  });

  test("LOCAL command when addresses are unknown", () => {
    assert.equal(proxyV2(undefined).toString("hex"), "0d0a0d0a000d0a515549540a20000000");
  });
});
