/**
 * Interop with the real keepalived (Debian package) in one VRRP group, in namespaces the test
 * creates: election by priority and VIP hand-over in both directions, for VRRPv3 at 0.1 s
 * (centisecond intervals, RFC 5798 §5.2.4) and VRRPv2 at 1 s with PASS authentication
 * (RFC 3768 §5.3.6.1, keepalived's auth_pass).
 */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createLab,
  type Lab,
  type LabProc,
  masterDownMs,
  startKeepalived,
  startKeepcacheVrrp,
  waitFor,
} from "../../tools/netns.js";

interface Peer {
  prio: number;
  vip: string;
  version: 2 | 3;
  advert: number;
  pass?: string;
}

function keepalivedConf(p: Peer): string {
  return `global_defs {
  router_id kc_interop
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 61
  priority ${p.prio}
  advert_int ${p.advert}
  version ${p.version}
${p.pass ? `  authentication {\n    auth_type PASS\n    auth_pass ${p.pass}\n  }\n` : ""}  virtual_ipaddress {
    ${p.vip}/24
  }
}
`;
}

function keepcacheYaml(p: Peer): string {
  return `vrrp:
  instances:
    VI_1:
      interface: eth0
      virtual_router_id: 61
      priority: ${p.prio}
      advert_int: ${p.advert}
      version: ${p.version}
      virtual_ipaddress: ["${p.vip}/24"]
${p.pass ? `      authentication: { auth_type: PASS, auth_pass: "${p.pass}" }\n` : ""}`;
}

describe("vrrp: interop with keepalived", () => {
  let lab: Lab;
  let dir: string;
  let kc: string;
  let ka: string;
  let vip: string;

  before(async () => {
    lab = await createLab(2, 2);
    dir = mkdtempSync(join(tmpdir(), "kc-vrrp-ka-"));
    chmodSync(dir, 0o755);
    [kc, ka] = lab.hosts.map((h) => h.ns);
    vip = lab.addr(100);
  });

  after(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const holds = (ns: string) => lab.hasAddr(ns, vip);
  const only = (ns: string) => async () => (await holds(ns)) && !(await holds(ns === kc ? ka : kc));
  const logs = (...ps: (LabProc | undefined)[]) => ps.map((p) => p?.output() ?? "").join("\n---\n");

  test("v3 at 0.1 s: keepcache (150) wins over keepalived (100) and hands over both ways", async () => {
    const advert = 0.1;
    const kaProc = startKeepalived(
      lab,
      ka,
      dir,
      keepalivedConf({ prio: 100, vip, version: 3, advert }),
    );
    let kcProc: LabProc | undefined = startKeepcacheVrrp(
      lab,
      kc,
      join(dir, "kc3.yml"),
      keepcacheYaml({ prio: 150, vip, version: 3, advert }),
    );
    assert.ok((await waitFor(only(kc), 8000)) >= 0, logs(kcProc, kaProc));
    // keepalived must keep accepting our adverts: it stays backup over several of its intervals.
    await new Promise((r) => setTimeout(r, 3 * masterDownMs(100, advert)));
    assert.ok(
      await only(kc)(),
      `keepalived took the VIP from a higher-priority keepcache:\n${logs(kcProc, kaProc)}`,
    );

    // keepcache → keepalived: a clean stop sends priority 0; keepalived waits Skew_Time only.
    const stopping = kcProc.kill("SIGTERM");
    const took = await waitFor(only(ka), 3000, 10);
    await stopping;
    assert.ok(took >= 0, `keepalived did not take over:\n${logs(kcProc, kaProc)}`);
    assert.ok(took <= masterDownMs(100, advert) + 200, `keepalived took ${took.toFixed(0)} ms`);

    // keepalived → keepcache: keepcache comes back with the higher priority and preempts.
    kcProc = startKeepcacheVrrp(
      lab,
      kc,
      join(dir, "kc3.yml"),
      keepcacheYaml({ prio: 150, vip, version: 3, advert }),
    );
    assert.ok(
      (await waitFor(only(kc), 5000)) >= 0,
      `keepcache did not preempt:\n${logs(kcProc, kaProc)}`,
    );
    await kcProc.kill("SIGTERM");
    await kaProc.kill("SIGTERM");
  });

  test("v2 at 1 s with PASS: keepalived (150) wins over keepcache (100); hand-over both ways", async () => {
    const advert = 1;
    const pass = "s3cret";
    let kaProc: LabProc | undefined = startKeepalived(
      lab,
      ka,
      dir,
      keepalivedConf({ prio: 150, vip, version: 2, advert, pass }),
    );
    const kcProc = startKeepcacheVrrp(
      lab,
      kc,
      join(dir, "kc2.yml"),
      keepcacheYaml({ prio: 100, vip, version: 2, advert, pass }),
    );
    assert.ok((await waitFor(only(ka), 10_000)) >= 0, logs(kcProc, kaProc));
    // Past keepcache's own Master_Down_Interval: it heard keepalived and stayed backup.
    await new Promise((r) => setTimeout(r, masterDownMs(100, advert, 2) - 2000));
    assert.ok(await only(ka)(), `keepcache took the VIP from keepalived:\n${logs(kcProc, kaProc)}`);

    // keepalived → keepcache: keepalived's shutdown advert (priority 0), keepcache takes over.
    const stopping = kaProc.kill("SIGTERM");
    const took = await waitFor(only(kc), 6000, 10);
    await stopping;
    assert.ok(took >= 0, `keepcache did not take over:\n${logs(kcProc, kaProc)}`);

    // keepcache → keepalived: keepalived returns with the higher priority and preempts.
    kaProc = startKeepalived(
      lab,
      ka,
      dir,
      keepalivedConf({ prio: 150, vip, version: 2, advert, pass }),
    );
    assert.ok(
      (await waitFor(only(ka), 10_000)) >= 0,
      `keepalived did not preempt:\n${logs(kcProc, kaProc)}`,
    );
    await kaProc.kill("SIGTERM");
    await kcProc.kill("SIGTERM");
  });
});
