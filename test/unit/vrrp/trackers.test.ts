import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { needsShell } from "../../../src/scripts/command.js";
import { checkScriptSecurity } from "../../../src/scripts/security.js";
import { userFromPasswd } from "../../../src/scripts/users.js";
import { FakeClock } from "../../../src/vrrp/clock.js";
import {
  type ExecResult,
  FileTracker,
  InterfaceTracker,
  realEnv,
  ScriptTracker,
  TrackerBinding,
  type TrackerEnv,
  TrackerSet,
} from "../../../src/vrrp/trackers.js";

function fakeEnv(
  over: Partial<TrackerEnv> = {},
): TrackerEnv & { results: ExecResult[]; files: Map<string, string>; links: Map<string, boolean> } {
  const results: ExecResult[] = [];
  const files = new Map<string, string>();
  const links = new Map<string, boolean>();
  return {
    results,
    files,
    links,
    exec: async () => results.shift() ?? { code: 0, timedOut: false },
    readFile: (p) => files.get(p),
    linkUp: (i) => links.get(i) ?? true,
    stat: () => ({ uid: 0, gid: 0, mode: 0o755 }),
    exists: (p) => p === "/bin/bash" || p === "/usr/bin/killall",
    ...over,
  };
}

const script = (over: Partial<ConstructorParameters<typeof ScriptTracker>[0]> = {}) => ({
  name: "chk",
  script: "/usr/bin/killall -0 haproxy",
  intervalMs: 2000,
  timeoutMs: 1000,
  weight: -20,
  rise: 2,
  fall: 3,
  ...over,
});

describe("trackers", () => {
  test("rise/fall counts and weight sign semantics", async () => {
    const env = fakeEnv();
    const t = new ScriptTracker(script(), env, new FakeClock());
    assert.deepEqual(t.current(), { weight: 0, fault: false });
    env.results.push(
      { code: 1, timedOut: false },
      { code: 1, timedOut: false },
      { code: 0, timedOut: true },
    );
    assert.equal(await t.runOnce(), false);
    assert.equal(await t.runOnce(), false);
    assert.equal(await t.runOnce(), true); // third failure (a timeout) → down
    assert.deepEqual(t.current(), { weight: -20, fault: false });
    assert.deepEqual(t.current(10), { weight: 0, fault: false }); // positive weight: lost while failing
    assert.deepEqual(t.current(0), { weight: 0, fault: true });
    env.results.push(
      { code: 0, timedOut: false },
      { code: 1, timedOut: false },
      { code: 0, timedOut: false },
      { code: 0, timedOut: false },
    );
    await t.runOnce();
    await t.runOnce(); // a failure resets the rise streak
    await t.runOnce();
    assert.equal(t.healthy, false);
    await t.runOnce();
    assert.equal(t.healthy, true);
    assert.deepEqual(t.current(10), { weight: 10, fault: false });
  });

  test("interval scheduling on the fake clock never overlaps runs", async () => {
    let calls = 0;
    const env = fakeEnv({ exec: async () => ({ code: ++calls > 100 ? 0 : 1, timedOut: false }) });
    const clock = new FakeClock();
    const t = new ScriptTracker(script({ fall: 1 }), env, clock);
    let flips = 0;
    t.listeners.push(() => flips++);
    t.start();
    // Still running at t=2000 → that tick is skipped, not overlapped.
    clock.advance(2000);
    await new Promise((r) => setImmediate(r));
    assert.equal(calls, 1);
    for (let i = 0; i < 5; i++) {
      clock.advance(2000);
      await new Promise((r) => setImmediate(r));
    }
    t.stop();
    assert.equal(calls, 6);
    assert.equal(flips, 1);
    assert.equal(clock.pending(), 0);
  });

  test("track_interface and track_file", () => {
    const env = fakeEnv();
    const set = new TrackerSet();
    set.add(new InterfaceTracker("eth1", 0, env));
    set.add(new InterfaceTracker("eth2", -30, env));
    set.add(new FileTracker("/etc/kc/prio", 5, env));
    set.add(new FileTracker("/etc/kc/down", 0, env));
    assert.deepEqual(set.evaluate(), { sum: 0, faults: [] });
    env.files.set("/etc/kc/prio", "-3\n");
    env.links.set("eth2", false);
    assert.deepEqual(set.evaluate(), { sum: -45, faults: [] });
    env.links.set("eth1", false);
    env.files.set("/etc/kc/down", "1");
    assert.deepEqual(set.evaluate(), { sum: -45, faults: ["eth1", "/etc/kc/down"] });
    env.files.set("/etc/kc/prio", "1000");
    assert.equal(set.evaluate().sum, 253 - 30);
    env.files.set("/etc/kc/prio", "garbage");
    assert.equal(set.evaluate().sum, -30);
  });

  test("binding drives an instance: weights sum, weight-0 failures fault, recovery clears", async () => {
    const env = fakeEnv();
    const clock = new FakeClock();
    const calls: string[] = [];
    const set = new TrackerSet();
    const chk = new ScriptTracker(script({ fall: 1, rise: 1 }), env, clock);
    set.add(chk);
    set.add(chk, 0); // the same script tracked with weight 0 by this instance too
    set.add(new InterfaceTracker("eth1", -10, env));
    const b = new TrackerBinding(set, {
      setTrackerSum: (n) => calls.push(`sum ${n}`),
      setFault: (s, on) => calls.push(`fault ${s} ${on}`),
    });
    b.refresh();
    env.results.push({ code: 1, timedOut: false });
    await chk.runOnce();
    env.links.set("eth1", false);
    b.refresh();
    env.results.push({ code: 0, timedOut: false });
    await chk.runOnce();
    b.refresh();
    assert.deepEqual(calls, [
      "sum 0",
      "fault track:chk true",
      "sum -30",
      "fault track:chk false",
      "sum -10",
    ]);
  });

  test("script security refuses paths non-root users can write", () => {
    const tree: Record<string, { uid: number; gid: number; mode: number }> = {
      "/": { uid: 0, gid: 0, mode: 0o755 },
      "/etc": { uid: 0, gid: 0, mode: 0o755 },
      "/etc/keepalived": { uid: 0, gid: 0, mode: 0o755 },
      "/etc/keepalived/ok.sh": { uid: 0, gid: 0, mode: 0o755 },
      "/etc/keepalived/ww.sh": { uid: 0, gid: 0, mode: 0o757 },
      "/etc/keepalived/gw.sh": { uid: 0, gid: 50, mode: 0o775 },
      "/etc/keepalived/user.sh": { uid: 1000, gid: 0, mode: 0o755 },
      "/tmp": { uid: 0, gid: 0, mode: 0o41777 },
      "/tmp/x.sh": { uid: 0, gid: 0, mode: 0o755 },
      "/srv": { uid: 0, gid: 0, mode: 0o40777 },
      "/srv/x.sh": { uid: 0, gid: 0, mode: 0o755 },
    };
    const stat = (p: string) => tree[p];
    assert.deepEqual(checkScriptSecurity("/etc/keepalived/ok.sh", stat), { ok: true });
    assert.equal(checkScriptSecurity("/etc/keepalived/ww.sh", stat).ok, false);
    assert.equal(checkScriptSecurity("/etc/keepalived/gw.sh", stat).ok, false);
    assert.equal(checkScriptSecurity("/etc/keepalived/user.sh", stat).ok, false);
    assert.equal(
      checkScriptSecurity("/etc/keepalived/user.sh", stat, { uid: 1000, gid: 1000 }).ok,
      true,
    );
    // keepalived's rule: a root-owned sticky directory (/tmp) may be world-writable.
    assert.deepEqual(checkScriptSecurity("/tmp/x.sh", stat), { ok: true });
    assert.deepEqual(checkScriptSecurity("/srv/x.sh", stat), {
      ok: false,
      path: "/srv",
      why: "writable by everyone",
    });
    assert.equal(checkScriptSecurity("relative.sh", stat).ok, false);
    const env = fakeEnv({ stat });
    assert.equal(
      new ScriptTracker(
        script({ script: "/etc/keepalived/ok.sh" }),
        env,
        new FakeClock(),
      ).insecure(),
      undefined,
    );
    assert.match(
      new ScriptTracker(script({ script: "/srv/x.sh arg" }), env, new FakeClock()).insecure() ?? "",
      /\/srv/,
    );
    assert.equal(needsShell("</dev/tcp/127.0.0.1/63790"), true);
    assert.equal(needsShell("/usr/bin/killall -0 haproxy"), false);
    assert.deepEqual(
      userFromPasswd(
        "nobody",
        "root:x:0:0::/root:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n",
      ),
      { uid: 65534, gid: 65534 },
    );
  });

  test("real environment: exit codes, timeout kills, /dev/tcp via bash, run as a user", async () => {
    const env = realEnv();
    assert.deepEqual(await env.exec("/bin/true", { timeoutMs: 2000 }), {
      code: 0,
      timedOut: false,
    });
    assert.deepEqual(await env.exec("/bin/false", { timeoutMs: 2000 }), {
      code: 1,
      timedOut: false,
    });
    const t0 = Date.now();
    const slow = await env.exec("sleep 5; true", { timeoutMs: 200 });
    assert.equal(slow.timedOut, true);
    assert.ok(Date.now() - t0 < 3000);
    // Port 1 on loopback is closed: the bash-ism fails rather than erroring out.
    assert.notEqual((await env.exec("</dev/tcp/127.0.0.1/1", { timeoutMs: 2000 })).code, 0);
    if (process.getuid?.() === 0) {
      const who = await env.exec('test "$(id -u)" = 65534', {
        timeoutMs: 2000,
        uid: 65534,
        gid: 65534,
      });
      assert.equal(who.code, 0);
    }
    assert.equal(env.linkUp("lo"), true);
    assert.equal(env.linkUp("no-such-if0"), false);
    assert.equal(checkScriptSecurity("/bin/true", (p) => env.stat(p)).ok, true);
  });
});
