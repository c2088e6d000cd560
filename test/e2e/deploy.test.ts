/**
 * What ships for production installs: the systemd units (checked by the real systemd-analyze),
 * the Dockerfile (no docker here: its COPY sources, stages and CMD are checked against the
 * repository and the CMD is run), the package metadata, and the message VRRP gives when the
 * optional raw-socket addon is missing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { freePort } from "../../tools/ports.js";
import { keepcacheBin, repoRoot, start } from "../../tools/procs.js";
import { suiteDir, until } from "../helpers/keepcache-run.js";

const root = repoRoot();
const dir = suiteDir("kc-deploy-");
const UNITS = join(root, "deploy", "systemd");
const INSTALLED = "/usr/local/bin/keepcache";

/** `Key=value` lines of a unit file (comments and sections dropped), in order. */
function directives(file: string): [string, string][] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    });
}
const settingsOf = (file: string, key: string) =>
  directives(file)
    .filter(([k]) => k === key)
    .map(([, v]) => v);

/**
 * The units as shipped, with the install path of keepcache replaced by this checkout's
 * bin/keepcache.js (systemd-analyze checks that every command exists), in a fresh directory.
 */
function stage(edit: (text: string) => string = (t) => t): string {
  const d = join(dir, `units-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(d, "keepcache.service.d"), { recursive: true });
  const copy = (from: string, to: string) =>
    writeFileSync(
      join(d, to),
      edit(readFileSync(join(UNITS, from), "utf8")).replaceAll(INSTALLED, keepcacheBin()),
    );
  copy("keepcache.service", "keepcache.service");
  copy("keepcache-vrrp.conf", "keepcache.service.d/vrrp.conf");
  copy("keepcache-node@.service", "keepcache-node@.service");
  copy("keepcache-node@.service", "keepcache-node@main.service");
  return d;
}

function verify(d: string, units: string[]) {
  return spawnSync("systemd-analyze", ["verify", ...units.map((u) => join(d, u))], {
    encoding: "utf8",
    timeout: 60_000,
  });
}

describe("systemd units", () => {
  test("systemd-analyze verify: no error and no warning on either unit and the VRRP drop-in", () => {
    const d = stage();
    const r = verify(d, [
      "keepcache.service",
      "keepcache-node@.service",
      "keepcache-node@main.service",
    ]);
    assert.equal(r.error, undefined, `systemd-analyze did not run: ${r.error}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), "");
  });

  test("a misspelt directive in the drop-in is caught (the check is live)", () => {
    const d = stage((t) =>
      t.replace("AmbientCapabilities=CAP_NET_RAW", "AmbientCapabilites=CAP_NET_RAW"),
    );
    const r = verify(d, ["keepcache.service"]);
    assert.match(r.stderr, /vrrp\.conf:\d+: Unknown key 'AmbientCapabilites'/);
  });

  test("check before start, reload by SIGHUP, restart on failure, hardened, capabilities only for VRRP", () => {
    const svc = join(UNITS, "keepcache.service");
    const node = join(UNITS, "keepcache-node@.service");
    const vrrp = join(UNITS, "keepcache-vrrp.conf");
    const conf = /^-c (\S+)$/;
    const [pre] = settingsOf(svc, "ExecStartPre");
    const [run] = settingsOf(svc, "ExecStart");
    assert.ok(pre.startsWith(`${INSTALLED} check `), pre);
    assert.ok(run.startsWith(`${INSTALLED} run `), run);
    assert.equal(
      conf.exec(pre.slice(`${INSTALLED} check `.length))?.[1],
      conf.exec(run.slice(`${INSTALLED} run `.length))?.[1],
    );
    for (const f of [svc, node]) {
      assert.deepEqual(settingsOf(f, "ExecReload"), ["/bin/kill -HUP $MAINPID"], f);
      assert.deepEqual(settingsOf(f, "Restart"), ["on-failure"], f);
      assert.deepEqual(settingsOf(f, "User"), ["keepcache"], f);
      for (const [k, v] of [
        ["NoNewPrivileges", "yes"],
        ["ProtectSystem", "strict"],
        ["ProtectHome", "yes"],
        ["PrivateTmp", "yes"],
        ["CapabilityBoundingSet", ""],
        ["AmbientCapabilities", ""],
      ])
        assert.deepEqual(settingsOf(f, k), [v], `${f}: ${k}`);
      // V8's JIT needs writable+executable memory.
      assert.deepEqual(settingsOf(f, "MemoryDenyWriteExecute"), []);
    }
    assert.deepEqual(settingsOf(vrrp, "AmbientCapabilities"), ["CAP_NET_RAW CAP_NET_ADMIN"]);
    assert.deepEqual(settingsOf(vrrp, "CapabilityBoundingSet"), ["CAP_NET_RAW CAP_NET_ADMIN"]);
    const sysusers = readFileSync(join(UNITS, "keepcache.sysusers"), "utf8");
    assert.match(sysusers, /^u keepcache /m);
  });

  test("the unit's ExecStartPre accepts every example config", () => {
    const [pre] = settingsOf(join(UNITS, "keepcache.service"), "ExecStartPre");
    const args = pre.split(" ").slice(1, -1); // check -c
    const examples = readdirSync(join(root, "examples")).filter((f) => /\.(ya?ml|conf)$/.test(f));
    assert.ok(examples.length >= 5);
    for (const f of examples) {
      const r = spawnSync(process.execPath, [keepcacheBin(), ...args, join(root, "examples", f)], {
        encoding: "utf8",
        timeout: 15_000,
      });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
  });
});

/** The Dockerfile's instructions, continuation lines joined. */
function dockerfile(): { stage: number; op: string; args: string }[] {
  const text = readFileSync(join(root, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  let stage = -1;
  return text
    .split("\n")
    .filter((l) => l.trim() && !l.trimStart().startsWith("#"))
    .map((l) => {
      const [op, ...rest] = l.trim().split(/\s+/);
      if (op === "FROM") stage++;
      return { stage, op, args: rest.join(" ") };
    });
}

describe("Dockerfile", () => {
  const ins = dockerfile();

  test("two stages on a slim node 20 image; production dependencies only; a non-root user", () => {
    const froms = ins.filter((i) => i.op === "FROM").map((i) => i.args);
    assert.equal(froms.length, 2);
    for (const f of froms) assert.match(f, /^node:20-[a-z]+-slim\b/);
    const runs = ins
      .filter((i) => i.op === "RUN" && i.stage === 0)
      .map((i) => i.args)
      .join(" ");
    assert.match(runs, /npm ci\b/);
    assert.match(runs, /npm prune --omit=dev\b/);
    const users = ins.filter((i) => i.op === "USER" && i.stage === 1).map((i) => i.args);
    assert.equal(users.length, 1);
    assert.notEqual(users[0], "root");
    assert.notEqual(users[0], "0");
  });

  test("every COPY source exists (after a build, for the build stage's outputs) and is not docker-ignored", () => {
    const ignored = readFileSync(join(root, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const c of ins.filter((i) => i.op === "COPY")) {
      const words = c.args.split(/\s+/);
      const from = words.find((w) => w.startsWith("--from="));
      const paths = words.filter((w) => !w.startsWith("--"));
      for (const src of paths.slice(0, -1)) {
        // The build stage's WORKDIR is /src, a copy of the repository built as here.
        const rel = from ? src.replace(/^\/src\//, "") : src;
        assert.ok(existsSync(join(root, rel)), `COPY ${c.args}: ${rel} does not exist`);
        if (!from)
          assert.ok(
            !ignored.some((p) => rel === p || rel.startsWith(`${p}/`)),
            `COPY ${c.args}: ${rel} is in .dockerignore`,
          );
      }
    }
  });

  test("ENTRYPOINT + CMD run with the image's default config (ports moved to free ones)", async () => {
    const json = (op: string) =>
      JSON.parse(ins.find((i) => i.op === op && i.stage === 1)!.args) as string[];
    const [entry] = json("ENTRYPOINT");
    assert.equal(entry, "keepcache");
    const cmd = json("CMD");
    // The config the image copies to the path its CMD reads.
    const copy = ins.find((i) => i.op === "COPY" && i.args.endsWith(cmd[cmd.indexOf("-c") + 1]))!;
    const shipped = readFileSync(join(root, copy.args.split(/\s+/)[0]), "utf8");
    const port = await freePort();
    const conf = join(dir, "image.yml");
    writeFileSync(conf, shipped.replace("0.0.0.0:22121", `127.0.0.1:${port}`));
    const args = cmd.map((a, i) => (cmd[i - 1] === "-c" ? conf : a));
    const p = await start(process.execPath, [keepcacheBin(), ...args, "-s", "0"], { port });
    await until(() => p.output().includes("keepcache run ready"), "run ready");
    await p.stop();
    assert.equal(p.child.exitCode, 0, p.output());
  });
});

describe("package", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

  test("LICENSE is the Apache 2.0 text package.json names; repository, bugs, homepage set", () => {
    assert.equal(pkg.license, "Apache-2.0");
    assert.match(
      readFileSync(join(root, "LICENSE"), "utf8"),
      /Apache License\s+Version 2\.0, January 2004/,
    );
    assert.match(pkg.repository.url, /github\.com\/keepcache\/keepcache\.git$/);
    assert.match(pkg.bugs.url, /\/issues$/);
    assert.ok(pkg.homepage);
    for (const f of pkg.files) assert.ok(existsSync(join(root, f)), `files: ${f}`);
  });

  test("raw-socket is optional; without it VRRP says how to get it, and the rest runs", async () => {
    assert.equal(pkg.dependencies["raw-socket"], undefined);
    assert.ok(pkg.optionalDependencies["raw-socket"]);
    // An install without the addon: this build and every other package, raw-socket left out.
    const inst = join(dir, "no-raw-socket");
    mkdirSync(join(inst, "node_modules"), { recursive: true });
    cpSync(join(root, "bin"), join(inst, "bin"), { recursive: true });
    cpSync(join(root, "dist", "src"), join(inst, "dist", "src"), { recursive: true });
    cpSync(join(root, "package.json"), join(inst, "package.json"));
    for (const m of readdirSync(join(root, "node_modules")))
      if (m !== "raw-socket" && !m.startsWith("."))
        symlinkSync(join(root, "node_modules", m), join(inst, "node_modules", m));
    const conf = join(dir, "vrrp.yml");
    writeFileSync(
      conf,
      "vrrp:\n  instances:\n    VI_1:\n      interface: lo\n      virtual_router_id: 51\n      priority: 100\n      virtual_ipaddress: [127.0.0.99/32]\n",
    );
    const bin = join(inst, "bin", "keepcache.js");
    const r = spawnSync(process.execPath, [bin, "vrrp", "-c", conf], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /VRRP needs the optional native package 'raw-socket'/);
    assert.match(r.stderr, /npm install raw-socket/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    const ok = spawnSync(process.execPath, [bin, "check", "-c", conf], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(ok.status, 0, ok.stderr);
  });
});
