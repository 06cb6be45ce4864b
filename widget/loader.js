// The loader: what the snippet injects (served as /widget/halo.js, with a short cache). It draws
// the launcher at once, with no wasm, as this browser last saw it (colours, side, unread dot);
// on a first visit in the default look, then as the workspace's config says. When the browser is idle after the
// page's load it fetches and compiles the app (content-hashed, cached for a year), and starts
// it only when there is something for it to do:
// - the launcher is hovered, focused or pressed (a click is queued as Halo('open')), or the
//   page calls open or toggle: at once;
// - the page called identify(), identifyCompany(), setContext() (the server hears of them),
//   or this browser has a conversation (its live updates): when idle.
// Until then `Halo(...)` calls queue; the app replays them, and puts its own launcher in
// this one's place in the same task, keeping keyboard focus where it was.
import css from "./launcher.css";
import icon from "./launcher-icon.txt";

const w = window, d = document, h = w.Halo;
if (h && h.q && !h.loader) {
  h.loader = 1;
  const q = h.q;
  let app, started, drawn, idle, boot;
  const fetchApp = () => (app = app || import(new URL(__HALO_APP__, import.meta.url).href));
  const run = () => {
    if (started) return;
    started = 1;
    fetchApp().then((m) => m.run(), () => (app = started = 0));
  };
  const stored = (k) => {
    try {
      return localStorage.getItem(k);
    } catch (e) {
      return null;
    }
  };
  const busy = () => q.some((a) => a[0] != "boot") || (boot && stored(`halo:${boot.orgId}:session`));
  // WCAG's choice of text on a colour: white below a luminance of 0.2069 (the app's rule).
  const textOn = (hex) => {
    const lin = (i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5) <= 0.2069 ? "#ffffff" : "#1c1e21";
  };
  const hex = (c) => (/^#[0-9a-f]{6}$/i.test(c) ? c.toLowerCase() : 0);
  let root;
  // `look`: brand, text on it, left ("1"), the launcher's and the dot's names (what the app saved).
  const colour = ([b, t, l]) => {
    const ui = boot.ui || {}, brand = hex(ui.brandColor) || hex(b) || "#2f5bea";
    const left = ui.position ? ui.position == "left" : l == "1";
    root.className = left ? "root left" : "root";
    root.style.cssText = `--b:${brand};--bt:${brand == b && t ? t : textOn(brand)}`;
  };
  const paint = ([b, t, l, open, unread]) => {
    if (w.Halo.loaded) return;
    const host = d.createElement("halo-widget");
    host.setAttribute("data-testid", "halo-host");
    const shadow = host.attachShadow({ mode: "open" });
    shadow.innerHTML = `<style>${css}</style><div><button class="launcher" data-testid="halo-launcher" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="${icon}"/></svg></button></div>`;
    root = shadow.lastChild;
    const button = root.firstChild;
    colour([b, t, l]);
    button.setAttribute("aria-label", open || "Open support chat");
    if (stored(`halo:${boot.orgId}:unread`)) {
      const dot = d.createElement("span");
      dot.className = "badge";
      dot.setAttribute("data-testid", "halo-unread");
      dot.setAttribute("role", "status");
      dot.setAttribute("aria-label", unread || "Unread reply");
      button.append(dot);
    }
    for (const e of ["pointerenter", "pointerdown", "focus"]) button.addEventListener(e, run);
    button.addEventListener("click", () => w.Halo.loaded || q.some((a) => a[0] == "open") || w.Halo("open"));
    d.body.append(host);
  };
  const draw = () => {
    const saved = stored(`halo:${boot.orgId}:launcher`);
    paint(saved ? saved.split("\n") : []);
    if (saved) return;
    // A first visit: drawn at once in the default look, then in the workspace's when its
    // config arrives (the app reads the same response from the HTTP cache).
    const api = (boot.apiBase || new URL(import.meta.url).origin).replace(/\/$/, "");
    fetch(`${api}/api/sdk/widget/config?key=${encodeURIComponent(boot.widgetKey)}`)
      .then((r) => r.json())
      .then((j) => {
        const a = j.appearance || {};
        if (!w.Halo.loaded) colour([a.brand_color, 0, a.position == "left" ? "1" : "0"]);
      }, () => 0);
  };
  const seen = (args) => {
    const [cmd, arg] = args;
    if (cmd == "boot" && !boot && arg && arg.orgId) {
      boot = arg;
      d.body ? draw() : d.addEventListener("DOMContentLoaded", draw);
    }
    if (cmd == "open" || cmd == "toggle" || (idle && cmd != "boot")) run();
  };
  q.forEach(seen);
  q.push = function (args) {
    seen(args);
    return Array.prototype.push.apply(q, arguments);
  };
  const whenIdle = () => {
    idle = 1;
    fetchApp();
    if (busy()) run();
  };
  const later = () => (w.requestIdleCallback ? requestIdleCallback(whenIdle, { timeout: 2000 }) : setTimeout(whenIdle, 200));
  d.readyState == "complete" ? later() : w.addEventListener("load", later);
}
