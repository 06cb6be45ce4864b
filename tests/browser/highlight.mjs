// Browser test: the agent points at a marked element of the host page. A model (the test's
// OpenAI-wire peer) answers with a `highlight` tool call for data-halo-id="upgrade-button";
// the widget scrolls the button into view and draws an outline with the message over it,
// without changing the host page. Exits non-zero on the first failure.
//
// Usage: node tests/browser/highlight.mjs <api base> <org id> <widget key>
import assert from "node:assert/strict";
import { hostHtml, run, step } from "./runner.mjs";

const [base, orgId, widgetKey] = process.argv.slice(2);
const html = () => hostHtml(base, {
  title: "Billing",
  bodyAttrs: ' style="margin:0"',
  body: `<h1>Billing</h1><p style="height:1600px">Your plan: Starter.</p>
<button data-halo-id="upgrade-button" style="margin:20px">Upgrade</button>
<p style="height:1600px">Footer</p>`,
  script: `Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)} });`,
});

await run("highlight", html, async ({ page, url, errors }) => {
  await page.goto(url);
  const button = page.locator('[data-halo-id="upgrade-button"]');
  const before = await button.evaluate((el) => el.outerHTML);
  const inView = () => button.evaluate((el) => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; });
  assert.equal(await inView(), false, "the button starts below the fold");

  await page.getByTestId("halo-launcher").click();
  await page.getByTestId("halo-input").fill("Where do I upgrade my plan? MODE:HIGHLIGHT");
  await page.getByTestId("halo-send").click();
  const outline = page.getByTestId("halo-highlight");
  await outline.waitFor({ state: "visible", timeout: 15000 });
  assert.equal(await page.getByTestId("halo-highlight-message").innerText(), "Click Upgrade here to change your plan.");
  step("the agent's highlight shows its message");

  await page.waitForTimeout(600); // the smooth scroll settles
  assert.equal(await inView(), true, "the button was scrolled into view");
  const b = await button.boundingBox();
  const o = await outline.boundingBox();
  assert.ok(o.x <= b.x && o.y <= b.y && o.x + o.width >= b.x + b.width && o.y + o.height >= b.y + b.height,
    `the outline ${JSON.stringify(o)} surrounds the button ${JSON.stringify(b)}`);
  step("the page scrolled to the marked element and the outline surrounds it");

  assert.equal(await button.evaluate((el) => el.outerHTML), before, "the host element is untouched");
  assert.equal(await page.evaluate(() => document.querySelectorAll("body *:not(halo-widget)").length > 0 &&
    [...document.body.children].filter((e) => e.tagName === "HALO-WIDGET").length), 1, "only the widget's own host was added");
  step("the host page's DOM is only read, never changed");
  await page.getByTestId("halo-input").fill("How do I upgrade? MODE:MARKDOWN");
  await page.getByTestId("halo-send").click();
  const md = page.locator('[data-testid="halo-message"][data-role="ai"]').nth(1);
  await md.waitFor({ timeout: 15000 });
  await md.locator("ol li").nth(1).waitFor({ timeout: 5000 });
  assert.equal(await md.locator("ol li").count(), 2);
  assert.equal(await md.locator("strong").innerText(), "Billing");
  assert.equal(await md.locator("a").first().getAttribute("href"), "https://help.example.test/plans");
  assert.equal(await md.locator("a").count(), 1, "only the http(s) link is a link");
  assert.equal(await page.locator("halo-widget img").count(), 0, "no image from answer text");
  assert.match(await md.innerText(), /<img src=x onerror=alert\(1\)>/);
  step("answers render as safe markdown: lists, bold, web links; HTML stays text");

  assert.deepEqual(errors, [], "no page errors");
}, { viewport: { width: 1000, height: 700 } });
