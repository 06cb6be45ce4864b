// Widget load benchmark: what the snippet costs a plain host page, in headless Chromium on
// loopback, each load in a fresh profile (cold cache). Medians of `runs` loads of:
// - the page without the snippet, and with it left alone by an anonymous visitor: bytes
//   transferred and decoded, main-thread CPU time (the renderer's task time) added to the
//   page, and the time from the snippet running to the launcher on screen;
// - the same page calling identify() (the app starts while the page is idle, to tell the
//   server): main-thread CPU time added;
// - the page with the snippet, clicked as soon as the launcher shows: the time from the
//   press to a usable composer (the textarea on screen);
// - a returning visitor (the same profile, the next page load): bytes transferred.
// Figures only; nothing fails.
//
// Usage: node tests/browser/widget-bench.mjs <api base> <org id> <widget key> [runs]
import { createServer } from "node:http";
import { browser, snippet } from "./runner.mjs";

const [base, orgId, widgetKey, runsArg] = process.argv.slice(2);
const runs = Math.max(9, Number(runsArg || 9));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const page = (withSnippet, identified) => `<!doctype html><html><head><meta charset="utf-8"><title>Host</title></head>
<body><h1>A customer's app</h1><p>${"Some text of the host page. ".repeat(40)}</p>
<script>performance.mark("snippet");
${withSnippet ? `${snippet(base)}\nHalo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)} });` : ""}
${identified ? 'Halo("identify", { user_id: "bench-" + Math.random(), name: "Ada" });' : ""}
</script></body></html>`;
const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(page(req.url !== "/plain", req.url === "/identified"));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const host = `http://127.0.0.1:${server.address().port}`;

// In the page before anything runs: when the launcher and the composer first reach the screen
// (the animation frame after they enter the widget's shadow root), and when the first press was.
const watch = () => {
  const t = (window.__halo = {});
  const frame = (k) => requestAnimationFrame(() => (t[k] ??= performance.now()));
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    new MutationObserver(() => {
      if (!t.launcherSeen && root.querySelector(".launcher")) { t.launcherSeen = 1; frame("launcher"); }
      if (!t.composerSeen && root.querySelector("textarea")) { t.composerSeen = 1; frame("composer"); }
    }).observe(root, { childList: true, subtree: true });
    return root;
  };
  addEventListener("pointerdown", () => (t.press ??= performance.now()), true);
};

/** One load in `context`: { bytes, decoded, cpu, timings }. */
async function load(context, url, { click = false } = {}) {
  const p = await context.newPage();
  await p.addInitScript(watch);
  const cdp = await context.newCDPSession(p);
  await cdp.send("Network.enable");
  await cdp.send("Performance.enable");
  let bytes = 0, decoded = 0;
  cdp.on("Network.dataReceived", (e) => (decoded += e.dataLength));
  cdp.on("Network.loadingFinished", (e) => (bytes += e.encodedDataLength));
  await p.goto(url, { waitUntil: "load" });
  if (url.endsWith("/plain")) {
    await p.waitForTimeout(1500);
  } else {
    await p.waitForFunction(() => window.__halo.launcher, null, { polling: 5 });
    if (click) {
      await p.click("[data-testid=halo-launcher]");
      await p.waitForFunction(() => window.__halo.composer, null, { polling: 5, timeout: 10000 });
    } else if (url.endsWith("/identified")) {
      await p.waitForFunction(() => window.Halo && window.Halo.loaded, null, { timeout: 10000 });
      await p.waitForTimeout(1000);
    } else {
      // Left alone: the app is fetched and compiled while idle, and not started.
      await p.waitForFunction(() => performance.getEntriesByType("resource").some((e) => e.name.endsWith(".wasm") && e.responseEnd > 0), null, { timeout: 10000 });
      await p.waitForTimeout(1000);
    }
  }
  const metrics = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const timings = await p.evaluate(() => ({ ...window.__halo, snippet: performance.getEntriesByName("snippet")[0]?.startTime }));
  await p.close();
  return { bytes, decoded, cpu: metrics.TaskDuration * 1000, script: metrics.ScriptDuration * 1000, timings };
}

const plain = [], alone = [], identified = [], clicked = [], returning = [];
for (let i = 0; i < runs; i++) {
  for (const [into, url, opts] of [[plain, `${host}/plain`, {}], [alone, `${host}/`, {}], [identified, `${host}/identified`, {}], [clicked, `${host}/`, { click: true }]]) {
    const { context, close } = await browser();
    try {
      into.push(await load(context, url, opts));
      if (into === alone) returning.push(await load(context, url));
    } finally {
      await close();
    }
  }
}
server.close();
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const m = (rows, f) => median(rows.map(f));
console.log(`Widget on a plain host page, headless Chromium on loopback, median of ${runs} fresh profiles:`);
console.log(`  transferred by the page with the widget       ${kb(m(alone, (r) => r.bytes))} (without: ${kb(m(plain, (r) => r.bytes))}), decoded ${kb(m(alone, (r) => r.decoded))}`);
console.log(`  a returning visitor's next page load          ${kb(m(returning, (r) => r.bytes) - m(plain, (r) => r.bytes))} more than the page alone`);
const added = (rows, f) => (m(rows, f) - m(plain, f)).toFixed(1);
console.log(`  main-thread CPU added, no interaction         ${added(alone, (r) => r.cpu)} ms, of it script ${added(alone, (r) => r.script)} ms (page alone ${m(plain, (r) => r.cpu).toFixed(1)} ms; the app fetched and compiled while idle, not started)`);
console.log(`  the same, the page calling identify()         ${added(identified, (r) => r.cpu)} ms, of it script ${added(identified, (r) => r.script)} ms (the app started while idle)`);
console.log(`  snippet running -> launcher on screen         ${m(alone, (r) => r.timings.launcher - r.timings.snippet).toFixed(1)} ms`);
console.log(`  first click -> usable composer (cold cache)   ${m(clicked, (r) => r.timings.composer - r.timings.press).toFixed(1)} ms`);
