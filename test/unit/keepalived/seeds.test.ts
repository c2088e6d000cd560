import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { main } from "../../../src/cli/import.js";
import { parseConfig } from "../../../src/config/index.js";
import { importKeepalived } from "../../../src/config/keepalived/index.js";

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 10 && !existsSync(join(d, "package.json")); i++) d = dirname(d);
  return d;
}
const DIR = join(repoRoot(), "test", "fixtures", "keepalived");

interface Expect {
  instances: Record<string, [state: string, vrid: number, priority: number, nopreempt?: boolean]>;
  scripts?: string[];
  /** service name → server count and balance */
  services?: Record<string, [servers: number, balance: string | undefined]>;
  /** line → a fragment of the reason */
  unmapped: Record<number, string>;
  groups?: Record<string, string[]>;
}

const DR = "keepcache forwards as a proxy, like NAT";
const RETRY = "delay_before_retry is not used";
const MAIL = "no e-mail";
const EXPECT: Record<string, Expect> = {
  "seed000-master.conf": {
    instances: { mem_1: ["MASTER", 51, 100, false] },
    services: { "vs_192.168.100.100_11211": [1, undefined] },
    unmapped: {
      6: "non-ASCII blanks",
      12: "nopreempt with state MASTER",
      24: "did you mean delay_loop",
      31: "belongs inside a real_server",
    },
  },
  "seed000-backup.conf": {
    instances: { mem_1: ["BACKUP", 51, 50, true] },
    services: { "vs_192.168.100.100_11211": [1, undefined] },
    unmapped: {
      5: "non-ASCII blanks",
      22: "did you mean delay_loop",
      29: "belongs inside a real_server",
    },
  },
  "seed001-a-master.conf": {
    instances: { VI_1: ["MASTER", 100, 160] },
    services: { "vs_192.168.0.5_6379": [1, "wrr"] },
    unmapped: { 9: MAIL, 12: MAIL, 13: MAIL, 14: MAIL, 36: DR, 45: RETRY },
  },
  "seed001-a-slave1.conf": {
    instances: { VI_1: ["MASTER", 100, 160], VI_2: ["MASTER", 101, 151] },
    services: { "vs_192.168.0.5_6379": [2, "wrr"], "vs_192.168.0.6_6379": [2, "wrr"] },
    unmapped: {
      7: MAIL,
      10: MAIL,
      11: MAIL,
      12: MAIL,
      50: DR,
      59: RETRY,
      68: RETRY,
      77: DR,
      85: RETRY,
      94: RETRY,
    },
  },
  "seed001-a-slave2.conf": {
    instances: { VI_2: ["BACKUP", 101, 149] },
    services: { "vs_192.168.0.6_6379": [2, "wrr"] },
    unmapped: { 6: MAIL, 9: MAIL, 10: MAIL, 11: MAIL, 33: DR, 41: RETRY, 50: RETRY },
  },
  "seed001-b-route1.conf": {
    instances: { VI_1: ["MASTER", 100, 150], VI_2: ["BACKUP", 101, 101] },
    services: { "vs_192.168.0.7_6379": [3, "rr"], "vs_192.168.0.8_6379": [3, "wrr"] },
    unmapped: {
      9: MAIL,
      12: MAIL,
      13: MAIL,
      14: MAIL,
      51: DR,
      83: DR,
      91: RETRY,
      100: RETRY,
      109: RETRY,
    },
  },
  "seed001-b-route2.conf": {
    instances: { VI_1: ["BACKUP", 100, 100], VI_2: ["MASTER", 101, 151] },
    services: { "vs_192.168.87.89_6379": [3, "rr"], "vs_192.168.87.90_6379": [2, "wrr"] },
    unmapped: { 9: MAIL, 12: MAIL, 13: MAIL, 14: MAIL, 52: DR, 84: DR, 92: RETRY, 101: RETRY },
  },
  "seed001-tutorial-script.conf": {
    instances: { http: ["BACKUP", 101, 90] },
    scripts: ["check_running"],
    unmapped: { 13: MAIL },
  },
  "seed001-tutorial-sync.conf": {
    instances: { http: ["MASTER", 51, 100, false] },
    groups: { VG_1: ["http"] },
    unmapped: {
      6: "mysql name no vrrp_instance",
      15: MAIL,
      21: "does not track the VRRP interface",
      26: "primary address",
      46: "nopreempt with state MASTER",
      33: "did you mean auth_pass",
      39: "not routes",
      47: "did you mean preempt_delay",
      48: "log.level",
    },
  },
  "seed003-master.conf": {
    instances: { VI_1: ["BACKUP", 91, 120, true] },
    scripts: ["chk_haproxy"],
    unmapped: {},
  },
  "seed003-backup.conf": {
    instances: { VI_1: ["BACKUP", 91, 110] },
    scripts: ["chk_haproxy"],
    unmapped: {},
  },
  "seed004-nutcracker.conf": {
    instances: { VI_2: ["BACKUP", 12, 101, true] },
    scripts: ["chk_nutcraker"],
    unmapped: {},
  },
};

type Tree = {
  tcp?: Record<string, { balance?: string; servers: unknown[]; check?: Record<string, unknown> }>;
  vrrp?: {
    scripts?: Record<string, unknown>;
    instances: Record<string, Record<string, unknown>>;
    sync_groups?: Record<string, { group: string[] }>;
  };
};

describe("keepalived.conf import of the seed deployments", () => {
  test("every fixture has an expectation", () => {
    assert.deepEqual(
      readdirSync(DIR)
        .filter((f) => f.endsWith(".conf"))
        .sort(),
      Object.keys(EXPECT).sort(),
    );
  });

  for (const [file, want] of Object.entries(EXPECT)) {
    test(file, () => {
      const text = readFileSync(join(DIR, file), "utf8");
      const { native, unmapped } = importKeepalived(text, file);
      const tree = native as Tree;
      const inst = tree.vrrp?.instances ?? {};
      assert.deepEqual(Object.keys(inst).sort(), Object.keys(want.instances).sort());
      for (const [name, [state, vrid, prio, nopreempt]] of Object.entries(want.instances)) {
        assert.equal(inst[name].state, state, name);
        assert.equal(inst[name].virtual_router_id, vrid, name);
        assert.equal(inst[name].priority, prio, name);
        if (nopreempt !== undefined) assert.equal(inst[name].nopreempt ?? false, nopreempt, name);
      }
      assert.deepEqual(Object.keys(tree.vrrp?.scripts ?? {}), want.scripts ?? []);
      const services = Object.fromEntries(
        Object.entries(tree.tcp ?? {}).map(([k, v]) => [k, [v.servers.length, v.balance]]),
      );
      assert.deepEqual(services, want.services ?? {});
      for (const [g, members] of Object.entries(want.groups ?? {})) {
        assert.deepEqual(tree.vrrp?.sync_groups?.[g].group, members);
      }
      const got = unmapped.map((u) => `${u.line}: ${u.why}`);
      assert.equal(unmapped.length, Object.keys(want.unmapped).length, got.join("\n"));
      for (const [line, frag] of Object.entries(want.unmapped)) {
        assert.ok(
          unmapped.some((u) => u.line === Number(line) && u.why.includes(frag)),
          `line ${line} "${frag}" not in:\n${got.join("\n")}`,
        );
      }
      // The result is a valid keepcache config.
      parseConfig(stringify(native), `${file}.yml`);
    });
  }

  test("details: checks, timings, scripts, auth", () => {
    const read = (f: string) =>
      importKeepalived(readFileSync(join(DIR, f), "utf8"), f).native as Tree;
    const s1 = read("seed001-a-slave1.conf").tcp!["vs_192.168.0.5_6379"];
    // delay_loop 3 → 3000 ms; connect_timeout 1 → 1000 ms; nb_get_retry 2 → falls after 3.
    assert.deepEqual(s1.check, {
      type: "tcp",
      interval: 3000,
      timeout: 1000,
      port: 6379,
      fall: 3,
      rise: 1,
    });
    assert.deepEqual(s1.servers[1], {
      address: "192.168.0.3:6379",
      weight: 8,
      check: { type: "tcp", interval: 3000, timeout: 10000, port: 6379, fall: 4, rise: 1 },
    });
    const misc = read("seed001-b-route1.conf").tcp!["vs_192.168.0.7_6379"];
    assert.equal(misc.check?.type, "script");
    assert.equal(misc.check?.timeout, 5000);
    const v003 = read("seed003-master.conf").vrrp!;
    assert.deepEqual(v003.scripts, {
      chk_haproxy: { script: "/etc/keepalived/haproxy_check.sh", interval: 2, weight: 2 },
    });
    assert.deepEqual(v003.instances.VI_1.authentication, { auth_type: "PASS", auth_pass: "1111" });
    assert.deepEqual(v003.instances.VI_1.track_script, ["chk_haproxy"]);
    const t = read("seed001-tutorial-script.conf").vrrp!;
    assert.deepEqual(t.instances.http.track_script, [{ name: "check_running", weight: 20 }]);
    assert.equal(read("seed004-nutcracker.conf").vrrp!.scripts!.chk_nutcraker && true, true);
  });

  test("other mappings: algorithms, HTTP_GET, misc_dynamic, sorry_server, track_file, owner", () => {
    const conf = `
global_defs {
  router_id lb1
  enable_script_security
  script_user keepalived_script
}
vrrp_track_file prio { file /etc/kc/prio
  weight 3 }
vrrp_script chk { script "/bin/true"
  interval 1 }
vrrp_instance V { interface eth0
  virtual_router_id 9
  priority 255
  advert_int 0.5
  version 3
  unicast_src_ip 10.0.0.1
  unicast_peer {
    10.0.0.2
  }
  track_file {
    prio weight -2
  }
  track_interface {
    eth1 weight -10
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
virtual_server 10.0.0.100 80 {
  lb_algo sed
  lb_kind NAT
  sorry_server 10.0.0.9 80
  protocol UDP
  real_server 10.0.0.3 80 {
    inhibit_on_failure
    HTTP_GET {
      url {
        path /health
        digest 0123456789abcdef0123456789abcdef
        status_code 200
      }
      connect_timeout 2
      retry 0
    }
  }
  real_server 10.0.0.4 80 {
    MISC_CHECK {
      misc_path "/usr/local/bin/weight.sh 10.0.0.4"
      misc_dynamic
    }
  }
}
virtual_server fwmark 1 {
}
`;
    const { native, unmapped } = importKeepalived(conf, "x.conf");
    const tree = native as Tree & { vrrp: { router_id: string; enable_script_security: boolean } };
    assert.equal(tree.vrrp.router_id, "lb1");
    assert.equal(tree.vrrp.enable_script_security, true);
    assert.deepEqual(tree.vrrp.scripts, {
      chk: { script: "/bin/true", interval: 1, user: "keepalived_script" },
    });
    const v = tree.vrrp.instances.V;
    assert.deepEqual(
      [v.priority, v.advert_int, v.version, v.unicast_peer, v.track_file, v.track_interface],
      [
        255,
        0.5,
        3,
        ["10.0.0.2"],
        [{ path: "/etc/kc/prio", weight: -2 }],
        [{ name: "eth1", weight: -10 }],
      ],
    );
    const svc = tree.tcp!["vs_10.0.0.100_80"] as Record<string, unknown>;
    assert.equal(svc.balance, "wlc");
    assert.equal(svc.sorry_server, "10.0.0.9:80");
    assert.equal(svc.inhibit_on_failure, true);
    assert.deepEqual(svc.check, {
      type: "http",
      interval: 60000,
      path: "/health",
      digest: "0123456789abcdef0123456789abcdef",
      status: [200],
      timeout: 2000,
      fall: 1,
      rise: 1,
    });
    assert.deepEqual((svc.servers as { check?: unknown }[])[1].check, {
      type: "script",
      interval: 60000,
      script: { command: "/usr/local/bin/weight.sh 10.0.0.4", dynamic: true },
      fall: 2,
      rise: 1,
    });
    const why = unmapped.map((u) => u.why).join("\n");
    assert.match(why, /sed .* imported as wlc/);
    assert.match(why, /protocol UDP/);
    assert.match(why, /fwmark/);
    parseConfig(stringify(native), "x.yml");
  });

  const tmp = mkdtempSync(join(tmpdir(), "kc-import-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test("CLI: keepcache import writes YAML with the unmapped lines as comments", async () => {
    const out = join(tmp, "out.yml");
    const origErr = process.stderr.write.bind(process.stderr);
    const errs: string[] = [];
    process.stderr.write = ((s: string) => errs.push(String(s)) > 0) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(["-o", out, join(DIR, "seed001-a-master.conf")]);
    } finally {
      process.stderr.write = origErr;
    }
    assert.equal(code, 0);
    const yml = readFileSync(out, "utf8");
    assert.match(yml, /^# Imported from .*seed001-a-master\.conf/);
    assert.match(yml, /# .*:36: lb_kind DR {2}-- lb_kind DR: keepcache forwards as a proxy/);
    assert.equal(errs.filter((e) => e.includes("not imported")).length, 6);
    const cfg = parseConfig(yml, out);
    assert.ok(cfg);
    await assert.rejects(main(["a", "b", "c"]), /usage/);
  });
});
