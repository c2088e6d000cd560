import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { internetChecksum } from "../../../src/vrrp/checksum.js";
import { decodeAdvert, encodeAdvert } from "../../../src/vrrp/packet.js";
import {
  checkDatagram,
  checkMessage,
  parseIpv4,
  type ReceiverConfig,
} from "../../../src/vrrp/receive.js";

/*
 * Captured from keepalived v2.2.7 (Debian) in a throwaway network namespace: VRID 51, priority
 * 100, advert_int 1, auth PASS "1111" (v2), VIPs 192.168.1.100 and 10.99.0.200, sent from
 * 10.99.0.1 to 224.0.0.18. Full IPv4 datagrams as a raw socket sees them.
 */
const KEEPALIVED_V2 =
  "45c0002c00010000ff70d02a0a630001e00000122133640201014a2fc0a801640a6300c83131313100000000";
const KEEPALIVED_V3 = "45c0002400010000ff70d0320a630001e0000012313364020064b237c0a801640a6300c8";
const VIPS = ["192.168.1.100", "10.99.0.200"];
const PSEUDO = { src: "10.99.0.1", dst: "224.0.0.18" };

const v2cfg: ReceiverConfig = {
  vrid: 51,
  version: 2,
  adverIntCs: 100,
  authType: "PASS",
  authPass: "1111",
  addresses: VIPS,
  unicastPeers: [],
};
const v3cfg: ReceiverConfig = { ...v2cfg, version: 3, authType: "none", authPass: undefined };

describe("VRRP packet codec", () => {
  test("v2 hand-computed checksum (RFC 3768 §5.3.8)", () => {
    // 2133 6401 0101 c0a8 0164 3131 3131 0000 0000 sums to 0x1aaa3 → fold 0xaaa4 → ~ 0x555b.
    const b = encodeAdvert({
      version: 2,
      vrid: 51,
      priority: 100,
      addresses: ["192.168.1.100"],
      adverIntCs: 100,
      authPass: "1111",
    });
    assert.equal(b.toString("hex"), "21336401010155 5bc0a801643131313100000000".replace(" ", ""));
    assert.equal(internetChecksum(b), 0);
  });

  test("v3 hand-computed checksum with and without the pseudo-header (RFC 5798 §5.2.8)", () => {
    // pseudo 0a00 0001 e000 0012 0070 000c = 0xea8f; message 3101 6401 0064 0a00 0064 = 0x9fca;
    // 0xea8f + 0x9fca = 0x18a59 → 0x8a5a → ~ 0x75a5. Message alone: ~0x9fca = 0x6035.
    const input = {
      version: 3 as const,
      vrid: 1,
      priority: 100,
      addresses: ["10.0.0.100"],
      adverIntCs: 100,
    };
    const pseudo = { src: "10.0.0.1", dst: "224.0.0.18" };
    assert.equal(
      encodeAdvert(input, { pseudo }).toString("hex"),
      "310164010064" + "75a5" + "0a000064",
    );
    assert.equal(
      encodeAdvert(input, { v3Checksum: "as_v2" }).toString("hex"),
      "310164010064" + "6035" + "0a000064",
    );
    const rfc = encodeAdvert(input, { pseudo });
    assert.equal(decodeAdvert(rfc, { family: 4, pseudo, v3Checksum: "as_v2" }).ok, false);
  });

  test("encodes byte-identical to keepalived v2 and v3", () => {
    const v2 = encodeAdvert({
      version: 2,
      vrid: 51,
      priority: 100,
      addresses: VIPS,
      adverIntCs: 100,
      authPass: "1111",
    });
    assert.equal(v2.toString("hex"), KEEPALIVED_V2.slice(40));
    const v3 = encodeAdvert(
      { version: 3, vrid: 51, priority: 100, addresses: VIPS, adverIntCs: 100 },
      { pseudo: PSEUDO },
    );
    assert.equal(v3.toString("hex"), KEEPALIVED_V3.slice(40));
  });

  test("decodes keepalived's datagrams and accepts them", () => {
    const v2 = checkDatagram(Buffer.from(KEEPALIVED_V2, "hex"), v2cfg);
    assert.ok(v2.ok, JSON.stringify(v2));
    assert.deepEqual(v2.advert.addresses, VIPS);
    assert.equal(v2.advert.priority, 100);
    assert.equal(v2.src, "10.99.0.1");
    const v3 = checkDatagram(Buffer.from(KEEPALIVED_V3, "hex"), v3cfg);
    assert.ok(v3.ok, JSON.stringify(v3));
    assert.equal(v3.advert.adverIntCs, 100);
  });

  test("receive rules drop what keepalived drops", () => {
    const dg = Buffer.from(KEEPALIVED_V2, "hex");
    const reason = (buf: Buffer, cfg: ReceiverConfig) => {
      const v = checkDatagram(buf, cfg);
      return v.ok ? "ok" : v.reason;
    };
    const ttl = Buffer.from(dg);
    ttl[8] = 64;
    assert.equal(reason(ttl, v2cfg), "ttl");
    assert.equal(reason(ttl, { ...v2cfg, unicastPeers: ["10.99.0.1"] }), "cast"); // TTL skipped for unicast
    assert.equal(reason(dg, { ...v2cfg, vrid: 52 }), "vrid");
    assert.equal(reason(dg, { ...v2cfg, authPass: "2222" }), "auth");
    assert.equal(reason(dg, { ...v2cfg, authType: "none" }), "auth_type");
    assert.equal(reason(dg, { ...v2cfg, adverIntCs: 200 }), "adver_int");
    assert.equal(reason(dg, { ...v2cfg, version: 3 }), "version");
    assert.equal(reason(dg, { ...v2cfg, addresses: ["192.168.1.100"] }), "addr_count");
    assert.equal(reason(dg, { ...v2cfg, addresses: ["192.168.1.100", "10.0.0.9"] }), "addr_list");
    const lenient = checkDatagram(dg, {
      ...v2cfg,
      addresses: ["192.168.1.100"],
      addressCheck: "log",
    });
    assert.ok(lenient.ok && lenient.warnings.length === 1);
    const bad = Buffer.from(dg);
    bad[bad.length - 1] ^= 1;
    assert.equal(reason(bad, v2cfg), "checksum");
    const type = Buffer.from(dg);
    type[20] = 0x22;
    assert.equal(reason(type, v2cfg), "type");
    assert.equal(reason(dg.subarray(0, dg.length - 1), v2cfg), "length");
    const uni = checkMessage(
      parseIpv4(dg).ok ? (parseIpv4(dg) as { ip: { payload: Buffer } }).ip.payload : dg,
      {
        ...v2cfg,
        unicastPeers: ["10.99.0.9"],
        checkUnicastSrc: true,
      },
      { src: "10.99.0.1", dst: "10.99.0.2" },
    );
    assert.equal(uni.ok ? "ok" : uni.reason, "unicast_src");
  });

  test("v3 IPv6 round trip", () => {
    const pseudo = { src: "fe80::1", dst: "ff02::12" };
    const b = encodeAdvert(
      {
        version: 3,
        vrid: 7,
        priority: 200,
        addresses: ["fe80::100", "2001:db8::1"],
        adverIntCs: 50,
      },
      { pseudo },
    );
    const d = decodeAdvert(b, { family: 6, pseudo });
    assert.ok(d.ok);
    assert.deepEqual(d.advert.addresses, ["fe80::100", "2001:db8::1"]);
    assert.equal(d.advert.adverIntCs, 50);
  });

  test("HMAC-SHA256 option: verifies, rejects wrong secret, keepalived-shaped peers reject it", () => {
    for (const version of [2, 3] as const) {
      const b = encodeAdvert(
        { version, vrid: 51, priority: 100, addresses: VIPS, adverIntCs: 100 },
        { pseudo: PSEUDO, hmac: { secret: "s3cret", counter: 42n } },
      );
      const good = checkMessage(
        b,
        { ...v2cfg, version, authType: "HMAC", hmacSecret: "s3cret" },
        { ...PSEUDO, ttl: 255 },
      );
      assert.ok(good.ok, good.ok ? "" : good.detail);
      assert.equal(good.advert.hmacCounter, 42n);
      const wrong = checkMessage(
        b,
        { ...v2cfg, version, authType: "HMAC", hmacSecret: "other" },
        PSEUDO,
      );
      assert.equal(wrong.ok ? "ok" : wrong.reason, "hmac");
      const plain = checkMessage(b, version === 2 ? v2cfg : v3cfg, PSEUDO);
      assert.equal(plain.ok ? "ok" : plain.reason, version === 2 ? "auth_type" : "length");
      const forged = Buffer.from(b);
      forged[2] = 250; // raise priority, fix the checksum: the tag still fails
      forged.writeUInt16BE(0, 6);
      const ph = Buffer.from(
        `0a630001e0000012007000${forged.length.toString(16).padStart(2, "0")}`,
        "hex",
      );
      forged.writeUInt16BE(
        version === 2 ? internetChecksum(forged) : internetChecksum(ph, forged),
        6,
      );
      const f = checkMessage(
        forged,
        { ...v2cfg, version, authType: "HMAC", hmacSecret: "s3cret" },
        PSEUDO,
      );
      assert.equal(f.ok ? "ok" : f.reason, "hmac");
    }
  });

  test("fuzz: the decoder never throws on garbage and round-trips valid adverts", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.constantFrom(4 as const, 6 as const),
        (bytes, family) => {
          const buf = Buffer.from(bytes);
          const r = decodeAdvert(buf, {
            family,
            pseudo: family === 4 ? PSEUDO : { src: "fe80::1", dst: "ff02::12" },
          });
          assert.equal(typeof r.ok, "boolean");
          checkDatagram(buf, v2cfg);
        },
      ),
      { numRuns: 2000 },
    );
    const ipv4 = fc
      .tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
      .map((o) => o.join("."));
    fc.assert(
      fc.property(
        fc.constantFrom(2 as const, 3 as const),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(255),
        fc.array(ipv4, { maxLength: 20 }),
        fc.integer({ min: 1, max: 40 }),
        (version, vrid, priority, addresses, secs) => {
          const input = {
            version,
            vrid,
            priority,
            addresses,
            adverIntCs: secs * 100,
            authPass: version === 2 ? "pw" : undefined,
          };
          const b = encodeAdvert(input, { pseudo: PSEUDO });
          const d = decodeAdvert(b, { family: 4, pseudo: PSEUDO });
          assert.ok(d.ok);
          assert.deepEqual(
            {
              v: d.advert.version,
              vrid: d.advert.vrid,
              p: d.advert.priority,
              a: d.advert.addresses,
              i: d.advert.adverIntCs,
            },
            { v: version, vrid, p: priority, a: addresses, i: secs * 100 },
          );
          // Any single flipped bit is caught by the checksum, the length or a field check.
          const flip = Buffer.from(b);
          const at = (vrid * 7 + priority) % flip.length;
          flip[at] ^= 1 << (priority % 8);
          const again = decodeAdvert(flip, { family: 4, pseudo: PSEUDO });
          assert.equal(again.ok, false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
