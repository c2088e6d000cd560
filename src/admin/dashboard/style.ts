/**
 * The dashboard's stylesheet, inlined into the page (no external assets: the page must work on
 * a host with no Internet). System font stack, CSS grid that folds to one column at phone
 * width, light and dark schemes from the OS setting. Health colours are the same everywhere:
 * green up, amber draining/ejected, red down, grey disabled/unknown.
 */
export const DASHBOARD_CSS = `
:root{--bg:#f5f6f8;--card:#fff;--ink:#1b1f24;--mute:#5f6b7a;--line:#e3e6ea;--accent:#3b5bdb;
--up:#2f9e44;--warn:#e8890c;--down:#e03131;--off:#868e96;--upbg:#ebfbee;--warnbg:#fff4e6;--downbg:#fff5f5;--offbg:#f1f3f5;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
@media (prefers-color-scheme:dark){:root{--bg:#101316;--card:#181c21;--ink:#e6e9ec;--mute:#97a1ad;--line:#2a3038;
--accent:#7c94ff;--upbg:#12301b;--warnbg:#3a2a10;--downbg:#3d1717;--offbg:#22272e}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
header{position:sticky;top:0;z-index:2;display:flex;align-items:center;gap:12px;flex-wrap:wrap;padding:10px 20px;
background:var(--card);border-bottom:1px solid var(--line)}
.brand{font-weight:700;font-size:17px;letter-spacing:.2px}
.brand span{color:var(--accent)}
.meta{color:var(--mute);font-size:12px}
.live{margin-left:auto;display:flex;align-items:center;gap:6px;font-size:12px;color:var(--mute)}
.dot{width:9px;height:9px;border-radius:50%;background:var(--off)}
.live.on .dot{background:var(--up);box-shadow:0 0 0 3px var(--upbg)}
.live.off .dot{background:var(--down);box-shadow:0 0 0 3px var(--downbg)}
main{padding:16px 20px 40px;max-width:1400px;margin:0 auto}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:18px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.tile .k{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.tile .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}
.tile.bad .v{color:var(--down)}.tile.good .v{color:var(--up)}
.tile .pids{font-size:11px;font-weight:400;color:var(--mute);overflow-wrap:anywhere}
section{margin-bottom:22px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.8px;color:var(--mute);margin:0 0 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
#pools{grid-template-columns:repeat(auto-fill,minmax(min(100%,620px),1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;min-width:0}
.card.down{border-color:var(--down);background:linear-gradient(var(--downbg),var(--card) 60px)}
.card h3{margin:0;font-size:15px;display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.card .sub{color:var(--mute);font-size:12px;font-family:var(--mono);margin:2px 0 8px;word-break:break-all}
.kv{display:grid;grid-template-columns:repeat(3,1fr);gap:6px 10px;margin:8px 0}
.card[data-pool] .kv{grid-template-columns:repeat(4,1fr)}
.kv div{min-width:0}.kv b{display:block;font-size:16px;font-variant-numeric:tabular-nums}
.kv small{color:var(--mute);font-size:11px;text-transform:uppercase;letter-spacing:.4px}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:11px;font-weight:650;text-transform:uppercase;letter-spacing:.4px}
.h-up,.s-MASTER{background:var(--upbg);color:var(--up)}
.h-draining,.h-ejected,.s-BACKUP{background:var(--warnbg);color:var(--warn)}
.h-down,.s-FAULT{background:var(--downbg);color:var(--down)}
.h-disabled,.h-unknown,.s-INIT,.s-STOP{background:var(--offbg);color:var(--off)}
.s-BACKUP{background:var(--offbg);color:var(--mute)}
.role{font-size:11px;color:var(--mute);font-family:var(--mono)}
td.mono,.moving{font-family:var(--mono);font-size:12px;word-break:break-all}
.moving{margin:0 0 8px;padding-left:18px}
.bar{height:6px;border-radius:3px;background:var(--offbg);overflow:hidden;margin-top:4px}
.bar i{display:block;height:100%;background:var(--accent)}
.tablewrap{overflow-x:auto;margin:0 -4px}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th{text-align:left;font-weight:600;color:var(--mute);font-size:11px;text-transform:uppercase;letter-spacing:.4px;padding:4px;border-bottom:1px solid var(--line)}
td{padding:5px 4px;border-bottom:1px solid var(--line);white-space:nowrap}
tr.shard td{background:var(--offbg);font-weight:600;font-size:12px}
td.num,th.num{text-align:right}
.peers{margin:6px 0 0;padding:0;list-style:none;font-size:12px}
.peers li{display:flex;gap:8px;align-items:center;padding:2px 0}
.btn{font:inherit;font-size:12px;padding:3px 10px;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--ink);cursor:pointer}
.btn:hover{border-color:var(--accent);color:var(--accent)}
.btn.danger:hover{border-color:var(--down);color:var(--down)}
.btns{display:flex;gap:6px;flex-wrap:wrap}
.vrrp-state{font-size:22px;font-weight:700;margin:4px 0}
.events{background:var(--card);border:1px solid var(--line);border-radius:10px;max-height:360px;overflow:auto}
.ev{display:grid;grid-template-columns:72px 90px 1fr;gap:8px;padding:6px 12px;border-bottom:1px solid var(--line);font-size:13px}
.ev:last-child{border-bottom:0}
.ev time{color:var(--mute);font-family:var(--mono);font-size:12px}
.ev .kind{font-size:11px;text-transform:uppercase;font-weight:650;color:var(--accent)}
.ev.warn .kind{color:var(--warn)}.ev.error .kind{color:var(--down)}
.ev .subj{font-family:var(--mono);font-size:12px}
.empty{color:var(--mute);padding:14px;text-align:center}
.err{color:var(--down);font-family:var(--mono);font-size:12px}
#toast{position:fixed;bottom:16px;left:50%;transform:translateX(-50%);background:var(--ink);color:var(--bg);padding:8px 14px;border-radius:8px;font-size:13px;opacity:0;transition:opacity .2s;pointer-events:none;max-width:90vw}
#toast.show{opacity:.95}
@media (max-width:600px){
header{padding:8px 12px}main{padding:12px 10px 30px}
.grid,#pools{grid-template-columns:1fr}
.tiles{grid-template-columns:repeat(2,1fr);gap:8px}
.tile .v{font-size:20px}
.ev{grid-template-columns:64px 1fr}.ev .kind{display:none}
}
`;
