/**
 * keepalived.conf VRRP sections → keepcache's `vrrp:` tree (src/config/schema/vrrp.ts).
 * keepalived.conf(5) names: vrrp_script, vrrp_instance, vrrp_sync_group, vrrp_track_file.
 */

import { unknown } from "../../util/suggest.js";
import { mark, put, putEach } from "./origin.js";
import type { Stmt } from "./parse.js";

export interface Unmapped {
  file: string;
  line: number;
  text: string;
  why: string;
}

export type Note = (s: Stmt, why: string) => void;

/** Keywords we know and deliberately do not carry over, with the reason. */
const VRRP_UNSUPPORTED: Record<string, string> = {
  smtp_alert: "keepcache sends no e-mail; use notify scripts",
  dont_track_primary:
    "keepcache does not track the VRRP interface implicitly; add track_interface if wanted",
  mcast_src_ip: "keepcache sends from the interface's primary address (or unicast_src_ip)",
  lvs_sync_daemon_interface: "no IPVS connection sync: keepcache proxies instead of using IPVS",
  use_vmac: "virtual MAC interfaces are not supported",
  vmac_xmit_base: "virtual MAC interfaces are not supported",
  native_ipv6: "IPv6 VRRP is not supported yet",
  virtual_routes: "keepcache manages addresses only, not routes",
  virtual_rules: "keepcache manages addresses only, not rules",
  debug: "use log.level",
  notify_master_rx_lower_pri: "not supported",
  accept: "keepcache never filters traffic to the VIP (keepalived's accept mode is the behaviour)",
  no_accept: "keepcache never filters traffic to the VIP",
  strict_mode: "not supported",
  skip_check_adv_addr: "not supported: address lists are always checked",
  garp_master_refresh_repeat: "not supported: one GARP per refresh",
  garp_lower_prio_delay: "not supported",
  garp_lower_prio_repeat: "not supported",
  lower_prio_no_advert: "not supported",
  higher_prio_send_advert: "not supported",
  init_fail: "scripts start healthy",
};

const SCRIPT_KEYS = [
  "script",
  "interval",
  "timeout",
  "weight",
  "rise",
  "fall",
  "user",
  "init_fail",
];
const INSTANCE_KEYS = [
  ...Object.keys(VRRP_UNSUPPORTED),
  ...["state", "interface", "unicast_src_ip", "virtual_router_id", "priority", "advert_int"],
  ...["preempt_delay", "garp_master_delay", "garp_master_repeat", "garp_master_refresh"],
  ...["version", "nopreempt", "preempt", "check_unicast_src", "authentication"],
  ...["virtual_ipaddress", "virtual_ipaddress_excluded", "unicast_peer", "track_script"],
  ...["track_interface", "track_file", "notify_master", "notify_backup", "notify_fault"],
  ...["notify_stop", "notify"],
];
const AUTH_KEYS = ["auth_type", "auth_pass"];
const GROUP_KEYS = [
  "group",
  "notify_master",
  "notify_backup",
  "notify_fault",
  "notify_stop",
  "notify",
];

const num = (s: string | undefined): number => Number(s);

function list(s: Stmt): Stmt[] {
  return s.block ?? [];
}

/** `name [weight N]` entries of track_script / track_interface. */
function weighted(note: Note): (e: Stmt) => string | { name: string; weight: number } {
  return (e) => {
    if (e.args[0] === "weight" && e.args[1] !== undefined)
      return { name: e.key, weight: num(e.args[1]) };
    if (e.args.length > 0) note(e, `extra words after "${e.key}" ignored`);
    return e.key;
  };
}

export function mapScript(s: Stmt, note: Note): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of list(s)) {
    const v = e.args[0];
    switch (e.key) {
      case "script":
        put(out, "script", e.args.join(" "), e);
        break;
      case "interval":
      case "timeout":
      case "weight":
      case "rise":
      case "fall":
        put(out, e.key, num(v), e);
        if (e.key === "weight" && e.args[1] === "reverse")
          note(e, "weight reverse is not supported");
        break;
      case "user":
        put(out, "user", v, e);
        if (e.args[1]) note(e, "the group is taken from the user's passwd entry");
        break;
      default:
        note(e, VRRP_UNSUPPORTED[e.key] ?? unknown("vrrp_script", e.key, SCRIPT_KEYS));
    }
  }
  return out;
}

/** vrrp_track_file NAME { file PATH; weight N } → the path and default weight. */
export function mapTrackFile(s: Stmt, note: Note): { path: string; weight: number } {
  const out = { path: "", weight: 1 };
  for (const e of list(s)) {
    if (e.key === "file") out.path = e.args[0] ?? "";
    else if (e.key === "weight") out.weight = num(e.args[0]);
    else note(e, unknown("vrrp_track_file", e.key, ["file", "weight"]));
  }
  return out;
}

export function mapInstance(
  s: Stmt,
  note: Note,
  trackFiles: Map<string, { path: string; weight: number }>,
  defaults: { version?: number },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let nopreemptAt: Stmt = s;
  if (defaults.version) out.version = defaults.version;
  for (const e of list(s)) {
    const v = e.args[0];
    switch (e.key) {
      case "state":
      case "interface":
      case "unicast_src_ip":
      case "notify_master":
      case "notify_backup":
      case "notify_fault":
      case "notify_stop":
      case "notify":
        put(out, e.key, e.key.startsWith("notify") ? e.args.join(" ") : v, e);
        break;
      case "virtual_router_id":
      case "priority":
      case "advert_int":
      case "preempt_delay":
      case "garp_master_delay":
      case "garp_master_repeat":
      case "garp_master_refresh":
      case "version":
        put(out, e.key, num(v), e);
        break;
      case "nopreempt":
        put(out, "nopreempt", true, e);
        nopreemptAt = e;
        break;
      case "preempt":
        put(out, "nopreempt", false, e);
        break;
      case "check_unicast_src":
        put(out, "check_unicast_src", true, e);
        break;
      case "authentication":
        put(out, "authentication", mapAuth(e, note), e);
        break;
      case "virtual_ipaddress":
      case "virtual_ipaddress_excluded":
        putEach(out, e.key, e, (a) => [a.key, ...a.args].join(" "));
        break;
      case "unicast_peer":
        putEach(out, "unicast_peer", e, (p) => {
          if (p.args.length) note(p, "per-peer options are ignored");
          return p.key;
        });
        break;
      case "track_script":
      case "track_interface":
        putEach(out, e.key, e, weighted(note));
        break;
      case "track_file":
        out.track_file = list(e).flatMap((t) => {
          const f = trackFiles.get(t.key);
          if (!f) {
            note(t, `no vrrp_track_file named "${t.key}"`);
            return [];
          }
          const w = t.args[0] === "weight" ? num(t.args[1]) : f.weight;
          return [{ path: f.path, weight: w }];
        });
        mark(out, "track_file", e);
        break;
      default:
        note(e, VRRP_UNSUPPORTED[e.key] ?? unknown("vrrp_instance", e.key, INSTANCE_KEYS));
    }
  }
  if (out.state !== "MASTER" && out.state !== "BACKUP" && out.state !== undefined) {
    note(s, `state ${String(out.state)} is not MASTER or BACKUP; using BACKUP`);
    out.state = "BACKUP";
  }
  if (out.nopreempt && out.state === "MASTER") {
    // keepalived ignores nopreempt with state MASTER (and warns); the native schema refuses it.
    note(
      nopreemptAt,
      "nopreempt with state MASTER: keepalived ignores nopreempt here, so it is dropped",
    );
    out.nopreempt = false;
  }
  return out;
}

function mapAuth(s: Stmt, note: Note): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of list(s)) {
    if (e.key === "auth_type") put(out, "auth_type", e.args[0], e);
    else if (e.key === "auth_pass") {
      const pass = e.args.join(" ");
      // keepalived keeps the first 8 bytes only (RFC 3768 §5.3.10: 8 octets of data).
      if (Buffer.byteLength(pass) > 8)
        note(e, "auth_pass longer than 8 bytes: keepalived uses the first 8");
      put(out, "auth_pass", Buffer.from(pass).subarray(0, 8).toString(), e);
    } else note(e, unknown("authentication", e.key, AUTH_KEYS));
  }
  if (out.auth_type === "AH") note(s, "auth_type AH (IPsec-AH) is not supported; consider HMAC");
  return out;
}

export function mapSyncGroup(s: Stmt, note: Note): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of list(s)) {
    switch (e.key) {
      case "group":
        out.group = list(e).flatMap((g) => [g.key, ...g.args]);
        mark(out, "group", e);
        break;
      case "notify_master":
      case "notify_backup":
      case "notify_fault":
      case "notify_stop":
      case "notify":
        put(out, e.key, e.args.join(" "), e);
        break;
      case "smtp_alert":
        note(e, VRRP_UNSUPPORTED.smtp_alert);
        break;
      default:
        note(e, unknown("vrrp_sync_group", e.key, GROUP_KEYS));
    }
  }
  return out;
}
