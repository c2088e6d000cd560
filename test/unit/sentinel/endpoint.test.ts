/**
 * The Sentinel endpoint's own protocol behaviour, over real sockets, with no replica sets
 * behind it (the e2e test covers answers about real sets): pub/sub state, the subscribed-mode
 * command restrictions, inline commands, protocol errors, the output bound, and config errors.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { ConfigErrors, parseConfig } from "../../../src/config/index.js";
import { logger } from "../../../src/log.js";
import { globMatch } from "../../../src/sentinel/glob.js";
import { SentinelServer } from "../../../src/sentinel/server.js";

function startServer(outputLimit = 1 << 20): Promise<SentinelServer> {
  const s = new SentinelServer(
    { pools: () => [][Symbol.iterator]() },
    {
      listen: { kind: "tcp", host: "127.0.0.1", port: 0 },
      max_clients: 10,
      output_limit: outputLimit,
    },
    logger({ level: "silent" }),
  );
  return s.listen().then(() => s);
}

/** A raw connection that collects everything received. */
function connect(
  port: number,
): Promise<{ sock: net.Socket; got: () => string; until: (s: string) => Promise<void> }> {
  return new Promise((resolve) => {
    let buf = "";
    const sock = net.connect(port, "127.0.0.1", () =>
      resolve({
        sock,
        got: () => buf,
        until: async (s: string) => {
          const deadline = Date.now() + 3000;
          while (!buf.includes(s) && Date.now() < deadline)
            await new Promise((r) => setTimeout(r, 5));
          assert.ok(buf.includes(s), `waited for ${JSON.stringify(s)}, got ${JSON.stringify(buf)}`);
        },
      }),
    );
    sock.on("data", (d) => {
      buf += d.toString("latin1");
    });
    sock.on("error", () => {});
  });
}

describe("sentinel endpoint protocol", () => {
  const servers: SentinelServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test("commands, pub/sub and subscribed-mode rules", async () => {
    const srv = await startServer();
    servers.push(srv);
    const c = await connect(srv.address().port);
    // Inline and multibulk forms; one request split across writes.
    c.sock.write("PING\r\n*2\r\n$4\r\nPI");
    await new Promise((r) => setTimeout(r, 20));
    c.sock.write(
      "NG\r\n$2\r\nhi\r\nROLE\r\nSENTINEL masters\r\nSENTINEL get-master-addr-by-name x\r\n",
    );
    await c.until("$-1\r\n");
    assert.equal(c.got(), "+PONG\r\n$2\r\nhi\r\n*2\r\n$8\r\nsentinel\r\n*0\r\n*0\r\n$-1\r\n");
    const sub = await connect(srv.address().port);
    sub.sock.write("SUBSCRIBE +switch-master +sdown\r\nPSUBSCRIBE *\r\nGET x\r\nPING\r\n");
    await sub.until("$4\r\npong\r\n$0\r\n\r\n");
    assert.equal(
      sub.got(),
      "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n" +
        "*3\r\n$9\r\nsubscribe\r\n$6\r\n+sdown\r\n:2\r\n" +
        "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:3\r\n" +
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n" +
        "*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    );
    srv.publish("+switch-master", "m 127.0.0.1 1 127.0.0.1 2");
    await sub.until("pmessage");
    assert.ok(
      sub
        .got()
        .endsWith(
          "*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$25\r\nm 127.0.0.1 1 127.0.0.1 2\r\n" +
            "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$14\r\n+switch-master\r\n$25\r\nm 127.0.0.1 1 127.0.0.1 2\r\n",
        ),
      JSON.stringify(sub.got()),
    );
    sub.sock.write("UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nRESET\r\nPING\r\n");
    await sub.until("+RESET\r\n+PONG\r\n");
    // A protocol error gets redis' reply and the connection closes.
    const bad = await connect(srv.address().port);
    bad.sock.write("*1\r\n$x\r\n");
    await bad.until("-ERR Protocol error: invalid bulk length\r\n");
    if (!bad.sock.closed) await new Promise((r) => bad.sock.once("close", r));
    c.sock.destroy();
    sub.sock.destroy();
  });

  test("a subscriber that does not read is disconnected at output_limit", async () => {
    const srv = await startServer(64 * 1024);
    servers.push(srv);
    const sub = await connect(srv.address().port);
    sub.sock.write("SUBSCRIBE ch\r\n");
    await sub.until(":1\r\n");
    sub.sock.pause();
    const msg = "x".repeat(1024);
    for (let i = 0; i < 50_000 && srv.counters.output_overflow_closes === 0; i++) {
      srv.publish("ch", msg);
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(srv.counters.output_overflow_closes, 1);
    sub.sock.destroy();
  });

  test("max_clients: one more connection gets redis' error and is closed", async () => {
    const srv = await startServer();
    servers.push(srv);
    const open = [];
    for (let i = 0; i < 10; i++) open.push(await connect(srv.address().port));
    await open[9].sock.write("PING\r\n");
    await open[9].until("+PONG\r\n");
    const extra = await connect(srv.address().port);
    await extra.until("-ERR max number of clients reached\r\n");
    assert.equal(srv.counters.client_connections, 10);
    for (const c of [...open, extra]) c.sock.destroy();
  });

  test("config: the sentinel section is validated with file, line and key", () => {
    const ok = parseConfig("sentinel:\n  listen: 127.0.0.1:26379\n", "k.yml");
    assert.deepEqual(ok.sentinel, {
      listen: { kind: "tcp", host: "127.0.0.1", port: 26379 },
      max_clients: 10_000,
      output_limit: 1 << 20,
    });
    assert.equal(
      parseConfig('a:\n  listen: 127.0.0.1:1\n  servers: ["127.0.0.1:2:1"]\n', "k.yml").sentinel,
      undefined,
    );
    for (const [text, want] of [
      ["sentinel:\n  listen: nowhere\n", /k\.yml:2: sentinel\.listen: .*host:port/],
      ["sentinel:\n  listen: 127.0.0.1:1\n  bogus: 1\n", /k\.yml:\d: sentinel.*bogus/],
      [
        "sentinel:\n  listen: 127.0.0.1:1\n  output_limit: 10\n",
        /k\.yml:3: sentinel\.output_limit/,
      ],
    ] as const) {
      try {
        parseConfig(text, "k.yml");
        assert.fail("expected an error");
      } catch (err) {
        assert.ok(err instanceof ConfigErrors, String(err));
        assert.match(err.message, want);
      }
    }
  });

  test("glob patterns (util.c stringmatchlen)", () => {
    assert.ok(globMatch("*", "+switch-master"));
    assert.ok(globMatch("+switch-*", "+switch-master"));
    assert.ok(globMatch("?sdown", "+sdown"));
    assert.ok(globMatch("[+-]sdown", "-sdown"));
    assert.ok(!globMatch("[^+-]sdown", "-sdown"));
    assert.ok(globMatch("[a-c]x", "bx"));
    assert.ok(globMatch("\\*", "*"));
    assert.ok(!globMatch("\\*", "a"));
    assert.ok(!globMatch("a*b", "acbx"));
    // Property: patterns of literals, '?' and '*' agree with the equivalent regular expression.
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "?", "*"), { maxLength: 8 }),
        fc.stringMatching(/^[ab]{0,10}$/),
        (parts, s) => {
          const re = new RegExp(
            `^${parts.map((p) => (p === "?" ? "." : p === "*" ? ".*" : p)).join("")}$`,
            "s",
          );
          return globMatch(parts.join(""), s) === re.test(s);
        },
      ),
    );
  });
});
