/**
 * SIGHUP and SIGUSR1 to the VRRP speakers, in network namespaces the test creates
 * (test/helpers/netns.ts). `keepcache run` applies VRRP changes on SIGHUP as keepalived does:
 * a new instance comes up, a removed one leaves with its VIP, and the VIP of an unchanged
 * instance is never dropped (`ip addr` polled every few ms through each reload; a backup on a
 * second host would take it over if the instance restarted). `keepcache vrrp` reloads the same
 * way, keeps running on an invalid file, answers SIGUSR1 with a dump of its instances and no
 * new port, and on SIGTERM hands over at once with a priority-0 advert and removes its VIPs.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createLab, type Lab, type LabProc, masterDownMs, waitFor } from "../../tools/netns.js";
import { keepcacheBin } from "../../tools/procs.js";

const ADVERT_S = 0.2;

function instance(name: string, vrid: number, prio: number, vip: string): string[] {
  return [
    `    ${name}:`,
    "      interface: eth0",
    "      state: BACKUP",
    `      virtual_router_id: ${vrid}`,
    `      priority: ${prio}`,
    `      advert_int: ${ADVERT_S}`,
    "      version: 3",
    `      virtual_ipaddress: ["${vip}/24"]`,
  ];
}

function vrrpYaml(instances: string[][], extra: string[] = []): string {
  return `${[...extra, "vrrp:", "  instances:", ...instances.flat()].join("\n")}\n`;
}

/** Polls `ip addr` in `ns` back to back until stopped; counts samples without `vip`. */
class Watch {
  private stopped = false;
  samples = 0;
  missing = 0;
  private readonly loop: Promise<void>;
  constructor(lab: Lab, ns: string, vip: string) {
    this.loop = (async () => {
      for (let i = 0; i < 100_000 && !this.stopped; i++) {
        this.samples++;
        if (!(await lab.hasAddr(ns, vip))) this.missing++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
  }
  async stop(): Promise<{ samples: number; missing: number }> {
    this.stopped = true;
    await this.loop;
    return { samples: this.samples, missing: this.missing };
  }
}

describe("vrrp: SIGHUP reloads and SIGUSR1 dumps", { timeout: 120_000 }, () => {
  let lab: Lab;
  let dir: string;
  let h1: string;
  let h2: string;
  let vip1: string;
  let vip2: string;
  let backup: LabProc | undefined;

  before(async () => {
    lab = await createLab(2, 3);
    dir = mkdtempSync(join(tmpdir(), "kc-vrrp-reload-"));
    [h1, h2] = lab.hosts.map((h) => h.ns);
    vip1 = lab.addr(100);
    vip2 = lab.addr(101);
    // h2 backs up VI_1 only: if h1 ever restarted VI_1 (priority-0 advert), h2 would take it.
    const f = join(dir, "h2.yml");
    writeFileSync(f, vrrpYaml([instance("VI_1", 51, 100, vip1)]));
    backup = lab.spawn(h2, process.execPath, [keepcacheBin(), "vrrp", "-c", f]);
  });

  after(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const holds = (ns: string, vip: string) => lab.hasAddr(ns, vip);
  const env = (dump: string) => ({
    ...process.env,
    KEEPCACHE_LOG_FORMAT: "json",
    KEEPCACHE_DUMP_FILE: dump,
  });

  /** Rewrites `file`, SIGHUPs `p`, and watches vip1 on h1 until `done` holds. */
  async function reloadWatching(
    p: LabProc,
    file: string,
    yaml: string,
    done: () => Promise<boolean>,
    what: string,
  ): Promise<void> {
    const watch = new Watch(lab, h1, vip1);
    await new Promise((r) => setTimeout(r, 100));
    writeFileSync(file, yaml);
    p.child.kill("SIGHUP");
    const t = await waitFor(done, 5000, 10);
    // Past the reload: a wrongly restarted VI_1 would lose the VIP within Master_Down_Interval.
    await new Promise((r) => setTimeout(r, masterDownMs(100, ADVERT_S) + 200));
    const w = await watch.stop();
    assert.ok(t >= 0, `${what}:\n${p.output()}`);
    assert.ok(w.samples > 50, `polled ip addr ${w.samples} times`);
    assert.equal(
      w.missing,
      0,
      `vip1 missing in ${w.missing} of ${w.samples} samples:\n${p.output()}`,
    );
    assert.equal(p.child.exitCode, null, "still running");
  }

  test("run: SIGHUP adds, changes and removes instances; the unchanged one keeps its VIP", async (t) => {
    const file = join(dir, "run.yml");
    const dump = join(dir, "run-dump.json");
    const one = [instance("VI_1", 51, 150, vip1)];
    writeFileSync(file, vrrpYaml(one));
    const run = lab.spawn(h1, process.execPath, [keepcacheBin(), "run", "-c", file], env(dump));
    // Should an assertion fail, the next test must not find this process still holding VIPs.
    t.after(() => run.kill());
    assert.ok((await waitFor(() => holds(h1, vip1), 10_000)) >= 0, run.output());
    // h1 preempts h2 (150 > 100): h2, master until h1's first advert, then releases the VIP
    // (RFC 5798 6.4.3: a higher-priority advert makes a master a backup). Right after h1
    // took it, h2 may still hold it for that advert's flight; both at once is what the
    // reloads below must never cause.
    assert.ok((await waitFor(async () => !(await holds(h2, vip1)), 5000)) >= 0, "h2 released VI_1");

    const two = [...one, instance("VI_2", 52, 150, vip2)];
    await reloadWatching(run, file, vrrpYaml(two), () => holds(h1, vip2), "VI_2 came up");
    // A changed instance restarts (new priority); VI_1 is untouched.
    const changed = [...one, instance("VI_2", 52, 140, vip2)];
    await reloadWatching(
      run,
      file,
      vrrpYaml(changed),
      async () => run.output().includes('"changed":["VI_2"]') && (await holds(h1, vip2)),
      "VI_2 restarted with its new priority",
    );
    await reloadWatching(
      run,
      file,
      vrrpYaml(one),
      async () => !(await holds(h1, vip2)),
      "VI_2 removed with its VIP",
    );

    run.child.kill("SIGUSR1");
    assert.ok((await waitFor(async () => existsSync(dump), 5000)) >= 0, run.output());
    const doc = JSON.parse(readFileSync(dump, "utf8")) as {
      vrrp: { name: string; state: string }[];
    };
    assert.deepEqual(
      doc.vrrp.map((i) => [i.name, i.state]),
      [["VI_1", "MASTER"]],
    );
    assert.equal(run.child.exitCode, null);

    await run.kill("SIGTERM");
    assert.equal(run.child.exitCode, 0, run.output());
    assert.equal(await holds(h1, vip1), false, "VIP removed on SIGTERM");
    assert.ok((await waitFor(() => holds(h2, vip1), 3000, 10)) >= 0, "h2 took over VI_1");
  });

  test("vrrp: SIGHUP reloads (an invalid file changes nothing), SIGUSR1 dumps, SIGTERM hands over at once", async () => {
    const file = join(dir, "vrrp.yml");
    const dump = join(dir, "vrrp-dump.json");
    const one = [instance("VI_1", 51, 150, vip1)];
    writeFileSync(file, vrrpYaml(one));
    const p = lab.spawn(h1, process.execPath, [keepcacheBin(), "vrrp", "-c", file], env(dump));
    // h1 preempts h2 (150 > 100).
    assert.ok((await waitFor(() => holds(h1, vip1), 10_000)) >= 0, p.output());
    assert.ok((await waitFor(async () => !(await holds(h2, vip1)), 5000)) >= 0);

    const two = [...one, instance("VI_2", 52, 150, vip2)];
    await reloadWatching(p, file, vrrpYaml(two), () => holds(h1, vip2), "VI_2 came up");
    await reloadWatching(
      p,
      file,
      "vrrp: {instances: {VI_1: {interface: eth0, priority: 999}}}\n",
      async () => p.output().includes("reload rejected"),
      "the invalid file refused",
    );
    assert.equal(await holds(h1, vip2), true, "VI_2 kept after a refused reload");

    const ports = async () =>
      (await lab.exec(h1, "ss", ["-Hltnp"])).split("\n").filter((l) => l.includes("node"));
    const before = await ports();
    p.child.kill("SIGUSR1");
    assert.ok((await waitFor(async () => existsSync(dump), 5000)) >= 0, p.output());
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await ports(), before, "SIGUSR1 opened no listening port");
    const doc = JSON.parse(readFileSync(dump, "utf8")) as {
      command: string;
      vrrp: { name: string; vips: string[] }[];
    };
    assert.equal(doc.command, "vrrp");
    assert.deepEqual(
      doc.vrrp.map((i) => i.name),
      ["VI_1", "VI_2"],
    );

    // The priority-0 advert: h2 takes over after Skew_Time, not Master_Down_Interval.
    const t0 = performance.now();
    await p.kill("SIGTERM");
    assert.equal(p.child.exitCode, 0, p.output());
    assert.equal(await holds(h1, vip1), false);
    assert.equal(await holds(h1, vip2), false);
    const took = await waitFor(() => holds(h2, vip1), 3000, 10);
    assert.ok(took >= 0, backup?.output());
    const elapsed = performance.now() - t0;
    assert.ok(
      elapsed < masterDownMs(100, ADVERT_S),
      `handover took ${elapsed.toFixed(0)} ms: no priority-0 advert?`,
    );
  });
});
