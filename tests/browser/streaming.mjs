// Browser test: an answer from a real model (llama.cpp with SmolLM2 on this machine) appears
// in the panel as it is generated, over the conversation's WebSocket, and the final answer then
// takes the streamed one's place. Exits non-zero on the first failure.
//
// Usage: node tests/browser/streaming.mjs <api base> <org id> <widget key>
import assert from "node:assert/strict";
import { hostHtml, run, step } from "./runner.mjs";

const [base, orgId, widgetKey] = process.argv.slice(2);
const html = () => hostHtml(base, {
  body: "<h1>App</h1>",
  script: `Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)} });`,
});

await run("streaming", html, async ({ page, url, errors }) => {
  await page.goto(url);
  // Opening the panel opens the conversation and its socket; wait until the socket is live.
  const live = page.waitForResponse((r) => r.url().includes("/updates?after="), { timeout: 20000 });
  await page.getByTestId("halo-launcher").click();
  await live;

  await page.getByTestId("halo-input").fill("Write two friendly sentences about resetting a password.");
  const answered = page.waitForResponse(
    (r) => r.url().endsWith("/api/sdk/chat") && r.request().method() === "POST", { timeout: 120000 });
  await page.getByTestId("halo-send").click();
  const ai = page.locator('[data-testid="halo-message"][data-role="ai"]');
  // Part of the answer shows while the request is still pending (the typing dots remain).
  await page.waitForFunction(() => {
    const root = document.querySelector("halo-widget").shadowRoot;
    return root.querySelector('[data-role="ai"]') && root.querySelector('[data-testid="halo-typing"]');
  }, null, { timeout: 60000, polling: 50 });
  const partial = await ai.first().locator(".md").innerText();
  assert.equal(await ai.first().getByTestId("halo-rate-up").count(), 0, "no rating on a partial answer");
  assert.ok(partial.trim().length > 0, "some text arrived");
  step(`the answer appears while it is generated (${JSON.stringify(partial.slice(0, 40))}…)`);

  await page.getByTestId("halo-typing").waitFor({ state: "detached", timeout: 90000 });
  assert.equal(await ai.count(), 1, "the final answer replaced the streamed one");
  const final = await ai.first().locator(".md").innerText();
  // The streamed text is the beginning of the final answer. Both are rendered markdown: a
  // list marker the partial showed as text ("1") is a list number in the final one, which
  // innerText leaves out, so the partial is compared with the answer's own text, with and
  // without its markdown marks.
  const raw = (await (await answered).json()).text;
  const flat = (t) => t.replace(/\s+/g, " ").trim();
  const unmarked = raw.split("\n").map((l) => l.replace(/^\s*(\d+[.)]|[-*])\s+/, "")).join("\n").replace(/\*\*/g, "");
  const begins = (t) => flat(t).startsWith(flat(partial));
  assert.ok(begins(raw) || begins(unmarked), `${JSON.stringify(partial)} then ${JSON.stringify(raw)}`);
  assert.ok(flat(final).length > 0, "the panel shows the final answer");
  assert.equal(await ai.first().getByTestId("halo-rate-up").count(), 1, "the final answer can be rated");
  step("the final answer takes the streamed one's place");
  assert.deepEqual(errors, [], "no page errors");
});
