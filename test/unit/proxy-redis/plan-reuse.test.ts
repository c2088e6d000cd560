import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ParseResult, type Plan } from "../../../src/proxy/driver.js";
import { cmd, makeState, target } from "./helpers.js";

/**
 * The hot path reuses one forward plan and one key-index array per client (no allocation per
 * request). A reused object must never leak a previous request's fields.
 */
describe("per-client plan and key scratch reuse", () => {
  const fresh = (input: Buffer) => {
    const t = target(() => makeState());
    t.feed(input);
    return t.drain();
  };

  test("a forward after a longer multi-key request sees only its own key", () => {
    const state = makeState();
    const t = target(() => state);
    t.feed(
      Buffer.concat([
        cmd("MSET", "a", "1", "b", "2", "c", "3"),
        cmd("GET", "x"),
        cmd("SET", "y", "1"),
      ]),
    );
    const plans: Plan[] = [];
    for (let i = 0; i < 3; i++) {
      assert.equal(t.parser.next(), ParseResult.Plan);
      const p = t.parser.plan!;
      plans.push(p);
      // The MSET (i = 0) may be a split or, all keys on one server, a forward of itself.
      if (i > 0) {
        assert.equal(p.kind, "forward");
        if (p.kind !== "forward") continue;
        const key = p.buf.toString("latin1", p.keyStart, p.keyEnd);
        assert.equal(key, i === 1 ? "x" : "y");
        assert.equal(p.readOnly, i === 1);
        assert.equal(p.idempotent, i === 1);
      }
    }
    assert.equal(plans[1], plans[2], "the forward plan object is reused");
  });

  test("any sequence plans the same as each request on a fresh client", () => {
    const req = fc.oneof(
      fc.constantFrom("k1", "k2", "{t}a", "zz").map((k) => cmd("GET", k)),
      fc.constantFrom("k1", "k3").map((k) => cmd("SET", k, "v")),
      fc.constant(cmd("MGET", "k1", "k2", "k3", "k4")),
      fc.constant(cmd("DEL", "k1", "k2")),
      fc.constant(cmd("MSET", "{t}a", "1", "{t}b", "2")),
      fc.constant(cmd("PING")),
      fc.constant(cmd("EXISTS", "k9")),
    );
    fc.assert(
      fc.property(fc.array(req, { minLength: 1, maxLength: 12 }), (reqs) => {
        const together = fresh(Buffer.concat(reqs));
        const alone = reqs.flatMap((r) => fresh(r));
        assert.deepEqual(together, alone);
      }),
      { numRuns: 100 },
    );
  });
});
