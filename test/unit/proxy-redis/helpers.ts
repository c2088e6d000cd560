/** Shared fixtures for the Redis driver tests: a client state over a real router, plan views. */
import { encodeCommand } from "../../../src/protocol/resp/encoder.js";
import { buildRouter } from "../../../src/proxy/distribution/index.js";
import { type ClientState, ParseResult, type Plan } from "../../../src/proxy/driver.js";
import { redisDriver } from "../../../src/proxy/redis/index.js";

/** A state over twemproxy's ketama + fnv1a_64 with hash_tag "{}" across `n` servers. */
export function makeState(n = 3, password?: string): ClientState {
  const router = buildRouter({
    servers: Array.from({ length: n }, (_, i) => ({ name: `s${i}`, weight: 1 })),
    hash: "fnv1a_64",
    distribution: "ketama",
    hashTag: "{}",
  });
  return {
    authenticated: password === undefined,
    password,
    resp3: false,
    pinned: -1,
    servers: n,
    shardOf: (b, s, e) => router.pick(b, s, e),
  };
}

export function shardOfKey(state: ClientState, key: string): number {
  const b = Buffer.from(key);
  return state.shardOf(b, 0, b.length);
}

/** Two keys (plain, no tag) that land on different servers. */
export function keysOnTwoShards(state: ClientState): [string, string] {
  const a = "k0";
  for (let i = 1; i < 1000; i++) {
    if (shardOfKey(state, `k${i}`) !== shardOfKey(state, a)) return [a, `k${i}`];
  }
  throw new Error("no two keys on different shards");
}

export const cmd = encodeCommand;

/** A plan as plain values (no offsets into buffers a later feed may replace). */
export type PlanView =
  | { local: string; close?: boolean }
  | { forward: string; sent: string; expect: number; readOnly: boolean }
  | { split: Array<{ key: string; request: string }>; expect: number }
  | { broadcast: string; expect: number }
  | { error: string; close: boolean };

export function view(p: Plan): PlanView {
  switch (p.kind) {
    case "local":
      return p.close
        ? { local: p.reply.toString("latin1"), close: true }
        : { local: p.reply.toString("latin1") };
    case "forward":
      return {
        forward: p.buf.toString("latin1", p.keyStart, p.keyEnd),
        sent: (p.rewrite ?? p.buf.subarray(p.frameStart, p.frameEnd)).toString("latin1"),
        expect: p.expect,
        readOnly: p.readOnly,
      };
    case "split":
      return {
        split: p.parts.map((x) => ({
          key: x.keyBuf.toString("latin1", x.keyStart, x.keyEnd),
          request: x.request.toString("latin1"),
        })),
        expect: p.expect,
      };
    case "broadcast":
      return { broadcast: p.request.toString("latin1"), expect: p.expect };
  }
}

/** A split-invariant target: a fresh client parser whose results are plan views. */
export function target(makeStateFn: () => ClientState = () => makeState()) {
  const p = redisDriver.newClientParser({ maxRequestBytes: 1 << 20 }, makeStateFn());
  return {
    parser: p,
    feed: (c: Buffer) => p.feed(c),
    drain(): PlanView[] {
      const out: PlanView[] = [];
      for (let i = 0; i < 10_000; i++) {
        const r = p.next();
        if (r === ParseResult.NeedMore) return out;
        if (r === ParseResult.Error) {
          out.push({ error: p.errorReply!.toString("latin1"), close: p.close });
          return out;
        }
        out.push(view(p.plan!));
      }
      throw new Error("parser produced too many plans");
    },
  };
}

/** Feeds `input` whole into a fresh parser (state from makeStateFn) and returns the views. */
export function plans(input: Buffer | string, state: ClientState = makeState()): PlanView[] {
  const t = target(() => state);
  t.feed(typeof input === "string" ? Buffer.from(input) : input);
  return t.drain();
}
