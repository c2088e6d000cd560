/**
 * Two keepcache hosts in network namespaces the test creates (tools/netns.ts): the VIP
 * moves on kill -9 of the master within Master_Down_Interval + one advert (RFC 5798 §6.4.2),
 * on a failing track_script, nopreempt holds, a clean stop hands over after Skew_Time only
 * (§6.4.3), client TCP traffic to the VIP follows the move, and while the two can hear each
 * other they never both hold the VIP for longer than one advert interval. Also: without
 * CAP_NET_RAW startup fails with KC_PERMISSION.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createLab,
  type Lab,
  type LabProc,
  masterDownMs,
  probe,
  startEcho,
  startKeepcacheVrrp,
  VipSampler,
  waitFor,
} from "../../tools/netns.js";
import { keepcacheBin } from "../../tools/procs.js";

const ADVERT_S = 0.2;
const ADVERT_MS = ADVERT_S * 1000;
/** Our poll of `ip addr` runs every 10 ms and takes a few ms itself. */
const POLL_SLACK_MS = 50;
const PORT = 7000;

function instanceYaml(o: {
  prio: number;
  vip: string;
  nopreempt?: boolean;
  trackFile?: string;
}): string {
  const lines = [
    "vrrp:",
    ...(o.trackFile
      ? ["  scripts:", "    chk_ok:", `      script: /usr/bin/test -f ${o.trackFile}`]
      : []),
    ...(o.trackFile
      ? ["      interval: 0.1", "      weight: -60", "      fall: 1", "      rise: 1"]
      : []),
    "  instances:",
    "    VI_1:",
    "      interface: eth0",
    `      state: ${o.nopreempt ? "BACKUP" : "MASTER"}`,
    "      virtual_router_id: 51",
    `      priority: ${o.prio}`,
    `      advert_int: ${ADVERT_S}`,
    "      version: 3",
    `      nopreempt: ${o.nopreempt === true}`,
    `      virtual_ipaddress: ["${o.vip}/24"]`,
    "      garp_master_delay: 1",
    ...(o.trackFile ? ["      track_script: [chk_ok]"] : []),
  ];
  return `${lines.join("\n")}\n`;
}

describe("vrrp: two keepcache hosts", () => {
  let lab: Lab;
  let dir: string;
  let vip: string;
  let h1: string;
  let h2: string;
  let p1: LabProc | undefined;
  let p2: LabProc | undefined;
  let sampler: VipSampler;
  const flag = () => join(dir, "ok");

  before(async () => {
    lab = await createLab(2, 1);
    dir = mkdtempSync(join(tmpdir(), "kc-vrrp-"));
    chmodSync(dir, 0o755);
    vip = lab.addr(100);
    [h1, h2] = lab.hosts.map((h) => h.ns);
    startEcho(lab, h1, PORT, "h1");
    startEcho(lab, h2, PORT, "h2");
    sampler = new VipSampler(lab, [h1, h2], vip, 50);
  });

  after(async () => {
    await sampler?.stop();
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const holds = (ns: string) => lab.hasAddr(ns, vip);
  const clientSees = async (name: string, ms: number) =>
    (await waitFor(async () => (await probe(lab, vip, PORT)) === name, ms, 50)) >= 0;

  test("the higher priority wins and client traffic reaches it", async () => {
    writeFileSync(flag(), "1");
    p1 = startKeepcacheVrrp(
      lab,
      h1,
      join(dir, "h1.yml"),
      instanceYaml({ prio: 150, vip, trackFile: flag() }),
    );
    p2 = startKeepcacheVrrp(lab, h2, join(dir, "h2.yml"), instanceYaml({ prio: 100, vip }));
    const t = await waitFor(() => holds(h1), 10_000);
    assert.ok(t >= 0, `h1 never took the VIP:\n${p1.output()}`);
    // Give h2 a chance to (wrongly) grab it as well.
    await new Promise((r) => setTimeout(r, masterDownMs(100, ADVERT_S)));
    assert.equal(await holds(h2), false, p2.output());
    assert.ok(await clientSees("h1", 3000), "client cannot reach h1 through the VIP");
  });

  test("kill -9 of the master: the backup takes over within Master_Down_Interval + one advert", async () => {
    assert.ok(p1 && p2);
    await p1.kill("SIGKILL");
    const t0 = performance.now();
    // A killed keepcache cannot remove its VIP; on a dead host it is gone with the host, so
    // drop the namespace's stale copy (the overlap sampler would count it otherwise).
    await lab.exec(h1, "ip", ["addr", "del", `${vip}/24`, "dev", "eth0"]).catch(() => "");
    const took = await waitFor(() => holds(h2), 5000, 10);
    const bound = masterDownMs(100, ADVERT_S) + ADVERT_MS + POLL_SLACK_MS;
    assert.ok(took >= 0, `h2 never took the VIP:\n${p2.output()}`);
    assert.ok(performance.now() - t0 <= bound + 100, `took ${took.toFixed(0)} ms`);
    assert.ok(took <= bound, `takeover took ${took.toFixed(0)} ms, bound ${bound.toFixed(0)} ms`);
    assert.ok(await clientSees("h2", 3000), "client traffic did not move to h2");
  });

  test("restarted h1 preempts; its track_script failing moves the VIP back to h2", async () => {
    p1 = startKeepcacheVrrp(
      lab,
      h1,
      join(dir, "h1.yml"),
      instanceYaml({ prio: 150, vip, trackFile: flag() }),
    );
    const back = await waitFor(async () => (await holds(h1)) && !(await holds(h2)), 5000);
    assert.ok(back >= 0, `h1 did not preempt:\n${p1.output()}`);
    assert.ok(await clientSees("h1", 3000), "client traffic did not return to h1");
    unlinkSync(flag());
    const took = await waitFor(async () => (await holds(h2)) && !(await holds(h1)), 5000, 10);
    // Script interval + its run time, then h1 adverts 90 and h2 preempts after its down timer.
    const bound = 100 + 100 + masterDownMs(100, ADVERT_S) + ADVERT_MS + POLL_SLACK_MS;
    assert.ok(took >= 0, `VIP did not move on track_script failure:\n${p1.output()}`);
    assert.ok(took <= bound, `took ${took.toFixed(0)} ms, bound ${bound.toFixed(0)} ms`);
    assert.ok(await clientSees("h2", 3000), "client traffic did not move to h2");
  });

  test("while both hear each other they never both hold the VIP longer than one advert", async () => {
    await p1?.kill("SIGTERM");
    await p2?.kill("SIGTERM");
    const overlap = await sampler.stop();
    assert.ok(sampler.samples > 20, `only ${sampler.samples} samples`);
    // One sample period (50 ms) of measurement uncertainty on top of the advert interval.
    assert.ok(overlap <= ADVERT_MS + 50, `both held the VIP for ${overlap.toFixed(0)} ms`);
    // A clean stop removes the VIP.
    assert.equal(await holds(h1), false);
    assert.equal(await holds(h2), false);
  });

  test("nopreempt: a higher-priority backup does not take over; a clean stop hands over fast", async () => {
    p2 = startKeepcacheVrrp(
      lab,
      h2,
      join(dir, "n2.yml"),
      instanceYaml({ prio: 100, vip, nopreempt: true }),
    );
    assert.ok((await waitFor(() => holds(h2), 5000)) >= 0, p2.output());
    p1 = startKeepcacheVrrp(
      lab,
      h1,
      join(dir, "n1.yml"),
      instanceYaml({ prio: 150, vip, nopreempt: true }),
    );
    await new Promise((r) => setTimeout(r, 3 * masterDownMs(150, ADVERT_S)));
    assert.equal(await holds(h1), false, `h1 preempted despite nopreempt:\n${p1.output()}`);
    assert.equal(await holds(h2), true);
    // SIGTERM: priority-0 advert, so h1 waits only Skew_Time (RFC 5798 §6.4.3).
    const stopping = p2.kill("SIGTERM");
    const took = await waitFor(() => holds(h1), 3000, 10);
    await stopping;
    const skew = ((256 - 150) * ADVERT_MS) / 256;
    assert.ok(took >= 0, p1.output());
    assert.ok(
      took <= skew + ADVERT_MS + 150,
      `took ${took.toFixed(0)} ms after a priority-0 advert`,
    );
    await p1.kill("SIGTERM");
  });
});

test("vrrp: without CAP_NET_RAW startup fails with KC_PERMISSION", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kc-vrrp-perm-"));
  try {
    chmodSync(dir, 0o755);
    const f = join(dir, "v.yml");
    writeFileSync(f, instanceYaml({ prio: 100, vip: "10.213.9.100" }).replace("eth0", "lo"));
    chmodSync(f, 0o644);
    const child = spawn(process.execPath, [keepcacheBin(), "vrrp", "-c", f], {
      uid: 65534,
      gid: 65534,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await new Promise<number | null>((r) => child.once("exit", r));
    clearTimeout(timer);
    assert.equal(code, 1, err);
    assert.match(err, /CAP_NET_RAW/);
    assert.match(err, /KC_PERMISSION/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
