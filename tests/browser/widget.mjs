// Browser test: a host page on another origin, with hostile CSS and the snippet (boot,
// identify and setContext queued before the widget loads), in headless Debian Chromium.
// A visitor opens the widget, asks, sees the typing state and the answer with its source,
// reloads and finds the conversation still there. Exits non-zero on the first failure.
//
// A teammate then replies through the inbox API: the closed widget shows the unread dot (also
// after a reload), the panel shows the reply when opened, and `ui.autoOpenUnseen` opens the
// panel by itself except on `manualOnPaths`.
//
// Usage: node tests/browser/widget.mjs <api base> <org id> <widget key> <secret key> <inbox token>
import assert from "node:assert/strict";
import { snippet as snippetFor, run, step } from "./runner.mjs";

const [base, orgId, widgetKey, secretKey, teammateToken] = process.argv.slice(2);
const snippet = snippetFor(base);

const page_html = (auto) => `<!doctype html><html><head><meta charset="utf-8"><title>Hostile host</title>
<style>
  * { font-size: 40px !important; color: red !important; font-family: "Comic Sans MS", cursive !important;
      line-height: 3 !important; letter-spacing: 4px !important; box-sizing: content-box !important; }
  button { display: none !important; }
  div, ol, li, form, textarea, a, span { background: lime !important; border: 6px dashed red !important; padding: 40px !important; }
  halo-widget { display: none !important; opacity: 0 !important; }
</style></head>
<body><h1>Shop</h1><p>Content of the customer's app.</p>
<script>
${snippet}
Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)}${
  auto ? ', ui: { autoOpenUnseen: true, manualOnPaths: ["/checkout*"] }' : ""} });
Halo("identify", { user_id: "browser-user-1", name: "Ada", plan: "pro" });
Halo("setContext", { page: { label: "Current page", type: "status", value: "checkout" } });
Halo("setContext", { integrations: { label: "Connected Integrations", type: "integration", value: [
  { name: "Google Ads", connected: true, status: "error", error: "Token expired" } ] } });
Halo("setContext", { broken: { value: "no label" }, seats: { label: "Seats", type: "metric", value: "12 of 40" } });
window.__queuedBeforeLoad = window.Halo.q.length;
</script></body></html>`;

await run("browser", (path) => page_html(path.includes("auto=1")), async ({ context, page, url, errors }) => {

  // Hold each chat request a moment (it still goes to the real Worker) so the typing state is observable.
  await page.route(`${base}/api/sdk/chat`, async (route) => {
    if (route.request().method() === "POST") await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });

  await page.goto(url);
    assert.equal(await page.evaluate(() => window.__queuedBeforeLoad), 5, "five calls were queued before load");
  const launcher = page.getByTestId("halo-launcher");
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  await page.waitForFunction(() => window.Halo.loaded === true, null, { timeout: 15000 });
  step("the launcher shows although the page hides buttons and halo-widget");

  const fontSize = await launcher.evaluate((el) => getComputedStyle(el).fontSize);
  const box = await launcher.boundingBox();
  assert.equal(fontSize, "14px", "host CSS must not reach the widget");
  assert.ok(Math.abs(box.width - 56) < 1 && Math.abs(box.height - 56) < 1, `launcher is 56x56, got ${box.width}x${box.height}`);
  step("hostile CSS does not reach inside the shadow root");

  assert.equal(await page.getByTestId("halo-panel").count(), 0, "the panel never opens by itself");
  await page.evaluate(() => window.Halo("open"));
  await page.getByTestId("halo-panel").waitFor({ state: "visible" });
  await page.evaluate(() => window.Halo("close"));
  await page.getByTestId("halo-panel").waitFor({ state: "detached" });
  step("Halo('open') and Halo('close') drive the panel");
  await launcher.click();
  await page.getByTestId("halo-panel").waitFor({ state: "visible" });
  step("clicking the launcher opens the panel");
  await page.waitForFunction((org) => localStorage.getItem(`halo:${org}:session`), orgId, { timeout: 10000 });
  const opened = await page.evaluate((org) => localStorage.getItem(`halo:${org}:session`), orgId);
  const fresh = await (await fetch(`${base}/api/inbox/conversations/${opened}`, {
    headers: { authorization: `Bearer ${teammateToken}` },
  })).json();
  assert.equal(fresh.conversation.message_count, 0, "the conversation exists before the first message");
  assert.equal(fresh.conversation.user_id, "browser-user-1");
  step("opening the widget opens a conversation the team can see");

  await page.getByTestId("halo-input").fill("How do I reset my password?");
  await page.getByTestId("halo-send").click();
  await page.getByTestId("halo-typing").waitFor({ state: "visible", timeout: 5000 });
  step("a typing state shows while the answer is on its way");
  const answer = page.locator('[data-testid="halo-message"][data-role="ai"]').first();
  await answer.waitFor({ timeout: 15000 });
  assert.match(await answer.innerText(), /Forgot password\?/);
  const link = answer.locator("a");
  assert.equal(await link.getAttribute("href"), "https://help.example.test/reset");
  assert.equal(await link.innerText(), "Resetting your password");
  assert.equal(await page.getByTestId("halo-typing").count(), 0);
  step("the answer appears with its source as a link");

  await answer.getByTestId("halo-rate-up").click();
  assert.equal(await answer.getByTestId("halo-rate-up").getAttribute("aria-pressed"), "true");
  const rated = async () => {
    const s = await page.evaluate((org) => localStorage.getItem(`halo:${org}:session`), orgId);
    const r = await fetch(`${base}/api/inbox/conversations/${s}`, { headers: { authorization: `Bearer ${teammateToken}` } });
    return (await r.json()).conversation;
  };
  let seen = await rated();
  for (let i = 0; i < 100 && (seen.messages[1].rating !== "up" || seen.outcome !== "resolved"); i++) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await rated();
  }
  assert.equal(seen.messages[1].rating, "up", "the team sees the thumbs-up");
  assert.equal(seen.outcome, "resolved", "a thumbs-up resolves the conversation");
  step("a thumbs-up on an answer reaches the team");

  await page.getByTestId("halo-input").fill("What do I paste into the embed field?");
  await page.getByTestId("halo-input").press("Enter");
  const second = page.locator('[data-testid="halo-message"][data-role="ai"]').nth(1);
  await second.waitFor({ timeout: 15000 });
  assert.match(await second.innerText(), /<img src=x onerror=alert\(1\)>/, "markup in answers shows as text");
  assert.equal(await page.locator("halo-widget img").count(), 0, "no element is created from answer text");
  step("replies render as text, never as HTML");

  const session = await page.evaluate((org) => localStorage.getItem(`halo:${org}:session`), orgId);
  assert.ok(session, "the session id is kept in localStorage");
  await page.reload();
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  assert.equal(await page.getByTestId("halo-panel").count(), 0, "still closed after a reload");
  await launcher.click();
  await page.getByTestId("halo-panel").waitFor({ timeout: 10000 });
  assert.equal(await page.locator('[data-testid="halo-message"]').count(), 4, "the conversation survives a reload");
  assert.equal(await page.getByTestId("halo-rate-up").first().getAttribute("aria-pressed"), "true", "so does the rating");
  await page.getByTestId("halo-input").fill("thanks!");
  await page.getByTestId("halo-send").click();
  await page.locator('[data-testid="halo-message"][data-role="ai"]').nth(2).waitFor({ timeout: 15000 });
  const transcript = await (await fetch(`${base}/api/sdk/conversations/${session}`, {
    headers: { authorization: `Bearer ${secretKey}` },
  })).json();
  assert.equal(transcript.messages.length, 6, "all three exchanges are one server-side conversation");
  assert.equal(transcript.user_id, "browser-user-1", "identify() queued before load reached the server");
  step("after a reload the same session continues");

  await page.getByTestId("halo-input").fill("Do you have a dark mode for the dashboard?");
  await page.getByTestId("halo-send").click();
  const offer = page.getByTestId("halo-talk-to-person");
  await offer.waitFor({ state: "visible", timeout: 15000 });
  assert.match(await page.locator('[data-testid="halo-message"][data-role="ai"]').nth(3).innerText(), /couldn't find/);
  await offer.click();
  await page.locator('[data-testid="halo-message"][data-role="ai"]').nth(4).waitFor({ timeout: 15000 });
  assert.equal(await offer.count(), 0, "the offer goes once it is taken up");
  const flagged = await (await fetch(`${base}/api/sdk/conversations/${session}`, {
    headers: { authorization: `Bearer ${secretKey}` },
  })).json();
  assert.equal(flagged.needs_human, true, "the conversation is flagged for the team");
    step("when the AI cannot help, 'Talk to a person' flags the conversation for the team");

  await page.getByTestId("halo-input").fill("Why isn't my Google Ads tracking working?");
  await page.getByTestId("halo-send").click();
  const fromContext = page.locator('[data-testid="halo-message"][data-role="ai"]').nth(5);
  await fromContext.waitFor({ timeout: 15000 });
  assert.match(await fromContext.innerText(), /Google Ads integration is connected but reports an error: Token expired/);
  step("setContext() queued before load reaches the AI, which answers from it");

  const contact = await (await fetch(`${base}/api/sdk/users/browser-user-1`, {
    headers: { authorization: `Bearer ${secretKey}` },
  })).json();
  assert.equal(contact.user.name, "Ada", "identify() traits were stored");
  assert.equal(contact.user.verified, false, "a browser identify without a token is unverified");
  assert.equal(contact.user.context.integrations.value[0].error, "Token expired", "setContext() was stored");
  assert.equal(contact.user.context.broken, undefined, "an entry without a label was left out");
  assert.equal(contact.user.context.seats.value, "12 of 40", "a value of any shape is stored");
    step("identify() and setContext() are stored on the contact");

  // A teammate takes over and replies through the inbox API while the panel is closed.
  const inbox = async (action, body) => {
    const r = await fetch(`${base}/api/inbox/conversations/${session}/${action}`, {
      method: "POST",
      headers: { authorization: `Bearer ${teammateToken}`, "content-type": "application/json" },
      body: JSON.stringify(body ?? {}),
    });
    assert.equal(r.status, 200, await r.text());
  };
  await page.evaluate(() => window.Halo("close"));
  await page.getByTestId("halo-panel").waitFor({ state: "detached" });
  assert.equal(await page.getByTestId("halo-unread").count(), 0, "nothing unread yet");
  await inbox("takeover");
  await inbox("reply", { text: "Hi Ada, Sam from support here." });
  await page.getByTestId("halo-unread").waitFor({ state: "visible", timeout: 10000 });
  assert.equal(await page.getByTestId("halo-panel").count(), 0, "a teammate's reply does not open the panel");
  step("a teammate's reply shows the unread dot on the closed launcher");

  await page.reload();
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  await page.getByTestId("halo-unread").waitFor({ state: "visible", timeout: 5000 });
  step("the unread dot survives a reload");

  await launcher.click();
  const fromTeammate = page.locator('[data-testid="halo-message"][data-role="teammate"]');
  await fromTeammate.first().waitFor({ timeout: 5000 });
  assert.equal(await fromTeammate.first().innerText(), "Hi Ada, Sam from support here.");
  assert.equal(await fromTeammate.count(), 1, "the reply shows once");
  assert.match(await page.locator('[data-testid="halo-message"][data-role="system"]').first().innerText(), /joined the conversation/);
  assert.equal(await page.getByTestId("halo-unread").count(), 0, "opening clears the dot");
  step("opened, the panel shows the teammate's reply");

  await inbox("reply", { text: "Your refund is on its way." });
  await fromTeammate.nth(1).waitFor({ timeout: 10000 });
  assert.equal(await fromTeammate.nth(1).innerText(), "Your refund is on its way.");
  assert.equal(await page.getByTestId("halo-unread").count(), 0);
  step("with the panel open, the next reply appears at once");

  const manual = await context.newPage();
  const auto = await context.newPage();
  for (const [p, path] of [[manual, "checkout?auto=1"], [auto, "?auto=1"]]) {
    // The widget reads what it missed once its socket is open: then it is live.
    const live = p.waitForResponse((r) => r.url().includes("/updates?after="), { timeout: 15000 });
    await p.goto(`${url}${path}`);
    await live;
  }
  await inbox("reply", { text: "Anything else I can help with?" });
  await auto.getByTestId("halo-panel").waitFor({ state: "visible", timeout: 10000 });
  await auto.locator('[data-testid="halo-message"][data-role="teammate"]', { hasText: "Anything else" }).waitFor({ timeout: 5000 });
  await manual.getByTestId("halo-unread").waitFor({ state: "visible", timeout: 10000 });
  assert.equal(await manual.getByTestId("halo-panel").count(), 0, "never opens by itself on manualOnPaths");
  await manual.close();
  await auto.close();
  step("ui.autoOpenUnseen opens the panel for a reply, except on manualOnPaths");

  await page.evaluate(() => window.Halo("shutdown"));
  assert.equal(await page.evaluate((org) => localStorage.getItem(`halo:${org}:session`), orgId), null, "the session is forgotten");
  await launcher.click();
  assert.equal(await page.locator('[data-testid="halo-message"]').count(), 0, "the conversation is cleared");
  step("Halo('shutdown') forgets the user, the session and the conversation");



  assert.deepEqual(errors, [], "no page errors");
});
