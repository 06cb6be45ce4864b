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
  let app, started, idle, boot, root;
  const at = (name) => new URL(name, import.meta.url).href;
  // A deploy since this loader was cached removes the app it names: then the current loader
  // is asked for (which refreshes the cached one) and the app it names is loaded.
  const fetchApp = () =>
    (app = app || import(at(__HALO_APP__)).catch(() =>
      fetch(import.meta.url, { cache: "reload" })
        .then((r) => r.text())
        .then((t) => import(at(t.match(/\.\/b\/app\.\w+\.js/)[0])))
        .catch((e) => {
          app = 0;
          throw e;
        })));
  const run = () => {
    if (started) return;
    started = 1;
    fetchApp()
      .then((m) => m.run())
      .catch(() => (started = 0));
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
  // `#rrggbb` (or `#rgb`, spelled out) in lower case, as the app reads a colour.
  const hex = (c) => {
    c = typeof c == "string" ? c.trim().toLowerCase() : "";
    if (/^#[0-9a-f]{3}$/.test(c)) c = c.replace(/[0-9a-f]/g, "$&$&");
    return /^#[0-9a-f]{6}$/.test(c) ? c : 0;
  };
  // Brand, text on it, left ("1"): the boot call's `ui` options win.
  const colour = ([b, t, l]) => {
    const ui = boot.ui || {}, brand = hex(ui.brandColor) || hex(b) || "#2f5bea";
    const left = ui.position ? ui.position == "left" : l == "1";
    root.className = left ? "root left" : "root";
    root.style.cssText = `--b:${brand};--bt:${brand == b && t ? t : textOn(brand)}`;
  };
  let button;
  // The launcher's and the dot's names.
  const names = (name, unread) => {
    button.setAttribute("aria-label", name || "Open support chat");
    const dot = button.querySelector(".badge");
    if (dot) dot.setAttribute("aria-label", unread || "Unread reply");
  };
  // The look the app saved: brand, text on it, left ("1"), the launcher's and the dot's names.
  const paint = ([b, t, l, name, unread]) => {
    if (w.Halo.loaded) return;
    const host = d.createElement("halo-widget");
    host.setAttribute("data-testid", "halo-host");
    const shadow = host.attachShadow({ mode: "open" });
    shadow.innerHTML = `<style>${css}</style><div><button class="launcher" data-testid="halo-launcher" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="${icon}"/></svg></button></div>`;
    root = shadow.lastChild;
    button = root.firstChild;
    colour([b, t, l]);
    // A press opens it (queued until the app is here, which starts it): the app may take
    // over between the press and the release, which would lose the click; a keyboard's
    // click still counts.
    button.addEventListener("pointerdown", (e) => e.button || open());
    if (stored(`halo:${boot.orgId}:unread`)) {
      const dot = d.createElement("span");
      dot.className = "badge";
      dot.setAttribute("data-testid", "halo-unread");
      dot.setAttribute("role", "status");
      button.append(dot);
    }
    names(name, unread);
    for (const e of ["pointerenter", "focus"]) button.addEventListener(e, run);
    button.addEventListener("click", open);
    d.body.append(host);
  };
  const open = () => w.Halo.loaded || q.some((a) => a[0] == "open") || w.Halo("open");
  // The workspace's look from its config (cached by the browser for 5 minutes; the app reads
  // the same response), painted over what was drawn.
  const refresh = () => {
    const api = (boot.apiBase || new URL(import.meta.url).origin).replace(/\/$/, "");
    fetch(`${api}/api/sdk/widget/config?key=${encodeURIComponent(boot.widgetKey)}`)
      .then((r) => r.json())
      .then((j) => {
        const a = j.appearance || {}, all = a.launcher_labels || {};
        if (!root || w.Halo.loaded) return;
        colour([a.brand_color, a.brand_text_color, a.position == "left" ? "1" : "0"]);
        // The workspace's language, or the first of the browser's it has, else English.
        const tags = a.locale && a.locale != "auto" ? [a.locale] : navigator.languages || [navigator.language];
        const lang = tags.map((t) => String(t).split(/[-_]/)[0].toLowerCase()).find((t) => all[t]);
        names(...(all[lang || "en"] || []));
      }, () => 0);
  };
  let saved;
  const draw = () => {
    saved = stored(`halo:${boot.orgId}:launcher`);
    paint(saved ? saved.split("\n") : []);
    // A first visit is drawn in the default look at once, then in the workspace's.
    if (!saved) refresh();
  };
  const seen = (args) => {
    const [cmd, arg] = args;
    if (cmd == "boot" && !boot && arg && arg.orgId && arg.widgetKey) {
      boot = arg;
      d.body ? draw() : d.addEventListener("DOMContentLoaded", draw);
      if (idle && busy()) run();
    }
    if (cmd == "open" || cmd == "toggle" || (idle && cmd != "boot")) run();
  };
  q.forEach(seen);
  q.push = function (args) {
    seen(args);
    return Array.prototype.push.apply(q, arguments);
  };
  const whenIdle = () => {
    if (idle) return;
    idle = 1;
    fetchApp();
    if (busy()) run();
    // A returning visitor's saved look may be stale: the workspace's is painted over it.
    else if (saved && boot) refresh();
  };
  const later = () => (w.requestIdleCallback ? requestIdleCallback(whenIdle, { timeout: 2000 }) : setTimeout(whenIdle, 200));
  d.readyState == "complete" ? later() : w.addEventListener("load", later);
  // A page whose load never ends (a hanging resource) still hears from the app.
  setTimeout(later, 5000);
}
