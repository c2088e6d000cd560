/**
 * Native config (src/config/schema/vrrp.ts, keepalived's units: seconds) → the VRRP core's
 * inputs (centiseconds for adverts, milliseconds for timers).
 */
import type { VrrpInstanceConfig, VrrpScriptConfig } from "../config/index.js";
import type { ReceiverConfig } from "./receive.js";
import type { InstanceConfig } from "./state.js";
import type { ScriptConfig } from "./trackers.js";

/** "192.168.1.100/24 dev eth0 label eth0:1" → "192.168.1.100" (keepalived's VIP line syntax). */
export function vipAddress(line: string): string {
  const first = line.trim().split(/\s+/)[0] ?? "";
  return first.split("/")[0];
}

export function instanceConfig(c: VrrpInstanceConfig, primaryIp: string): InstanceConfig {
  return {
    name: c.name,
    version: c.version,
    vrid: c.virtual_router_id,
    priority: c.priority,
    adverIntCs: Math.round(c.advert_int * 100),
    initialState: c.state,
    nopreempt: c.nopreempt,
    preemptDelayMs: Math.round(c.preempt_delay * 1000),
    primaryIp: c.unicast_src_ip ?? primaryIp,
    garpRepeat: c.garp_master_repeat,
    garpDelayMs: Math.round(c.garp_master_delay * 1000),
    garpRefreshMs: Math.round(c.garp_master_refresh * 1000),
  };
}

export function receiverConfig(c: VrrpInstanceConfig): ReceiverConfig {
  const auth = c.authentication;
  return {
    vrid: c.virtual_router_id,
    version: c.version,
    adverIntCs: Math.round(c.advert_int * 100),
    authType: auth?.auth_type === "PASS" ? "PASS" : auth?.auth_type === "HMAC" ? "HMAC" : "none",
    authPass: auth?.auth_pass,
    hmacSecret: auth?.secret,
    addresses: c.virtual_ipaddress.map(vipAddress),
    unicastPeers: c.unicast_peer,
    checkUnicastSrc: c.check_unicast_src,
    v3Checksum: c.v3_checksum_as_v2 ? "as_v2" : "rfc",
  };
}

/** keepalived's vrrp_script defaults: timeout defaults to the interval. */
export function scriptConfig(
  name: string,
  s: VrrpScriptConfig,
  ids?: { uid: number; gid: number },
): ScriptConfig {
  return {
    name,
    script: s.script,
    intervalMs: Math.round(s.interval * 1000),
    timeoutMs: Math.round((s.timeout ?? s.interval) * 1000),
    weight: s.weight,
    rise: s.rise,
    fall: s.fall,
    uid: ids?.uid,
    gid: ids?.gid,
  };
}
