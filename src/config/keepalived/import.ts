/**
 * `keepcache import keepalived.conf`: turns a keepalived configuration into keepcache's native
 * YAML tree (`vrrp:` and `tcp:`), naming every line it cannot carry over and why.
 */

import { unknown } from "../../util/suggest.js";
import { mapVirtualServer } from "./lvs-map.js";
import { put } from "./origin.js";
import { type IncludeReader, parseKeepalived, type Stmt } from "./parse.js";
import {
  mapInstance,
  mapScript,
  mapSyncGroup,
  mapTrackFile,
  type Note,
  type Unmapped,
} from "./vrrp-map.js";

export type { Unmapped } from "./vrrp-map.js";

export interface ImportResult {
  native: Record<string, unknown>;
  unmapped: Unmapped[];
}

const GLOBAL_UNSUPPORTED: Record<string, string> = {
  notification_email: "keepcache sends no e-mail; use notify scripts",
  notification_email_from: "keepcache sends no e-mail; use notify scripts",
  smtp_server: "keepcache sends no e-mail; use notify scripts",
  smtp_connect_timeout: "keepcache sends no e-mail; use notify scripts",
  vrrp_skip_check_adv_addr: "address lists are always checked",
  vrrp_strict: "strict RFC mode is not a switch in keepcache",
  vrrp_garp_interval: "GARP pacing is not configurable",
  vrrp_gna_interval: "unsolicited NA pacing is not configurable",
  lvs_id: "no IPVS sync daemon",
};

const TOP_KEYS = [
  ...["global_defs", "vrrp_script", "vrrp_track_file", "vrrp_instance", "vrrp_sync_group"],
  ...["virtual_server", "virtual_server_group", "include"],
];
const GLOBAL_KEYS = [
  ...Object.keys(GLOBAL_UNSUPPORTED),
  ...["router_id", "enable_script_security", "script_user", "vrrp_version"],
];

export function importKeepalived(
  text: string,
  file: string,
  include?: IncludeReader,
): ImportResult {
  const stmts = parseKeepalived(text, file, include);
  const unmapped: Unmapped[] = [];
  const note: Note = (s, why) => unmapped.push({ file: s.file, line: s.line, text: s.text, why });
  const odd = text.split("\n").flatMap((l, i) => (/[^\S \t\r\n]/u.test(l) ? [i + 1] : []));
  if (odd.length) {
    const where =
      odd.length === 1 ? `line ${odd[0]}` : `${odd.length} lines (${odd[0]}..${odd.at(-1)})`;
    unmapped.push({
      file,
      line: odd[0],
      text: text.split("\n")[odd[0] - 1].trim(),
      why: `${where} contain non-ASCII blanks (non-breaking spaces from a web page?): read as blanks here; keepalived reads them as part of a word`,
    });
  }
  const vrrp: Record<string, unknown> = {};
  const scripts: Record<string, unknown> = {};
  const instances: Record<string, unknown> = {};
  const groups: Record<string, unknown> = {};
  const tcp: Record<string, unknown> = {};
  const defaults: { version?: number } = {};
  let scriptUser: string | undefined;

  // vrrp_track_file blocks are referenced by name from instances: collect them first.
  const trackFiles = new Map<string, { path: string; weight: number }>();
  for (const s of stmts)
    if (s.key === "vrrp_track_file") trackFiles.set(s.args[0] ?? "", mapTrackFile(s, note));

  for (const s of stmts) {
    const name = s.args[0] ?? "";
    switch (s.key) {
      case "global_defs":
        scriptUser = mapGlobals(s, vrrp, defaults, note) ?? scriptUser;
        break;
      case "vrrp_script":
        put(scripts, name, mapScript(s, note), s);
        break;
      case "vrrp_track_file":
        break;
      case "vrrp_instance":
        put(instances, name, mapInstance(s, note, trackFiles, defaults), s);
        break;
      case "vrrp_sync_group":
        put(groups, name, mapSyncGroup(s, note), s);
        break;
      case "virtual_server": {
        const vs = mapVirtualServer(s, note);
        if (vs) put(tcp, vs[0], vs[1], s);
        break;
      }
      case "virtual_server_group":
        note(s, "virtual_server_group is IPVS-only; declare one virtual_server per address");
        break;
      default:
        note(s, unknown("top-level", s.key, TOP_KEYS));
    }
  }
  // keepalived: "Virtual router X specified in sync group Y doesn't exist - ignoring".
  for (const s of stmts) {
    if (s.key !== "vrrp_sync_group") continue;
    const g = groups[s.args[0] ?? ""] as { group?: string[] } | undefined;
    if (!g?.group) continue;
    const missing = g.group.filter((n) => !(n in instances));
    if (missing.length === 0) continue;
    note(
      s,
      `sync group member(s) ${missing.join(", ")} name no vrrp_instance; keepalived ignores them`,
    );
    g.group = g.group.filter((n) => n in instances);
  }
  if (scriptUser) {
    for (const sc of Object.values(scripts) as Record<string, unknown>[]) sc.user ??= scriptUser;
  }
  const native: Record<string, unknown> = {};
  if (Object.keys(tcp).length) native.tcp = tcp;
  if (Object.keys(scripts).length) vrrp.scripts = scripts;
  if (Object.keys(instances).length) vrrp.instances = instances;
  if (Object.keys(groups).length) vrrp.sync_groups = groups;
  if (Object.keys(vrrp).length) native.vrrp = vrrp;
  unmapped.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  return { native, unmapped };
}

function mapGlobals(
  s: Stmt,
  vrrp: Record<string, unknown>,
  defaults: { version?: number },
  note: Note,
): string | undefined {
  let scriptUser: string | undefined;
  for (const e of s.block ?? []) {
    switch (e.key) {
      case "router_id":
        put(vrrp, "router_id", e.args[0], e);
        break;
      case "enable_script_security":
        put(vrrp, "enable_script_security", true, e);
        break;
      case "script_user":
        scriptUser = e.args[0];
        break;
      case "vrrp_version":
        defaults.version = Number(e.args[0]);
        break;
      default:
        note(e, GLOBAL_UNSUPPORTED[e.key] ?? unknown("global_defs", e.key, GLOBAL_KEYS));
    }
  }
  return scriptUser;
}
