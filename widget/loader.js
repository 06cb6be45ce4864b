// The loader: what the snippet injects (served as /widget/halo.js, with a short cache). It draws
// the launcher at once, as this browser last saw it (colours, side, unread dot), with no wasm,
// and loads the app (content-hashed, cached for a year) when the browser is idle after the
// page's load, or on the first hover, focus or press of the launcher, whichever comes first.
// A click before the app has started is queued as Halo('open'); the app replays the queue,
// replaces this launcher with its own in the same task, and keeps focus where it was.
import css from "./launcher.css";
import icon from "./launcher-icon.txt";

const w = window, d = document, h = w.Halo;
if (h && h.q && !h.loader) {
  h.loader = 1;
  let loading, drawn, opened;
  const load = () => {
    loading = loading || import(new URL(__HALO_APP__, import.meta.url).href);
  };
  const stored = (k) => {
    try {
      return localStorage.getItem(k);
    } catch (e) {
      return null;
    }
  };
  // WCAG's choice of text on a colour the page chose itself: white below a luminance of 0.2069.
  const textOn = (hex) => {
    const lin = (i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * lin(1) + 0.7152 * lin(3) + 0.0722 * lin(5) <= 0.2069 ? "#ffffff" : "#1c1e21";
  };
  const draw = (boot) => {
    if (drawn || w.Halo.loaded) return;
    drawn = 1;
    const ui = boot.ui || {}, at = `halo:${boot.orgId}:`;
    // What the app painted last: brand, text on it, left ("1"), the launcher's and the dot's names.
    const [b, t, l, open, unread] = (stored(at + "launcher") || "").split("\n");
    const brand = /^#[0-9a-f]{6}$/i.test(ui.brandColor) ? ui.brandColor.toLowerCase() : b || "#2f5bea";
    const host = d.createElement("halo-widget");
    host.setAttribute("data-testid", "halo-host");
    const shadow = host.attachShadow({ mode: "open" });
    const left = ui.position ? ui.position == "left" : l == "1";
    shadow.innerHTML = `<style>${css}</style><div class="root${left ? " left" : ""}"><button class="launcher" data-testid="halo-launcher" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="${icon}"/></svg></button></div>`;
    const root = shadow.lastChild, button = root.firstChild;
    root.style.cssText = `--b:${brand};--bt:${brand == b ? t : textOn(brand)}`;
    button.setAttribute("aria-label", open || "Open support chat");
    if (stored(at + "unread")) {
      const dot = d.createElement("span");
      dot.className = "badge";
      dot.setAttribute("data-testid", "halo-unread");
      dot.setAttribute("role", "status");
      dot.setAttribute("aria-label", unread || "Unread reply");
      button.append(dot);
    }
    for (const e of ["pointerenter", "pointerdown", "focus"]) button.addEventListener(e, load);
    button.addEventListener("click", () => {
      load();
      if (!opened) w.Halo("open");
      opened = 1;
    });
    d.body.append(host);
  };
  const seen = (args) => {
    if (args[0] == "boot" && args[1] && args[1].orgId) {
      d.body ? draw(args[1]) : d.addEventListener("DOMContentLoaded", () => draw(args[1]));
    }
  };
  const q = h.q;
  q.forEach(seen);
  q.push = function (args) {
    seen(args);
    return Array.prototype.push.apply(q, arguments);
  };
  const idle = () => (w.requestIdleCallback ? requestIdleCallback(load, { timeout: 2000 }) : setTimeout(load, 200));
  d.readyState == "complete" ? idle() : w.addEventListener("load", idle);
}
