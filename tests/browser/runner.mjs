// The one browser runner of the browser tests: the widget's snippet for an API base, a host
// page served on loopback, and Debian's Chromium launched headless with the flags this
// machine needs (no background networking: its connections would be refused). `run` gives a
// test its page and cleans up whatever happens; `browser` opens another person's browser.
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const root = new URL("../../", import.meta.url);

/** The built snippet, loading the widget from `base`. */
export function snippet(base) {
  return readFileSync(new URL("dist/widget/snippet.min.js", root), "utf8")
    .trim()
    .replace("__HALO_WIDGET_URL__", `${base}/widget/halo.js`);
}

/** A host page: its `head` and `body`, then the snippet and `script` (the page's Halo calls). */
export function hostHtml(base, { title = "App", head = "", bodyAttrs = "", body = "", script = "" }) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head>
<body${bodyAttrs}>${body}
<script>
${snippet(base)}
${script}
</script></body></html>`;
}

/** Prints a passed step. */
export const step = (s) => console.log(`  ok: ${s}`);

/**
 * Serves `html(url)` on loopback, launches Chromium, and runs `test({ context, page, url,
 * errors })`; the page's errors are collected in `errors`. Closes everything afterwards.
 */
export async function run(name, html, test, { viewport } = {}) {
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html(req.url));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const { context, close } = await browser({ viewport });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await test({ context, page, url, errors });
    console.log(`${name}: 1 passed, 0 failed`);
  } finally {
    await close();
    server.close();
  }
}

/**
 * Chromium with a fresh profile of its own (its own cookies and storage, as another person's
 * browser): `{ context, close }`.
 */
export async function browser({ viewport } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "halo-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    ...(viewport ? { viewport } : {}),
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}
