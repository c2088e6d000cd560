/**
 * The dashboard's script, inlined into the page. Plain ES2020 for any current browser, no
 * framework: it subscribes to /api/v1/stream (Server-Sent Events; the browser reconnects by
 * itself) and re-renders from each status document. Actions POST JSON with the token kept in
 * sessionStorage, asked for once when the API answers 401.
 *
 * Written without backticks or dollar-brace so it can live in a TS template string.
 */
export const DASHBOARD_JS = String.raw`
"use strict";
var $ = function (id) { return document.getElementById(id); };
var state = { doc: null, events: [], lastSeq: 0 };
function esc(v) {
  return String(v == null ? "" : v).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
}
function num(n, d) {
  if (n == null || isNaN(n)) return "–";
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return d ? n.toFixed(d) : String(Math.round(n));
}
function bytes(n) {
  if (n == null) return "–";
  var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function ms(n) { return n == null ? "–" : n < 1 ? (n * 1000).toFixed(0) + "µs" : n.toFixed(1) + "ms"; }
function dur(s) {
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}
function pill(cls, text) { return '<span class="pill ' + cls + '">' + esc(text) + "</span>"; }
function can(kind, name) {
  var a = state.doc && state.doc.actions && state.doc.actions[kind];
  return !!a && (a.indexOf(name) >= 0 || a.indexOf("*") >= 0);
}
function btn(label, path, body, danger) {
  return '<button class="btn' + (danger ? " danger" : "") + '" data-path="' + esc(path) +
    '" data-body="' + esc(body ? JSON.stringify(body) : "") + '">' + esc(label) + "</button>";
}
function seg(s) { return encodeURIComponent(s); }
function tile(k, v, cls) {
  return '<div class="tile ' + (cls || "") + '"><div class="k">' + esc(k) + '</div><div class="v">' + v + "</div></div>";
}
function errCard(x) {
  return '<div class="card down"><h3>' + esc(x.name) + '</h3><div class="err">' + esc(x.error) + "</div></div>";
}

function renderTiles(d) {
  var servers = 0, up = 0, ops = 0;
  d.pools.forEach(function (p) {
    if (p.error) return;
    ops += p.opsPerSec || 0;
    p.shards.forEach(function (s) { s.members.forEach(function (m) { servers++; if (m.health === "up") up++; }); });
  });
  var nodes = d.nodes.filter(function (n) { return !n.error; });
  var nodesUp = nodes.filter(function (n) { return n.up; }).length;
  if (!d.pools.length) nodes.forEach(function (n) { ops += n.opsPerSec || 0; });
  var h = "";
  if (d.pools.length) h += tile("Servers up", up + " / " + servers, up < servers ? "bad" : "good");
  if (d.nodes.length) h += tile("Nodes up", nodesUp + " / " + d.nodes.length, nodesUp < d.nodes.length ? "bad" : "good");
  h += tile("Ops / s", num(ops));
  d.vrrp.forEach(function (v) { if (!v.error) h += tile("VRRP " + v.name, esc(v.state), v.state === "FAULT" ? "bad" : v.state === "MASTER" ? "good" : ""); });
  if (d.tcp.length) h += tile("TCP services", d.tcp.length);
  var pr = d.processes;
  if (pr && pr.proxyWorkers.length + pr.tcpWorkers.length > 0) {
    var pids = function (l) { return l.map(function (x) { return esc(x); }).join(", "); };
    h += tile("Processes", (1 + pr.proxyWorkers.length + pr.tcpWorkers.length) + '<div class="pids">main ' + esc(pr.pid) +
      (pr.proxyWorkers.length ? " · proxy workers " + pids(pr.proxyWorkers) : "") +
      (pr.tcpWorkers.length ? " · tcp workers " + pids(pr.tcpWorkers) : "") + "</div>", "procs");
  }
  h += tile("Uptime", dur(d.uptimeSec));
  $("tiles").innerHTML = h;
}

function memberRow(pool, m) {
  var acts = "";
  if (can("server", pool)) {
    var base = "/api/v1/servers/" + seg(pool) + "/" + seg(m.name) + "/";
    acts = m.health === "disabled" || m.health === "draining" ? btn("enable", base + "enable") :
      btn("drain", base + "drain") + btn("disable", base + "disable", null, true);
  }
  return '<tr data-server="' + esc(m.name) + '" data-health="' + esc(m.health) + '"><td>' + pill("h-" + m.health, m.health) +
    "</td><td><b>" + esc(m.name) + '</b> <span class="role">' + esc(m.role) + "</span><br><span class=\"role\">" + esc(m.address) +
    '</span></td><td class="num">' + esc(m.weight) + '</td><td class="num">' + num(m.opsPerSec) +
    '</td><td class="num">' + ms(m.latencyMs && m.latencyMs.p50) + " / " + ms(m.latencyMs && m.latencyMs.p99) +
    '</td><td class="num">' + num(m.errors) + '</td><td class="num">' + num(m.ejections) +
    '</td><td><div class="btns">' + acts + "</div></td></tr>";
}
function rangesText(r) {
  return r.map(function (x) { return x[0] === x[1] ? String(x[0]) : x[0] + "-" + x[1]; }).join(" ");
}
// A Redis Cluster pool: the slot map's nodes, slots per master, slots being moved, refreshes.
function clusterBlock(c) {
  var slots = {};
  c.shards.forEach(function (s) { slots[s.master] = s; });
  var age = c.refreshedAt ? Math.max(0, Math.round((Date.now() - c.refreshedAt) / 1000)) : null;
  var rows = c.nodes.map(function (n) {
    var s = slots[n.address];
    return '<tr data-cluster-node="' + esc(n.address) + '"><td>' + pill("h-" + n.health, n.health) + "</td><td>" + esc(n.address) +
      "</td><td>" + esc(n.role) + (n.master ? " of " + esc(n.master) : "") + '</td><td class="num">' + (s ? num(s.slots) : "") +
      '</td><td class="mono">' + (s ? esc(rangesText(s.ranges)) : "") + "</td><td>" + esc(n.detail || "") + "</td></tr>";
  }).join("");
  var moving = c.migrations.map(function (m) {
    return '<li data-slot="' + esc(m.slot) + '">slot ' + esc(m.slot) + ": " + esc(m.from) + " → " + esc(m.to) + "</li>";
  }).join("");
  return '<div class="cluster"><div class="sub">slot map ' + (c.known ? "refreshed " + (age == null ? "never" : dur(age) + " ago") : "unknown") +
    " · " + num(c.refreshes) + " refreshes" + (c.refreshErrors ? " (" + num(c.refreshErrors) + " failed)" : "") +
    " · MOVED " + num(c.moved) + " · ASK " + num(c.ask) + (c.uncoveredSlots ? " · " + num(c.uncoveredSlots) + " slots uncovered" : "") +
    '</div><div class="tablewrap"><table><thead><tr><th>health</th><th>node</th><th>role</th><th class="num">slots</th><th>ranges</th><th></th></tr></thead><tbody>' +
    rows + "</tbody></table></div>" + (moving ? '<div class="sub">migrating</div><ul class="moving">' + moving + "</ul>" : "") + "</div>";
}
function renderPools(d) {
  $("pools-sec").hidden = !d.pools.length;
  $("pools").innerHTML = d.pools.map(function (p) {
    if (p.error) return errCard(p);
    var rows = p.shards.map(function (s) {
      var head = s.members.length > 1 || s.name !== (s.members[0] && s.members[0].name)
        ? '<tr class="shard"><td colspan="8">' + esc(s.name) +
          (can("pool", p.name) ? " " + btn("fail over", "/api/v1/pools/" + seg(p.name) + "/failover", { shard: s.name }, true) : "") +
          "</td></tr>" : "";
      return head + s.members.map(function (m) { return memberRow(p.name, m); }).join("");
    }).join("");
    return '<div class="card" data-pool="' + esc(p.name) + '"><h3>' + esc(p.name) + " " + pill("h-unknown", p.protocol) +
      '</h3><div class="sub">' + esc(p.listen) + (p.distribution ? " · " + esc(p.distribution) : "") + (p.hash ? " · " + esc(p.hash) : "") +
      '</div><div class="kv"><div><small>ops/s</small><b>' + num(p.opsPerSec) + "</b></div><div><small>clients</small><b>" +
      num(p.clientConnections) + "</b></div><div><small>errors</small><b>" + num(p.errors) + "</b></div><div><small>failovers</small><b>" +
      num(p.failovers) + '</b></div></div><div class="tablewrap"><table><thead><tr><th>health</th><th>server</th><th class="num">weight</th>' +
      '<th class="num">ops/s</th><th class="num">p50 / p99</th><th class="num">errors</th><th class="num">ejects</th><th></th></tr></thead><tbody>' +
      rows + "</tbody></table></div>" + (p.cluster ? clusterBlock(p.cluster) : "") + "</div>";
  }).join("");
}

function renderNodes(d) {
  $("nodes-sec").hidden = !d.nodes.length;
  $("nodes").innerHTML = d.nodes.map(function (n) {
    if (n.error) return errCard(n);
    var pct = n.memory.limitBytes ? Math.min(100, (100 * n.memory.usedBytes) / n.memory.limitBytes) : 0;
    var acts = can("node", n.name) ? (n.up ? btn("stop", "/api/v1/nodes/" + seg(n.name) + "/stop", null, true)
      : btn("start", "/api/v1/nodes/" + seg(n.name) + "/start")) : "";
    var peers = n.peers.length ? '<ul class="peers">' + n.peers.map(function (p) {
      var h = p.state === "connected" ? "up" : p.state === "down" ? "down" : "draining";
      return "<li>" + pill("h-" + h, p.state) + "<b>" + esc(p.name) + '</b><span class="role">' + esc(p.address) +
        "</span><span>lag " + ms(p.lagMs) + (p.pending ? " · " + num(p.pending) + " queued" : "") + "</span></li>";
    }).join("") + "</ul>" : '<div class="meta">no replication peers</div>';
    return '<div class="card' + (n.up ? "" : " down") + '" data-node="' + esc(n.name) + '" data-state="' + (n.up ? "up" : "down") +
      '" data-items="' + esc(n.items) + '"><h3>' + esc(n.name) + " " + pill(n.up ? "h-up" : "h-down", n.up ? "up" : "down") +
      '<span style="margin-left:auto" class="btns">' + acts + '</span></h3><div class="sub">' + esc(n.address) +
      (n.up ? " · up " + dur(n.uptimeSec) : "") + '</div><div class="kv"><div><small>items</small><b class="items">' + num(n.items) +
      "</b></div><div><small>hit ratio</small><b>" + (n.hitRatio == null ? "–" : (100 * n.hitRatio).toFixed(1) + "%") +
      "</b></div><div><small>ops/s</small><b>" + num(n.opsPerSec) + "</b></div><div><small>clients</small><b>" + num(n.connections) +
      "</b></div><div><small>evictions</small><b>" + num(n.evictions) + "</b></div><div><small>memory</small><b>" + bytes(n.memory.usedBytes) +
      '</b></div></div><div class="meta">memory ' + pct.toFixed(1) + "% of " + bytes(n.memory.limitBytes) +
      '</div><div class="bar"><i style="width:' + pct.toFixed(1) + '%"></i></div>' + peers + "</div>";
  }).join("");
}

function renderVrrp(d) {
  $("vrrp-sec").hidden = !d.vrrp.length;
  $("vrrp").innerHTML = d.vrrp.map(function (v) {
    if (v.error) return errCard(v);
    var act = !can("vrrp", v.name) ? "" : v.held ? btn("release", "/api/v1/vrrp/" + seg(v.name) + "/release") :
      v.state === "MASTER" ? btn("force backup", "/api/v1/vrrp/" + seg(v.name) + "/backup", null, true) : "";
    return '<div class="card" data-vrrp="' + esc(v.name) + '"><h3>' + esc(v.name) + ' <span class="role">VRID ' + esc(v.vrid) +
      " on " + esc(v.interface) + '</span></h3><div class="vrrp-state">' + pill("s-" + v.state, v.state) + (v.held ? " " + pill("h-draining", "held") : "") + "</div>" +
      '<div class="kv"><div><small>priority</small><b>' + esc(v.effectivePriority) + (v.effectivePriority !== v.priority ? " (" + esc(v.priority) + ")" : "") +
      "</b></div><div><small>master</small><b>" + esc(v.master || "–") + '</b></div></div><div class="sub">VIP ' +
      v.vips.map(esc).join(", ") + '</div><div class="btns">' + act + "</div></div>";
  }).join("");
}

function renderTcp(d) {
  $("tcp-sec").hidden = !d.tcp.length;
  $("tcp").innerHTML = d.tcp.map(function (t) {
    if (t.error) return errCard(t);
    return '<div class="card" data-tcp="' + esc(t.name) + '"><h3>' + esc(t.name) + " " + pill("h-unknown", t.algorithm) + '</h3><div class="sub">' +
      esc(t.listen) + " · " + num(t.active) + " active · " + num(t.connectionsTotal) + ' total</div><div class="tablewrap"><table><tbody>' +
      t.servers.map(function (s) {
        return "<tr><td>" + pill("h-" + s.health, s.health) + "</td><td><b>" + esc(s.name) + '</b> <span class="role">' + esc(s.address) +
          '</span></td><td class="num">w ' + esc(s.weight) + '</td><td class="num">' + num(s.active) + " active</td></tr>";
      }).join("") + "</tbody></table></div></div>";
  }).join("");
}

function renderEvents() {
  var list = state.events.slice(-200).reverse();
  $("events").innerHTML = list.length ? list.map(function (e) {
    var t = new Date(e.time);
    return '<div class="ev ' + esc(e.level) + '"><time title="' + esc(t.toISOString()) + '">' + esc(t.toTimeString().slice(0, 8)) +
      '</time><span class="kind">' + esc(e.kind) + '</span><span><span class="subj">' + esc(e.subject) + "</span> " + esc(e.message) + "</span></div>";
  }).join("") : '<div class="empty">No events yet: ejections, failovers and state changes appear here.</div>';
}

function render(d) {
  state.doc = d;
  $("version").textContent = "v" + d.version;
  $("updated").textContent = "updated " + new Date(d.time).toTimeString().slice(0, 8);
  renderTiles(d); renderPools(d); renderNodes(d); renderVrrp(d); renderTcp(d);
  $("nothing").hidden = !!(d.pools.length || d.nodes.length || d.vrrp.length || d.tcp.length);
}
function addEvent(e) {
  if (e.seq <= state.lastSeq) return;
  state.lastSeq = e.seq; state.events.push(e);
  if (state.events.length > 500) state.events.shift();
}
function toast(msg) {
  var t = $("toast"); t.textContent = msg; t.className = "show";
  clearTimeout(toast.timer); toast.timer = setTimeout(function () { t.className = ""; }, 2500);
}
function act(path, body, retried) {
  var headers = { "Content-Type": "application/json" };
  var tok = sessionStorage.getItem("keepcache-token");
  if (tok) headers.Authorization = "Bearer " + tok;
  fetch(path, { method: "POST", headers: headers, body: body || "{}" }).then(function (r) {
    return r.json().then(function (j) { return { status: r.status, body: j }; });
  }).then(function (r) {
    if (r.status === 401 && !retried) {
      var t = window.prompt("Admin token (" + r.body.error + ")");
      if (t) { sessionStorage.setItem("keepcache-token", t); return act(path, body, true); }
    }
    toast(r.status === 200 ? r.body.message || "done" : "refused: " + r.body.error);
  }).catch(function (e) { toast("failed: " + e.message); });
}
document.addEventListener("click", function (ev) {
  var b = ev.target.closest && ev.target.closest("button[data-path]");
  if (b) act(b.getAttribute("data-path"), b.getAttribute("data-body"));
});
function connect() {
  var live = $("live");
  var es = new EventSource("api/v1/stream?after=" + state.lastSeq);
  es.addEventListener("open", function () { live.className = "live on"; $("livetext").textContent = "live"; });
  es.addEventListener("error", function () { live.className = "live off"; $("livetext").textContent = "reconnecting…"; });
  es.addEventListener("status", function (m) { render(JSON.parse(m.data)); });
  es.addEventListener("event", function (m) { addEvent(JSON.parse(m.data)); renderEvents(); });
}
fetch("api/v1/events?limit=200").then(function (r) { return r.json(); }).then(function (j) {
  j.events.forEach(addEvent); renderEvents();
}).catch(function () {}).then(connect);
`;
