import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { commandArgv, needsShell, splitCommand } from "../../../src/scripts/command.js";
import { findOnPath } from "../../../src/scripts/path.js";
import { prepareScript, runScript, spawnScript } from "../../../src/scripts/run.js";
import {
  checkScriptSecurity,
  type StatLike,
  scriptSecurityProblem,
} from "../../../src/scripts/security.js";
import { lookupUser, userFromPasswd } from "../../../src/scripts/users.js";

const DIR = 0o040000;
const FILE = 0o100000;

/** A root-owned tree plus the entries a test adds. */
function tree(extra: Record<string, StatLike>) {
  const t: Record<string, StatLike> = {
    "/": { uid: 0, gid: 0, mode: DIR | 0o755 },
    "/usr": { uid: 0, gid: 0, mode: DIR | 0o755 },
    "/usr/bin": { uid: 0, gid: 0, mode: DIR | 0o755 },
    "/usr/bin/true": { uid: 0, gid: 0, mode: FILE | 0o755 },
    "/bin": { uid: 0, gid: 0, mode: DIR | 0o755 },
    "/bin/bash": { uid: 0, gid: 0, mode: FILE | 0o755 },
    ...extra,
  };
  return { stat: (p: string) => t[p], exists: (p: string) => p in t };
}

describe("script security: keepalived's check_script_secure rule", () => {
  test("owner, group and world write on the file and every directory above it", () => {
    const fs = tree({
      "/etc": { uid: 0, gid: 0, mode: DIR | 0o755 },
      "/etc/k": { uid: 0, gid: 0, mode: DIR | 0o755 },
      "/etc/k/ok.sh": { uid: 0, gid: 0, mode: FILE | 0o755 },
      "/etc/k/root-group.sh": { uid: 0, gid: 0, mode: FILE | 0o775 },
      "/etc/k/group.sh": { uid: 0, gid: 50, mode: FILE | 0o775 },
      "/etc/k/world.sh": { uid: 0, gid: 0, mode: FILE | 0o757 },
      "/etc/k/user.sh": { uid: 1000, gid: 0, mode: FILE | 0o755 },
      "/home": { uid: 0, gid: 0, mode: DIR | 0o755 },
      "/home/u": { uid: 1000, gid: 1000, mode: DIR | 0o755 },
      "/home/u/x.sh": { uid: 0, gid: 0, mode: FILE | 0o755 },
    });
    assert.deepEqual(checkScriptSecurity("/etc/k/ok.sh", fs.stat), { ok: true });
    assert.deepEqual(checkScriptSecurity("/etc/k/root-group.sh", fs.stat), { ok: true });
    assert.deepEqual(checkScriptSecurity("/etc/k/group.sh", fs.stat), {
      ok: false,
      path: "/etc/k/group.sh",
      why: "writable by group 50",
    });
    assert.deepEqual(checkScriptSecurity("/etc/k/world.sh", fs.stat), {
      ok: false,
      path: "/etc/k/world.sh",
      why: "writable by everyone",
    });
    assert.deepEqual(checkScriptSecurity("/etc/k/user.sh", fs.stat), {
      ok: false,
      path: "/etc/k/user.sh",
      why: "owned by uid 1000",
    });
    // A directory a user owns can have its entries replaced: refused even if the file is root's.
    assert.deepEqual(checkScriptSecurity("/home/u/x.sh", fs.stat), {
      ok: false,
      path: "/home/u",
      why: "owned by uid 1000",
    });
    assert.deepEqual(checkScriptSecurity("/etc/k/missing.sh", fs.stat), {
      ok: false,
      path: "/etc/k/missing.sh",
      why: "does not exist",
    });
    assert.equal(checkScriptSecurity("relative.sh", fs.stat).ok, false);
  });

  test("one sticky-directory rule: a sticky directory may be writable, a file never", () => {
    const fs = tree({
      "/tmp": { uid: 0, gid: 0, mode: DIR | 0o1777 },
      "/tmp/root.sh": { uid: 0, gid: 0, mode: FILE | 0o755 },
      "/tmp/planted.sh": { uid: 1000, gid: 1000, mode: FILE | 0o755 },
      "/tmp/sticky-file.sh": { uid: 0, gid: 0, mode: FILE | 0o1777 },
      "/srv": { uid: 0, gid: 0, mode: DIR | 0o777 },
      "/srv/x.sh": { uid: 0, gid: 0, mode: FILE | 0o755 },
      "/usersticky": { uid: 1000, gid: 0, mode: DIR | 0o1777 },
      "/usersticky/x.sh": { uid: 0, gid: 0, mode: FILE | 0o755 },
    });
    assert.deepEqual(checkScriptSecurity("/tmp/root.sh", fs.stat), { ok: true });
    assert.deepEqual(checkScriptSecurity("/tmp/planted.sh", fs.stat), {
      ok: false,
      path: "/tmp/planted.sh",
      why: "owned by uid 1000",
    });
    assert.equal(checkScriptSecurity("/tmp/sticky-file.sh", fs.stat).ok, false);
    assert.deepEqual(checkScriptSecurity("/srv/x.sh", fs.stat), {
      ok: false,
      path: "/srv",
      why: "writable by everyone",
    });
    // Sticky does not excuse a non-root owner.
    assert.equal(checkScriptSecurity("/usersticky/x.sh", fs.stat).ok, false);
  });

  test("only scripts that run as root are checked, or setuid/setgid-root files", () => {
    const fs = tree({
      "/srv": { uid: 0, gid: 0, mode: DIR | 0o777 },
      "/srv/x.sh": { uid: 0, gid: 0, mode: FILE | 0o755 },
      "/srv/suid": { uid: 0, gid: 0, mode: FILE | 0o4755 },
      "/srv/sgid": { uid: 0, gid: 0, mode: FILE | 0o2755 },
    });
    const nobody = { uid: 65534, gid: 65534 };
    assert.deepEqual(checkScriptSecurity("/srv/x.sh", fs.stat, nobody), { ok: true });
    assert.equal(checkScriptSecurity("/srv/x.sh", fs.stat, { uid: 65534, gid: 0 }).ok, false);
    assert.equal(checkScriptSecurity("/srv/suid", fs.stat, nobody).ok, false);
    assert.equal(checkScriptSecurity("/srv/sgid", fs.stat, nobody).ok, false);
  });

  test("a script line: the shell when it needs one, the first word on PATH", () => {
    const fs = tree({ "/usr/bin/evil": { uid: 1000, gid: 0, mode: FILE | 0o755 } });
    const o = { ...fs, pathEnv: "/usr/bin:/bin" };
    assert.equal(scriptSecurityProblem("true --x", { ...o, shell: false }), undefined);
    assert.equal(
      scriptSecurityProblem("evil", { ...o, shell: false }),
      "/usr/bin/evil owned by uid 1000",
    );
    assert.match(scriptSecurityProblem("nope", { ...o, shell: false }) ?? "", /cannot find/);
    // `</dev/tcp/...` runs no program but bash, which is checked.
    assert.equal(
      scriptSecurityProblem("</dev/tcp/127.0.0.1/6379", { ...o, shell: true }),
      undefined,
    );
    const badBash = tree({ "/bin/bash": { uid: 0, gid: 0, mode: FILE | 0o777 } });
    assert.equal(
      scriptSecurityProblem("true | true", { ...badBash, pathEnv: "/usr/bin", shell: true }),
      "/bin/bash writable by everyone",
    );
  });
});

describe("script command lines and users", () => {
  test("words, quotes, escapes and when a shell is needed", () => {
    assert.deepEqual(splitCommand(`/bin/x a "b c" 'd "e"' f\\ g ""`), [
      "/bin/x",
      "a",
      "b c",
      'd "e"',
      "f g",
      "",
    ]);
    assert.equal(needsShell("</dev/tcp/127.0.0.1/63790"), true);
    assert.equal(needsShell("/usr/bin/killall -0 haproxy"), false);
    const exists = (p: string) => p === "/bin/bash";
    assert.deepEqual(commandArgv("a > b", { shell: true, exists }), ["/bin/bash", "-c", "a > b"]);
    assert.deepEqual(commandArgv("a > b", { shell: false, exists }), ["a", ">", "b"]);
    assert.deepEqual(commandArgv("a > b", { shell: true, exists: () => false })[0], "/bin/sh");
  });

  test("users by name or uid from passwd text, numbers pass through", () => {
    const passwd = "root:x:0:0::/root:/bin/bash\nnobody:x:65534:65534::/:/usr/sbin/nologin\n";
    assert.deepEqual(userFromPasswd("nobody", passwd), { uid: 65534, gid: 65534 });
    assert.deepEqual(userFromPasswd("65534", passwd), { uid: 65534, gid: 65534 });
    assert.deepEqual(userFromPasswd("4242", passwd), { uid: 4242, gid: 4242 });
    assert.equal(userFromPasswd("ghost", passwd), undefined);
    assert.deepEqual(lookupUser("root"), { uid: 0, gid: 0 });
    assert.equal(findOnPath("sh", undefined, "/nonexistent:/bin"), "/bin/sh");
    assert.equal(findOnPath("no-such-program-kc", undefined, "/bin"), undefined);
  });
});

describe("running scripts (real processes)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-scripts-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("exit codes, extra args, env, and a timeout that kills the whole group", async () => {
    const sh = join(dir, "s.sh");
    writeFileSync(
      sh,
      '#!/bin/sh\n[ "$1" = sleep ] && { sleep 30 & wait; }\n[ -n "$1" ] && exit "$1"\nexit "$X"\n',
    );
    chmodSync(sh, 0o755);
    chmodSync(dir, 0o755);
    assert.equal((await runScript(`${sh} 3`, { secure: false })).code, 3);
    assert.equal((await runScript(sh, { secure: false, args: ["4"] })).code, 4);
    const env = { ...process.env, X: "5" };
    assert.equal((await runScript(sh, { secure: false, env })).code, 5);
    const t0 = Date.now();
    const slow = await spawnScript([sh, "sleep"], { timeoutMs: 100 });
    assert.equal(slow.timedOut, true);
    assert.equal(slow.signal, "SIGTERM");
    assert.ok(Date.now() - t0 < 2000);
    const ctl = new AbortController();
    const p = spawnScript([sh, "sleep"], { signal: ctl.signal });
    ctl.abort();
    assert.equal((await p).timedOut, true);
  });

  test("refusals carry KC_PERMISSION", async () => {
    await assert.rejects(spawnScript([join(dir, "missing")]), { code: "KC_PERMISSION" });
    assert.throws(() => prepareScript("   "), { code: "KC_PERMISSION" });
    assert.throws(() => prepareScript("/bin/true", { user: "no-such-user-kc" }), {
      code: "KC_PERMISSION",
    });
    if (process.getuid?.() === 0) {
      const ww = join(dir, "ww.sh");
      writeFileSync(ww, "#!/bin/sh\nexit 0\n");
      chmodSync(ww, 0o777);
      assert.throws(() => prepareScript(ww), /refusing insecure script: .*writable by everyone/);
      // As nobody the script cannot gain root, so keepalived does not check it.
      assert.equal(prepareScript(ww, { user: "nobody" }).ids?.uid, 65534);
    } else {
      assert.throws(() => prepareScript("/bin/true", { user: "root" }), /when not root/);
    }
  });
});
