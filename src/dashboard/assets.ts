// The dashboard's whole front-end: one stylesheet and one small script, kept in the package as strings so
// they ship with the compiled bridge (no build step, no CDN, works offline). Served with a content hash in
// the URL so browsers may cache them for good.
import { createHash } from 'node:crypto';

export const CSS = `
:root {
  --bg: #f6f7f9; --panel: #ffffff; --text: #1c2430; --muted: #5d6b7a; --line: #dde2e8; --accent: #1f5fbf;
  --received: #9aa7b5; --cancelled: #cfd5dc; --unresolved: #e39a2d; --shipped: #3b7ddd;
  --reconciled: #23a35a; --reversed: #d64545; --track: #e8ecf0; --warn-bg: #fff4e0; --bad-bg: #fdeaea;
  --ok-bg: #e6f6ec; --info-bg: #e8f0fc;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12161c; --panel: #1a2029; --text: #e3e8ee; --muted: #9aa6b2; --line: #2c3542; --accent: #7fb0ff;
    --track: #2a323d; --cancelled: #4a5360; --received: #6f7c8a; --warn-bg: #3a2e17; --bad-bg: #3d1f22;
    --ok-bg: #173324; --info-bg: #1b2a40;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
header.top { display: flex; gap: 18px; align-items: center; flex-wrap: wrap; padding: 10px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; font-size: 16px; color: var(--text); }
header.top nav { display: flex; gap: 14px; }
header.top nav a.current { font-weight: 600; color: var(--text); }
header.top .spacer { flex: 1; }
header.top form { display: flex; gap: 6px; margin: 0; }
input[type=text], input[type=password], textarea, select { font: inherit; padding: 5px 8px; border: 1px solid var(--line);
  border-radius: 4px; background: var(--bg); color: var(--text); }
button { font: inherit; padding: 5px 10px; border: 1px solid var(--line); border-radius: 4px;
  background: var(--panel); color: var(--text); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
main { padding: 18px 24px 40px; max-width: 1400px; margin: 0 auto; }
h1 { font-size: 20px; margin: 4px 0 14px; }
h2 { font-size: 15px; margin: 26px 0 8px; }
.muted { color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px;
  margin-bottom: 14px; }
.card-head { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; margin-bottom: 10px; }
.card-head .title { font-weight: 600; font-size: 15px; }
.spacer { flex: 1; }
table { border-collapse: collapse; width: 100%; background: var(--panel); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.table-wrap table { border: 0; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px 18px; margin: 0; }
dl.facts div { min-width: 0; }
dl.facts dt { color: var(--muted); font-size: 12px; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600;
  background: var(--track); color: var(--text); white-space: nowrap; }
.badge.ok { background: var(--ok-bg); } .badge.warn { background: var(--warn-bg); }
.badge.bad { background: var(--bad-bg); } .badge.info { background: var(--info-bg); }
svg.bar { display: block; width: 100%; height: 12px; border-radius: 3px; overflow: hidden; }
svg.bar .track { fill: var(--track); }
svg.bar .fill { fill: var(--accent); }
.s-received { fill: var(--received); background: var(--received); }
.s-cancelled { fill: var(--cancelled); background: var(--cancelled); }
.s-unresolved { fill: var(--unresolved); background: var(--unresolved); }
.s-shipped { fill: var(--shipped); background: var(--shipped); }
.s-reconciled { fill: var(--reconciled); background: var(--reconciled); }
.s-reversed { fill: var(--reversed); background: var(--reversed); }
.s-refused { fill: #8e3b8e; background: #8e3b8e; }
svg.bar .done { fill: var(--reconciled); } svg.bar .err { fill: var(--reversed); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-top: 6px; font-size: 12.5px; }
.legend .dot { display: inline-block; width: 9px; height: 9px; border-radius: 2px; margin-right: 4px; }
.stages { display: grid; grid-template-columns: repeat(5, minmax(150px, 1fr)); gap: 10px 16px; margin-top: 12px; }
.stage .label { display: flex; justify-content: space-between; gap: 8px; font-size: 12.5px; margin-bottom: 3px; }
.stage .label .name { font-weight: 600; }
.stage .sub { font-size: 12px; color: var(--muted); margin-top: 2px; }
@media (max-width: 900px) { .stages { grid-template-columns: repeat(2, 1fr); } }
.pager { display: flex; gap: 14px; margin-top: 10px; }
.notice { padding: 10px 14px; border-radius: 6px; background: var(--warn-bg); margin-bottom: 14px; }
.notice.bad { background: var(--bad-bg); }
.login { max-width: 560px; margin: 60px auto; }
.login textarea { width: 100%; min-height: 110px; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.actions { display: flex; gap: 10px; align-items: center; margin-top: 10px; flex-wrap: wrap; }
footer { color: var(--muted); font-size: 12px; padding: 0 24px 20px; text-align: center; }
`;

export const JS = `
// Reloads pages that show work in progress every data-refresh seconds; the toggle is remembered per browser.
(function () {
  var seconds = Number(document.body.getAttribute('data-refresh') || '0');
  var button = document.getElementById('refresh-toggle');
  var key = 'g2p-dashboard-refresh-paused';
  var paused = false;
  try { paused = window.localStorage.getItem(key) === '1'; } catch (e) { paused = false; }
  var timer = null;
  function schedule() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (seconds > 0 && !paused) timer = setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
  function label() {
    if (!button) return;
    button.textContent = seconds > 0 ? (paused ? 'Auto-refresh: off' : 'Auto-refresh: ' + seconds + ' s') : 'Auto-refresh: idle';
    button.disabled = !(seconds > 0);
  }
  if (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      paused = !paused;
      try { window.localStorage.setItem(key, paused ? '1' : '0'); } catch (e) { /* private mode */ }
      label();
      schedule();
    });
  }
  label();
  schedule();
})();
`;

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

export const CSS_PATH = `/dashboard/assets/dashboard.${hash(CSS)}.css`;
export const JS_PATH = `/dashboard/assets/dashboard.${hash(JS)}.js`;
