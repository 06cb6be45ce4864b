// Browser test of a rate-limited visitor: the workspace allows one message a minute per
// visitor; the second shows a calm "try again in N s" in the panel and keeps the typed text.
//
// Usage: node tests/browser/limits.mjs <api base> <org id> <widget key>
import assert from "node:assert/strict";
import { hostHtml, run, step } from "./runner.mjs";

const [base, orgId, widgetKey] = process.argv.slice(2);
const html = hostHtml(base, {
  script: `Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)} });
Halo("identify", { user_id: "quick-visitor" });`,
});

await run("limits", () => html, async ({ page, url }) => {
  await page.goto(url);
  await page.getByTestId("halo-launcher").click();
  await page.getByTestId("halo-input").fill("First question");
  await page.getByTestId("halo-send").click();
  await page.locator('[data-testid="halo-message"][data-role="ai"]').first().waitFor({ timeout: 15000 });
  await page.getByTestId("halo-input").fill("Second question, too soon");
  await page.getByTestId("halo-send").click();
  const notice = page.locator('[data-testid="halo-message"][data-role="notice"]').last();
  await notice.waitFor({ timeout: 10000 });
  assert.match(await notice.innerText(), /^You're sending messages quickly, try again in \d+ s\.$/);
  assert.equal(await page.getByTestId("halo-input").inputValue(), "Second question, too soon", "the typed text is kept");
  step("over the limit, the widget says when to try again and keeps the typed text");
});
