/**
 * keepalived virtual_server / real_server (IPVS) → keepcache `tcp:` services
 * (src/config/schema/tcp.ts, health.ts). keepcache balances as a TCP proxy: the client's
 * connection ends here and a new one goes to the real server, which is how LVS NAT behaves from
 * the client's side. DR and TUN (the real server answers the client directly) cannot be copied.
 */
import { unknown } from "../../util/suggest.js";
import { formatHostPort } from "../schema/common.js";
import { mark, markAs, put } from "./origin.js";
import type { Stmt } from "./parse.js";
import type { Note } from "./vrrp-map.js";

const VS_KEYS = [
  ...["delay_loop", "lb_algo", "lb_kind", "persistence_timeout", "protocol", "sorry_server"],
  ...["inhibit_on_failure", "real_server"],
];
const RS_KEYS = [
  "weight",
  "notify_up",
  "notify_down",
  "inhibit_on_failure",
  "TCP_CHECK",
  "HTTP_GET",
];
const CHECK_KEYS = [
  ...["connect_timeout", "connect_port", "retry", "nb_get_retry", "delay_before_retry", "url"],
  ...["virtualhost", "misc_path", "misc_timeout", "misc_dynamic", "user"],
];

/** keepalived lb_algo → keepcache balance, with why when it is only the nearest match. */
const ALGOS: Record<string, [string, string?]> = {
  rr: ["rr"],
  wrr: ["wrr"],
  lc: ["lc"],
  wlc: ["wlc"],
  sh: ["sh"],
  sed: ["wlc", "sed (shortest expected delay) imported as wlc, its nearest match"],
  nq: ["wlc", "nq (never queue) imported as wlc, its nearest match"],
  lblc: ["sh", "lblc (locality-based) imported as sh (source hash)"],
  lblcr: ["sh", "lblcr (locality-based with replication) imported as sh (source hash)"],
  dh: ["sh", "dh hashes the destination, which a proxy always sees as itself; imported as sh"],
  mh: ["sh", "mh (maglev hash) imported as sh (source hash)"],
  fo: ["first", "fo (weighted failover) imported as first: list servers by falling weight"],
  ovf: ["first", "ovf (overflow) imported as first"],
};

const CHECKS: Record<string, string> = {
  TCP_CHECK: "tcp",
  HTTP_GET: "http",
  SSL_GET: "https",
  MISC_CHECK: "script",
};

const secondsToMs = (v: string | undefined): number => Math.round(Number(v) * 1000);

interface Check {
  [k: string]: unknown;
}

function mapCheck(s: Stmt, note: Note, intervalMs: number | undefined): Check {
  const c: Check = { type: CHECKS[s.key] };
  mark(c, "type", s);
  if (intervalMs !== undefined) c.interval = intervalMs;
  let retry = 1;
  for (const e of s.block ?? []) {
    const v = e.args[0];
    switch (e.key) {
      case "connect_timeout":
        put(c, "timeout", secondsToMs(v), e);
        break;
      case "connect_port":
        put(c, "port", Number(v), e);
        break;
      case "retry":
      case "nb_get_retry":
        retry = Number(v);
        mark(c, "fall", e);
        break;
      case "delay_before_retry":
        note(
          e,
          "keepcache re-checks at the check interval (delay_loop); delay_before_retry is not used",
        );
        break;
      case "url":
        for (const u of e.block ?? []) {
          if (u.key === "path") put(c, "path", u.args[0], u);
          else if (u.key === "digest") put(c, "digest", u.args[0], u);
          else if (u.key === "status_code") put(c, "status", u.args.map(Number), u);
          else note(u, `unknown url keyword "${u.key}"`);
        }
        break;
      case "virtualhost":
        put(c, "host", v, e);
        break;
      case "misc_path":
        c.script = { ...((c.script as object) ?? {}), command: e.args.join(" ") };
        break;
      case "misc_timeout":
        put(c, "timeout", secondsToMs(v), e);
        break;
      case "misc_dynamic":
        c.script = { ...((c.script as object) ?? {}), dynamic: true };
        break;
      case "user":
        c.script = { ...((c.script as object) ?? {}), user: v };
        break;
      default:
        note(
          e,
          CHECK_KEYS.includes(e.key)
            ? `${e.key} is not supported`
            : unknown(s.key, e.key, CHECK_KEYS),
        );
    }
  }
  // keepalived retries `retry` times after a failure before marking the server down, so it
  // falls after retry + 1 consecutive failures; one success brings it back.
  c.fall = retry + 1;
  c.rise = 1;
  return c;
}

function sameCheck(a: Check, b: Check): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function mapVirtualServer(
  s: Stmt,
  note: Note,
): [string, Record<string, unknown>] | undefined {
  if (s.args[0] === "fwmark" || s.args[0] === "group" || s.args.length < 2) {
    note(
      s,
      "only `virtual_server IP PORT` maps to a TCP service (fwmark and groups are IPVS-only)",
    );
    return undefined;
  }
  const [ip, port] = s.args;
  const svc: Record<string, unknown> = { listen: formatHostPort(ip, port) };
  const servers: Record<string, unknown>[] = [];
  let intervalMs: number | undefined = 60_000; // keepalived's delay_loop default
  const body = s.block ?? [];
  const delay = body.find((e) => e.key === "delay_loop");
  if (delay) intervalMs = secondsToMs(delay.args[0]);
  mark(svc, "listen", s);
  let svcCheck: Check | undefined;
  let connectTimeout: number | undefined;
  for (const e of body) {
    const v = e.args[0];
    switch (e.key) {
      case "delay_loop":
        break;
      case "lb_algo": {
        const m = ALGOS[v ?? ""];
        if (!m) note(e, `unknown lb_algo "${v}"`);
        else {
          put(svc, "balance", m[0], e);
          if (m[1]) note(e, m[1]);
        }
        break;
      }
      case "lb_kind":
        if (v !== "NAT") {
          note(
            e,
            `lb_kind ${v}: keepcache forwards as a proxy, like NAT; real servers see connections from this host (not the client) and need no VIP of their own`,
          );
        }
        break;
      case "persistence_timeout":
        put(svc, "persistence_timeout", Number(v), e);
        break;
      case "protocol":
        if (v !== "TCP") note(e, `protocol ${v}: keepcache balances TCP only`);
        break;
      case "sorry_server":
        put(
          svc,
          "sorry_server",
          e.args[0]?.includes(":") ? `[${e.args[0]}]:${e.args[1]}` : `${e.args[0]}:${e.args[1]}`,
          e,
        );
        break;
      case "inhibit_on_failure":
        svc.inhibit_on_failure = true;
        break;
      case "real_server": {
        const r = mapRealServer(e, note, intervalMs);
        if (!r) break;
        if (r.check && !svcCheck) {
          svcCheck = r.check;
          mark(svc, "check", r.checkAt ?? e);
        }
        if (r.check?.timeout !== undefined && connectTimeout === undefined) {
          connectTimeout = r.check.timeout as number;
          markAs(svc, "connect_timeout", r.check, "timeout");
        }
        if (r.inhibit) svc.inhibit_on_failure = true;
        mark(servers, servers.length, e);
        servers.push(r.server);
        if (r.check) put(r.server, "check", r.check, r.checkAt ?? e);
        break;
      }
      default:
        if (CHECKS[e.key] || e.key === "SMTP_CHECK" || e.key === "DNS_CHECK") {
          // keepalived also ignores a checker outside real_server: the servers go unchecked.
          note(e, `${e.key} belongs inside a real_server block; keepalived ignores it here too`);
        } else note(e, unknown("virtual_server", e.key, VS_KEYS));
    }
  }
  if (svcCheck) {
    svc.check = svcCheck;
    for (const srv of servers) {
      const own = srv.check as Check | undefined;
      if (own && sameCheck(own, svcCheck)) delete srv.check;
    }
  }
  if (connectTimeout !== undefined) svc.connect_timeout = connectTimeout;
  put(svc, "servers", servers, s);
  return [`vs_${ip}_${port}`, svc];
}

function mapRealServer(
  s: Stmt,
  note: Note,
  intervalMs: number | undefined,
):
  | { server: Record<string, unknown>; check?: Check; checkAt?: Stmt; inhibit: boolean }
  | undefined {
  if (s.args.length < 2) {
    note(s, "real_server needs IP and PORT");
    return undefined;
  }
  const [ip, port] = s.args;
  const server: Record<string, unknown> = {
    address: ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`,
  };
  mark(server, "address", s);
  let check: Check | undefined;
  let checkAt: Stmt | undefined;
  let inhibit = false;
  for (const e of s.block ?? []) {
    switch (e.key) {
      case "weight":
        put(server, "weight", Number(e.args[0]), e);
        break;
      case "notify_up":
      case "notify_down":
        put(server, e.key, e.args.join(" "), e);
        break;
      case "inhibit_on_failure":
        inhibit = true;
        break;
      case "TCP_CHECK":
      case "HTTP_GET":
      case "SSL_GET":
      case "MISC_CHECK":
        if (check) note(e, "only the first checker of a real_server is imported");
        else {
          check = mapCheck(e, note, intervalMs);
          checkAt = e;
        }
        break;
      case "SMTP_CHECK":
      case "DNS_CHECK":
      case "BFD_CHECK":
      case "FILE_CHECK":
      case "PING_CHECK":
      case "UDP_CHECK":
        note(
          e,
          `${e.key} has no keepcache equivalent (checks: tcp, http, https, script, redis, memcache, mysql)`,
        );
        break;
      default:
        note(e, unknown("real_server", e.key, RS_KEYS));
    }
  }
  return { server, check, checkAt, inhibit };
}
