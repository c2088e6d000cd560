/**
 * The dashboard: one self-contained HTML page (inline CSS and script, no fonts, images or CDN),
 * compiled into dist/ as a string so the package ships it with no asset copying.
 */
import { DASHBOARD_JS } from "./client.js";
import { DASHBOARD_CSS } from "./style.js";

const BODY = `
<header>
  <div class="brand">keep<span>cache</span></div>
  <div class="meta"><span id="version"></span> · <span id="updated">connecting…</span></div>
  <div id="live" class="live"><span class="dot"></span><span id="livetext">connecting…</span></div>
</header>
<main>
  <div id="tiles" class="tiles"></div>
  <div id="nothing" class="empty" hidden>Nothing is registered with this admin listener yet.</div>
  <section id="pools-sec" hidden><h2>Pools</h2><div id="pools" class="grid"></div></section>
  <section id="nodes-sec" hidden><h2>Cache nodes</h2><div id="nodes" class="grid"></div></section>
  <section id="vrrp-sec" hidden><h2>VRRP</h2><div id="vrrp" class="grid"></div></section>
  <section id="tcp-sec" hidden><h2>TCP services</h2><div id="tcp" class="grid"></div></section>
  <section><h2>Events</h2><div id="events" class="events"></div></section>
</main>
<div id="toast" role="status" aria-live="polite"></div>
`;

let cached: string | undefined;

export function dashboardHtml(): string {
  cached ??= `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>keepcache</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>${BODY}<script>${DASHBOARD_JS}</script>
</body>
</html>
`;
  return cached;
}
