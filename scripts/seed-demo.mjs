// Seeds the demo workspace through the real admin and knowledge APIs, idempotently: the keys
// are kept in .halo/demo.json and reused while the workspace still exists. Then writes the demo
// host page (dist/demo/index.html) with the snippet installed, and prints the keys.
//
// Usage: node scripts/seed-demo.mjs http://127.0.0.1:8787
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const base = (process.argv[2] || "http://127.0.0.1:8787").replace(/\/$/, "");
const adminToken = readFileSync(join(root, ".dev.vars"), "utf8").match(/^ADMIN_TOKEN="?([^"\n]+)"?/m)?.[1];
if (!adminToken) throw new Error(".dev.vars has no ADMIN_TOKEN: run scripts/setup.sh");
const statePath = join(root, ".halo", "demo.json");

async function call(method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  return { status: res.status, json };
}

/** Reads `---\ntitle: …\nurl: …\n---\n` front matter and the markdown after it. */
export function parseArticle(text) {
  const m = text.match(/^---\n([\s\S]*?)\n---\n([\s\S]*)$/);
  if (!m) throw new Error("an article needs front matter with a title");
  const meta = Object.fromEntries(m[1].split("\n").map((l) => l.split(/:\s(.*)/s).slice(0, 2)));
  return { title: meta.title, url: meta.url, kind: "markdown", content: m[2].trim() };
}

let demo = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : null;
if (demo && (await call("GET", `/api/admin/workspaces/${demo.org_id}`, adminToken)).status !== 200) {
  demo = null; // the local database was reset: make a new workspace
}
if (!demo) {
  const created = await call("POST", "/api/admin/workspaces", adminToken, { name: "Demo Co" });
  if (created.status !== 201) throw new Error(`creating the demo workspace failed: ${JSON.stringify(created.json)}`);
  demo = created.json;
  mkdirSync(dirname(statePath), { recursive: true });
  writeFileSync(statePath, JSON.stringify(demo, null, 2));
}
// A teammate for the inbox API (its token is shown once, so it is kept with the keys).
if (!demo.teammate_token) {
  const tm = await call("POST", `/api/admin/workspaces/${demo.org_id}/teammates`, adminToken, { name: "Demo Teammate" });
  if (tm.status !== 201) throw new Error(`creating the demo teammate failed: ${JSON.stringify(tm.json)}`);
  demo.teammate_token = tm.json.token;
  writeFileSync(statePath, JSON.stringify(demo, null, 2));
}
// The demo workspace's owner, who signs in to the console (the email is a placeholder).
if (!demo.owner_id) {
  const owner = await call("POST", `/api/admin/workspaces/${demo.org_id}/teammates`, adminToken, {
    name: "Demo Owner", email: "owner@demo.halo.test", role: "owner",
  });
  if (owner.status !== 201) throw new Error(`creating the demo owner failed: ${JSON.stringify(owner.json)}`);
  demo.owner_id = owner.json.teammate_id;
  writeFileSync(statePath, JSON.stringify(demo, null, 2));
}
// Every run: a fresh one-time sign-in link for the owner.
const link = await call("POST", `/api/admin/workspaces/${demo.org_id}/teammates/${demo.owner_id}/signin-link`, adminToken, {});
if (link.status !== 201) throw new Error(`making the console sign-in link failed: ${JSON.stringify(link.json)}`);

// Every run: the articles are posted by URL, which replaces them (and embeds them when semantic
// search is on), so edits to scripts/demo-articles show up and nothing is duplicated.
const dir = join(root, "scripts", "demo-articles");
for (const file of readdirSync(dir).sort()) {
  const article = parseArticle(readFileSync(join(dir, file), "utf8"));
  const r = await call("POST", "/api/sdk/knowledge/sources", demo.secret_key, article);
  if (r.status !== 201 && r.status !== 200) throw new Error(`adding ${file} failed: ${JSON.stringify(r.json)}`);
}

// The demo workspace's support address, for the test email printed below.
const settings = await call("GET", `/api/admin/workspaces/${demo.org_id}`, adminToken);
const inbound = settings.json.inbound_email;

const snippetMin = readFileSync(join(root, "dist", "widget", "snippet.min.js"), "utf8")
  .trim()
  .replace("__HALO_WIDGET_URL__", `${base}/widget/halo.js`);
const shown = `<script>\n${snippetMin}\nHalo("boot", { orgId: "${demo.org_id}", widgetKey: "${demo.widget_key}" });\n</script>`;
const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const page = readFileSync(join(root, "snippet", "demo.html"), "utf8")
  .replace("{{SNIPPET_SOURCE}}", escape(shown))
  .replace("{{SNIPPET}}", snippetMin)
  .replaceAll("{{ORG_ID}}", demo.org_id)
  .replaceAll("{{WIDGET_KEY}}", demo.widget_key);
mkdirSync(join(root, "dist", "demo"), { recursive: true });
writeFileSync(join(root, "dist", "demo", "index.html"), page);

console.log(`
  Halo is running.
  Demo page:        ${base}/demo/
  Console:          ${link.json.url}
                    (signs the demo owner in, once; set a password in the console's account
                    menu, or run \`node scripts/seed-demo.mjs ${base}\` for a new link)
  Support email:    ${inbound}
                    (send it a test email: curl -X POST '${base}/cdn-cgi/handler/email?from=ada%40customer.example&to=${encodeURIComponent(inbound)}' --data-binary @tests/fixtures/email/plain.eml)
  Org ID:           ${demo.org_id}
  Widget key:       ${demo.widget_key}   (publishable)
  Secret key:       ${demo.secret_key}   (server only)
  Identity secret:  ${demo.identity_secret}   (server only)
  Inbox token:      ${demo.teammate_token}   (a teammate's, for /api/inbox)
  Admin token:      in .dev.vars

  Reply as a teammate to the latest conversation (watch the widget's unread dot):
    node scripts/reply-as-teammate.mjs "Hi, this is Sam from support"
`);
