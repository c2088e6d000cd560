/**
 * `npm run bench -- vrrp` (root only: it creates network namespaces): takeover time, from
 * kill -9 of the master's VRRP process to the VIP present on the backup, keepcache↔keepcache
 * beside keepalived↔keepalived in the same namespace setup (tools/netns.ts), VRRPv3 at
 * advert_int 1 s and 0.1 s, priorities 150 (master) / 100 (backup). The RFC 5798 §6.1 figure
 * is Master_Down_Interval minus the time since the last advert, so a single kill lands anywhere
 * in [MDI - advert, MDI]; several kills are averaged. Runs directly too: node dist/bench/vrrp/index.js
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createLab,
  type Lab,
  type LabProc,
  masterDownMs,
  startKeepalived,
  startKeepcacheVrrp,
  waitFor,
} from "../../tools/netns.js";
import type { Row } from "../lib/table.js";

const KILLS = Number(process.env.BENCH_VRRP_KILLS ?? 3);
const ADVERTS = (process.env.BENCH_VRRP_ADVERTS ?? "1,0.1").split(",").map(Number);

type Impl = "keepcache" | "keepalived";

function conf(impl: Impl, prio: number, advert: number, vip: string): string {
  if (impl === "keepcache") {
    return `vrrp:\n  instances:\n    VI_1:\n      interface: eth0\n      virtual_router_id: 71\n      priority: ${prio}\n      advert_int: ${advert}\n      version: 3\n      virtual_ipaddress: ["${vip}/24"]\n`;
  }
  return `vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 71\n  priority ${prio}\n  advert_int ${advert}\n  version 3\n  virtual_ipaddress {\n    ${vip}/24\n  }\n}\n`;
}

function startImpl(impl: Impl, lab: Lab, ns: string, dir: string, text: string): LabProc {
  return impl === "keepcache"
    ? startKeepcacheVrrp(lab, ns, join(dir, `${ns}.yml`), text)
    : startKeepalived(lab, ns, dir, text);
}

/** The process that sends the adverts: keepcache itself, or keepalived's VRRP child. */
function vrrpPid(impl: Impl, p: LabProc, dir: string, ns: string): number {
  if (impl === "keepcache") return p.child.pid ?? -1;
  return Number(readFileSync(join(dir, `${ns}-vrrp.pid`), "utf8").trim());
}

/** Mean takeover time in ms over KILLS kills, or NaN if a takeover never happened. */
async function takeover(impl: Impl, advert: number): Promise<number> {
  const lab = await createLab(2, 3);
  const dir = mkdtempSync(join(tmpdir(), "kc-bench-vrrp-"));
  const vip = lab.addr(100);
  const [h1, h2] = lab.hosts.map((h) => h.ns);
  const times: number[] = [];
  try {
    const backup = startImpl(impl, lab, h2, dir, conf(impl, 100, advert, vip));
    for (let i = 0; i < KILLS; i++) {
      const master = startImpl(impl, lab, h1, dir, conf(impl, 150, advert, vip));
      const up = await waitFor(
        async () => (await lab.hasAddr(h1, vip)) && !(await lab.hasAddr(h2, vip)),
        6 * masterDownMs(100, advert) + 5000,
      );
      if (up < 0) throw new Error(`${impl}: master never settled:\n${master.output()}`);
      // Let a few adverts pass so the kill lands at a random point of the interval.
      await new Promise((r) => setTimeout(r, advert * 1000 * (2 + Math.random())));
      process.kill(vrrpPid(impl, master, dir, h1), "SIGKILL");
      const t = await waitFor(() => lab.hasAddr(h2, vip), masterDownMs(100, advert) * 3, 5);
      times.push(t < 0 ? Number.NaN : t);
      await master.kill("SIGKILL");
      // A killed process leaves its VIP; a dead host would take it along.
      await lab.exec(h1, "ip", ["addr", "del", `${vip}/24`, "dev", "eth0"]).catch(() => "");
    }
    await backup.kill("SIGTERM");
  } finally {
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return times.reduce((a, b) => a + b, 0) / times.length;
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const advert of ADVERTS) {
    const anchor = await takeover("keepalived", advert);
    const ours = await takeover("keepcache", advert);
    const bound = masterDownMs(100, advert);
    rows.push({
      name: `takeover after kill -9, v3 advert_int ${advert} s (MDI ${bound.toFixed(0)} ms)`,
      anchor: `${anchor.toFixed(0)} ms`,
      keepcache: `${ours.toFixed(0)} ms`,
      ratio: ours / anchor,
      target: `<= MDI ${bound.toFixed(0)} ms`,
      pass: ours <= bound + 20,
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith("/bench/vrrp/index.js")) {
  const { printTable } = await import("../lib/table.js");
  // printTable prints the table itself and returns the text for bench/results.
  printTable("VRRP takeover: keepcache vs keepalived", "keepalived", await run());
}
