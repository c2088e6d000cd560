/**
 * The Redis command policy table (command-policy.ts): what the default closes and why, what
 * FLUSHALL becomes, the argument-dependent cases (CONFIG GET, COPY ... DB), and how
 * allow_commands / deny_commands / redis_user change it, through the driver's client parser.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CmdFlag, COMMANDS } from "../../../src/protocol/resp/commands.js";
import { ParseResult } from "../../../src/proxy/driver.js";
import { DEFAULT_CLOSED, type PolicyOptions } from "../../../src/proxy/redis/command-policy.js";
import { redisDriver } from "../../../src/proxy/redis/index.js";
import { cmd, makeState, type PlanView, view } from "./helpers.js";

function policy(o: Partial<PolicyOptions> = {}) {
  return redisDriver.commandPolicy!({
    allowCommands: o.allowCommands ?? [],
    denyCommands: o.denyCommands ?? [],
    backendAcl: o.backendAcl ?? false,
  });
}

/** The plans for `reqs` on a pool of `servers` with policy options `o`. */
function planned(reqs: Buffer[], o: Partial<PolicyOptions> = {}, servers = 1): PlanView[] {
  const p = redisDriver.newClientParser(
    { maxRequestBytes: 1 << 20, commandPolicy: policy(o) },
    makeState(servers),
  );
  p.feed(Buffer.concat(reqs));
  const out: PlanView[] = [];
  while (p.next() === ParseResult.Plan) out.push(view(p.plan!));
  return out;
}

const one = (o: Partial<PolicyOptions>, ...args: string[]): PlanView =>
  planned([cmd(...args)], o)[0];
const refused = (v: PlanView): string | undefined =>
  "local" in v && / is not allowed by keepcache proxy: /.test(v.local) ? v.local : undefined;

describe("default policy", () => {
  test("closes every group it lists, subcommands included, with the group's reason", () => {
    for (const [names, why] of DEFAULT_CLOSED) {
      for (const name of names) {
        const [top, sub] = name.split("|");
        const args = sub !== undefined ? [top, sub] : [top];
        const got = one({}, ...args, "x", "y", "z");
        const text = refused(got);
        assert.ok(text !== undefined, `${name} should be refused, got ${JSON.stringify(got)}`);
        assert.ok(text.includes(why), `${name}: ${text}`);
        assert.ok(text.startsWith(`-ERR ${args.join(" ").toUpperCase()} `), text);
      }
    }
  });

  test("every @admin command of redis' table is closed", () => {
    // COMMAND's admin flag is redis' @admin ACL category (server.c setImplicitACLCategories).
    for (const c of COMMANDS) {
      if ((c.flags & CmdFlag.admin) === 0) continue;
      const [top, sub] = c.name.split("|");
      const v = one({}, ...(sub ? [top, sub] : [top]), "a", "b");
      if (c.name === "config|get") continue; // argument-dependent, below
      assert.ok(refused(v), `${c.name}: ${JSON.stringify(v)}`);
    }
  });

  test("tenant-scoped commands stay open", () => {
    for (const args of [
      ["GET", "k"],
      ["FLUSHDB"],
      ["KEYS", "*"],
      ["INFO"],
      ["SORT", "k"],
      ["OBJECT", "ENCODING", "k"],
      ["MEMORY", "USAGE", "k"],
      ["COPY", "a", "b", "REPLACE"],
      ["CONFIG", "GET", "save", "appendonly"],
      ["CLIENT", "SETNAME", "x"],
      ["PUBLISH", "c", "m"],
    ]) {
      assert.equal(refused(one({}, ...args)), undefined, args.join(" "));
    }
  });

  test("CONFIG GET: patterns and secret parameters are refused, in any case", () => {
    for (const p of [
      "requirepass",
      "REQUIREPASS",
      "masterauth",
      "*",
      "require*",
      "re?uirepass",
      "[r]equirepass",
      "masteruser",
    ]) {
      assert.ok(refused(one({}, "CONFIG", "GET", p)), p);
    }
    assert.ok(refused(one({}, "CONFIG", "GET", "save", "requirepass")));
  });

  test("FLUSHALL is sent as FLUSHDB with its options (one server and every server)", () => {
    assert.deepEqual(one({}, "flushall", "ASYNC"), {
      forward: "",
      sent: cmd("FLUSHDB", "ASYNC").toString("latin1"),
      expect: 0,
      readOnly: false,
    });
    assert.deepEqual(planned([cmd("FLUSHALL")], {}, 3)[0], {
      broadcast: cmd("FLUSHDB").toString("latin1"),
      expect: 0,
    });
    // Inside MULTI it is queued as FLUSHDB.
    const tx = planned([cmd("MULTI"), cmd("FLUSHALL"), cmd("EXEC")]);
    assert.ok("forward" in tx[2] && tx[2].sent.includes(cmd("FLUSHDB").toString("latin1")));
    assert.ok("forward" in tx[2] && !tx[2].sent.includes("FLUSHALL"));
  });

  test("COPY into another database is refused; COPY within the database is not", () => {
    assert.ok(refused(one({}, "COPY", "a", "b", "db", "0")));
    assert.ok(refused(one({}, "COPY", "a", "b", "REPLACE", "DB", "3")));
    assert.equal(refused(one({}, "COPY", "a", "b")), undefined);
  });

  test("a refused command inside MULTI aborts the transaction", () => {
    const v = planned([cmd("MULTI"), cmd("CONFIG", "SET", "x", "y"), cmd("EXEC")]);
    assert.ok(refused(v[1]));
    assert.deepEqual(v[2], {
      local: "-EXECABORT Transaction discarded because of previous errors.\r\n",
    });
  });
});

describe("allow_commands / deny_commands / redis_user", () => {
  test("allow opens a container or one subcommand; deny wins over allow", () => {
    assert.equal(
      refused(one({ allowCommands: ["config"] }, "CONFIG", "GET", "requirepass")),
      undefined,
    );
    assert.equal(refused(one({ allowCommands: ["CONFIG GET"] }, "CONFIG", "GET", "*")), undefined);
    assert.ok(refused(one({ allowCommands: ["config|get"] }, "CONFIG", "SET", "a", "b")));
    assert.ok(
      refused(
        one({ allowCommands: ["config"], denyCommands: ["config|set"] }, "CONFIG", "SET", "a", "b"),
      ),
    );
    assert.equal(
      refused(one({ allowCommands: ["Migrate"] }, "MIGRATE", "h", "1", "k", "0", "1")),
      undefined,
    );
  });

  test("FLUSHALL opened passes as itself; denied, it is refused", () => {
    const v = one({ allowCommands: ["flushall"] }, "FLUSHALL");
    assert.ok("forward" in v && v.sent === cmd("FLUSHALL").toString("latin1"));
    const d = refused(one({ denyCommands: ["flushall"] }, "FLUSHALL"));
    assert.match(
      String(d),
      /FLUSHALL is not allowed by keepcache proxy: this pool's deny_commands closes it/,
    );
  });

  test("deny closes any command, a container's subcommands included", () => {
    assert.match(
      String(refused(one({ denyCommands: ["get"] }, "GET", "k"))),
      /^-ERR GET is not allowed/,
    );
    assert.ok(refused(one({ denyCommands: ["object"] }, "OBJECT", "ENCODING", "k")));
    assert.equal(
      refused(one({ denyCommands: ["object|freq"] }, "OBJECT", "ENCODING", "k")),
      undefined,
    );
  });

  test("redis_user opens scripts only", () => {
    for (const args of [
      ["EVAL", "return 1", "0"],
      ["EVALSHA", "abc", "0"],
      ["FCALL", "f", "0"],
      ["SCRIPT", "LOAD", "return 1"],
    ]) {
      assert.match(String(refused(one({}, ...args))), /a script can run any command/);
      assert.equal(refused(one({ backendAcl: true }, ...args)), undefined, args.join(" "));
    }
    assert.ok(refused(one({ backendAcl: true }, "MIGRATE", "h", "1", "k", "0", "1")));
    // Function libraries are server-wide: loading them stays the operator's.
    assert.match(
      String(refused(one({ backendAcl: true }, "FUNCTION", "FLUSH"))),
      /function libraries/,
    );
  });

  test("plain commands pass untouched", () => {
    const v = one({ allowCommands: ["config"], denyCommands: ["keys"] }, "SET", "k", "v");
    assert.ok("forward" in v && v.sent === cmd("SET", "k", "v").toString("latin1"));
  });
});
