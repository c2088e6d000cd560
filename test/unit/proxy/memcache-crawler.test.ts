/**
 * lru_crawler and shutdown through the proxy: the plans (broadcast, metadump on its own
 * connection class, shutdown refused), the framing of a metadump reply, and the mergers.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type ClientState, ParseResult, type Plan } from "../../../src/proxy/driver.js";
import { Kind } from "../../../src/proxy/memcache/expect.js";
import { MemcacheFramer, memcacheDriver } from "../../../src/proxy/memcache/index.js";
import { TextAllOkMerger, TextDumpMerger } from "../../../src/proxy/memcache/mergers.js";
import { DUMP_CHANNEL } from "../../../src/proxy/memcache/text-client.js";
import { OutBuffer } from "../../../src/util/out-buffer.js";

const state: ClientState = {
  authenticated: false,
  password: undefined,
  resp3: false,
  pinned: -1,
  shardOf: () => 0,
  servers: 2,
};

function plans(input: string): Array<{ plan: Plan; channel: number }> {
  const p = memcacheDriver.newClientParser({ maxRequestBytes: 1 << 20 }, state);
  p.feed(Buffer.from(input));
  const out: Array<{ plan: Plan; channel: number }> = [];
  for (let r = p.next(); r !== ParseResult.NeedMore; r = p.next()) {
    assert.equal(r, ParseResult.Plan);
    out.push({ plan: p.plan as Plan, channel: p.channel ?? 0 });
  }
  return out;
}

function merged(m: TextAllOkMerger | TextDumpMerger, replies: string[]): string {
  for (const [i, r] of replies.entries()) m.add(i, Buffer.from(r));
  const out = new OutBuffer();
  m.write(out);
  return out.take()?.toString() ?? "";
}

describe("memcache driver: lru_crawler and shutdown", () => {
  test("plans: broadcasts, metadump on its own channel, shutdown and unknown refused", () => {
    const got = plans(
      "lru_crawler metadump all\r\nget a\r\nlru_crawler crawl all\r\nlru_crawler sleep 10\r\n" +
        "lru_crawler mgdump all\r\nshutdown\r\n",
    );
    assert.equal(got[0].plan.kind, "broadcast");
    assert.equal(got[0].channel, DUMP_CHANNEL);
    if (got[0].plan.kind === "broadcast") {
      assert.equal(got[0].plan.request.toString(), "lru_crawler metadump all\r\n");
      assert.equal(got[0].plan.expect, Kind.Dump);
    }
    assert.equal(got[1].channel, 0, "the next request is back on the shared connection");
    for (const i of [2, 3]) {
      assert.equal(got[i].plan.kind, "broadcast");
      if (got[i].plan.kind === "broadcast") assert.equal(got[i].plan.expect, Kind.Line);
    }
    assert.deepEqual(got[4].plan, { kind: "local", reply: Buffer.from("ERROR\r\n") });
    const sd = got[5].plan;
    assert.equal(sd.kind, "local");
    if (sd.kind === "local")
      assert.match(sd.reply.toString(), /^ERROR: shutdown not enabled .*every server.*\r\n$/);
  });

  test("framer: a metadump is key= lines up to END, or one BUSY / error line", () => {
    const dump =
      "key=a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\nkey=b%20c exp=-1 la=1 cas=3 fetch=no cls=1 size=64\nEND\r\n";
    const replies = [dump, "BUSY currently processing crawler request\r\n", "END\r\n"];
    const input = Buffer.from(replies.join(""));
    for (let cut = 0; cut <= input.length; cut++) {
      const f = new MemcacheFramer();
      const got: string[] = [];
      for (const chunk of [input.subarray(0, cut), input.subarray(cut)]) {
        f.feed(chunk);
        while (f.next(Kind.Dump)) got.push(f.buf.toString("latin1", f.start, f.end));
      }
      assert.deepEqual(got, replies, `cut at ${cut}`);
    }
  });

  test("mergers: dumps concatenated with one END; OK only when all OK", () => {
    const a = "key=a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\nEND\r\n";
    const b = "key=b exp=-1 la=1 cas=3 fetch=no cls=1 size=63\nEND\r\n";
    assert.equal(merged(new TextDumpMerger(0), [a, "END\r\n", b]), `${a.slice(0, -5)}${b}`);
    assert.equal(merged(new TextDumpMerger(0), ["END\r\n", "END\r\n"]), "END\r\n");
    const busy = "BUSY currently processing crawler request\r\n";
    assert.equal(merged(new TextDumpMerger(0), [a, busy]), busy);
    const failed = new TextDumpMerger(0);
    failed.fail(1, "keepcache: backend x refused the connection");
    assert.equal(
      merged(failed, [a]),
      "SERVER_ERROR keepcache: backend x refused the connection\r\n",
    );
    assert.equal(merged(new TextAllOkMerger(0, false), ["OK\r\n", "OK\r\n"]), "OK\r\n");
    assert.equal(merged(new TextAllOkMerger(0, false), ["OK\r\n", busy, "ERROR x\r\n"]), busy);
  });

  test("dump merger: any split of the servers' dumps gives every key line once (property)", () => {
    const line = fc.stringMatching(/^[a-z0-9]{1,8}$/).map((k) => `key=${k} exp=-1 cls=1\n`);
    fc.assert(
      fc.property(
        fc.array(fc.array(line, { maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        (servers) => {
          const out = merged(
            new TextDumpMerger(0),
            servers.map((ls) => `${ls.join("")}END\r\n`),
          );
          assert.equal(out, `${servers.flat().join("")}END\r\n`);
        },
      ),
      { numRuns: 100 },
    );
  });
});
