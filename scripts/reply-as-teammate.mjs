// Replies as the demo teammate to the most recently active conversation, through the inbox
// API: the widget shows the reply at once (or an unread dot on the closed launcher).
//
// Usage: node scripts/reply-as-teammate.mjs "text" [http://127.0.0.1:8787]
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [text, baseArg] = process.argv.slice(2);
const base = (baseArg || process.env.HALO_BASE || "http://127.0.0.1:8787").replace(/\/$/, "");
if (!text) {
  console.error('usage: node scripts/reply-as-teammate.mjs "text" [base url]');
  process.exit(2);
}
const demo = JSON.parse(readFileSync(join(root, ".halo", "demo.json"), "utf8"));
const call = async (method, path, body) => {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${demo.teammate_token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};
const { conversations } = await call("GET", "/api/inbox/conversations");
if (conversations.length === 0) {
  console.error("No conversation yet: open the demo page and say something first.");
  process.exit(1);
}
const session = conversations[0].session_id;
await call("POST", `/api/inbox/conversations/${session}/reply`, { text });
console.log(`Replied to conversation ${session} (mood: ${conversations[0].mood ?? "n/a"}).`);
