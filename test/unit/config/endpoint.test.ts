import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatEndpoint,
  formatHostPort,
  parseHostPort,
  parseListen,
} from "../../../src/config/schema/common.js";

describe("endpoint text", () => {
  test("IPv4 and names as host:port, IPv6 literals in brackets, unix sockets as their path", () => {
    assert.equal(formatHostPort("127.0.0.1", 6379), "127.0.0.1:6379");
    assert.equal(formatHostPort("cache.example", 11211), "cache.example:11211");
    assert.equal(formatHostPort("::1", 6379), "[::1]:6379");
    assert.equal(formatHostPort("fe80::1%eth0", "80"), "[fe80::1%eth0]:80");
    assert.equal(formatEndpoint({ kind: "tcp", host: "::", port: 22121 }), "[::]:22121");
    assert.equal(formatEndpoint({ kind: "unix", path: "/run/kc.sock" }), "/run/kc.sock");
  });

  test("the text parses back to the same endpoint", () => {
    for (const host of ["127.0.0.1", "localhost", "::1", "2001:db8::7", "::"]) {
      for (const port of [1, 6379, 65535]) {
        const text = formatHostPort(host, port);
        assert.deepEqual(parseHostPort(text), { kind: "tcp", host, port }, text);
        assert.deepEqual(parseListen(text), { kind: "tcp", host, port }, text);
      }
    }
  });
});
