// Browser test: the loader draws the launcher before the app has loaded, and a click then
// is not lost. The app's module is held back (the route waits) so "before" is certain:
// - a first visit shows the default launcher at once, with the boot call's brand colour and
//   side, while `Halo` is still the queue;
// - pressing it opens the panel once the app is let through, with a usable composer;
// - the next page load, in the same browser, draws the launcher as the app last saved it
//   (the workspace's colour and side, the unread dot) without reading the config, and the
//   app replaces it without a second one ever showing; keyboard focus on the loader's
//   launcher moves to the app's;
// - a first visit draws the default look, then the workspace's from its config.
// Exits non-zero on the first failure.
//
// Usage: node tests/browser/loader.mjs <api base> <org id> <widget key>
import assert from "node:assert/strict";
import { hostHtml, run, step } from "./runner.mjs";

const [base, orgId, widgetKey] = process.argv.slice(2);
const html = (path) => hostHtml(base, {
  script: `Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)}${
    path.includes("brand=1") ? ', ui: { brandColor: "#FFD500", position: "left" }' : ""} });`,
});

await run("loader", html, async ({ page, url, errors }) => {
  let release;
  let held = new Promise((r) => (release = r));
  await page.route(/\/widget\/b\/app\.[0-9a-f]+\.js$/, async (route) => {
    await held;
    await route.continue();
  });

  await page.goto(`${url}?brand=1`);
  const launcher = page.getByTestId("halo-launcher");
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), undefined, "the app is held back");
  const look = await launcher.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color, el.getBoundingClientRect().left]);
  assert.deepEqual(look.slice(0, 2), ["rgb(255, 213, 0)", "rgb(28, 30, 33)"], "the boot call's colour, dark text on yellow");
  assert.ok(look[2] < 100, `on the left, got x=${look[2]}`);
  // The workspace speaks German: the loader names the launcher so once its config arrives.
  await page.waitForFunction(() =>
    document.querySelector("halo-widget").shadowRoot.querySelector(".launcher").getAttribute("aria-label") === "Support-Chat öffnen",
    null, { timeout: 15000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), undefined, "still before the app");
  step("the launcher shows before the app, in the boot call's colour and side, named in the workspace's language");

  await launcher.click();
  assert.equal(await page.getByTestId("halo-panel").count(), 0);
  release();
  const composer = page.locator("[data-testid=halo-panel] textarea");
  await composer.waitFor({ state: "visible", timeout: 10000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), true);
  assert.equal(await page.locator("halo-widget").count(), 1, "one widget on the page");
  await composer.fill("Hello from before the app loaded");
  step("a click before the app loaded opens the panel once it has, with a usable composer");

  // The app painted the workspace's look (purple, on the right) and saved it: the next load
  // draws it from what was saved alone (the config cannot be read), with the unread dot.
  // (The app saves it when its config arrives, which a loaded machine may finish after the
  // composer shows: wait for the record, as a visitor's next page view would come later.)
  await page.waitForFunction((org) => (localStorage.getItem(`halo:${org}:launcher`) || "").toLowerCase().startsWith("#7a3cff"),
    orgId, { timeout: 15000 });
  await page.evaluate((org) => localStorage.setItem(`halo:${org}:unread`, "1"), orgId);
  held = new Promise((r) => (release = r));
  await page.route(/\/api\/sdk\/widget\/config/, (route) => route.abort());
  await page.goto(url);
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), undefined);
  const saved = await launcher.evaluate((el) => [getComputedStyle(el).backgroundColor, el.getBoundingClientRect().left]);
  assert.equal(saved[0], "rgb(122, 60, 255)", "the workspace's colour, as the app last saved it");
  assert.ok(saved[1] > 100, `on the workspace's side (right), got x=${saved[1]}`);
  await page.unroute(/\/api\/sdk\/widget\/config/);
  assert.equal(await page.getByTestId("halo-unread").count(), 1, "the unread dot");
  await launcher.focus();
  release();
  await page.waitForFunction(() => window.Halo.loaded === true);
  assert.equal(await page.locator("halo-widget").count(), 1, "the app replaced the loader's launcher");
  assert.equal(await page.getByTestId("halo-unread").count(), 1, "the app's launcher has the dot too");
  const focused = await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.dataset.testid);
  assert.equal(focused, "halo-launcher", "focus moved to the app's launcher");
  step("the next load draws the saved look and dot; the app takes over in place, focus kept");

  // A first visit (nothing saved): the default look at once, then the workspace's from its
  // config, before the app has started.
  await page.evaluate(() => localStorage.clear());
  held = new Promise((r) => (release = r));
  await page.goto(url);
  await launcher.waitFor({ state: "visible", timeout: 15000 });
  await page.waitForFunction(() =>
    getComputedStyle(document.querySelector("halo-widget").shadowRoot.querySelector(".launcher")).backgroundColor === "rgb(122, 60, 255)",
    null, { timeout: 15000 });
  assert.equal(await launcher.getAttribute("aria-label"), "Support-Chat öffnen");
  assert.equal(await page.evaluate(() => window.Halo.loaded), undefined, "the app has not started");
  release();
  step("a first visit draws the default look at once and the workspace's when its config arrives");

  assert.deepEqual(errors, []);
});
