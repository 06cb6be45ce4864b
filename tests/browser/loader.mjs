// Browser test: the loader draws the launcher before the app has loaded, and a click then
// is not lost. The app's module is held back (the route waits) so "before" is certain:
// - a first visit shows the default launcher at once, with the boot call's brand colour and
//   side, while `Halo` is still the queue;
// - pressing it opens the panel once the app is let through, with a usable composer;
// - the next page load, in the same browser, draws the launcher as the app last painted it
//   (the workspace's colour, the unread dot), and the app replaces it without a second one
//   ever showing; keyboard focus on the loader's launcher moves to the app's.
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
  await launcher.waitFor({ state: "visible", timeout: 5000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), undefined, "the app is held back");
  const look = await launcher.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color, el.getBoundingClientRect().left]);
  assert.deepEqual(look.slice(0, 2), ["rgb(255, 213, 0)", "rgb(28, 30, 33)"], "the boot call's colour, dark text on yellow");
  assert.ok(look[2] < 100, `on the left, got x=${look[2]}`);
  assert.equal(await launcher.getAttribute("aria-label"), "Open support chat");
  step("the launcher shows before the app, in the boot call's colour and side");

  await launcher.click();
  assert.equal(await page.getByTestId("halo-panel").count(), 0);
  release();
  const composer = page.locator("[data-testid=halo-panel] textarea");
  await composer.waitFor({ state: "visible", timeout: 10000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), true);
  assert.equal(await page.locator("halo-widget").count(), 1, "one widget on the page");
  await composer.fill("Hello from before the app loaded");
  step("a click before the app loaded opens the panel once it has, with a usable composer");

  // The app painted the workspace's look and saved it: make the dot show on the next load.
  await page.evaluate((org) => localStorage.setItem(`halo:${org}:unread`, "1"), orgId);
  held = new Promise((r) => (release = r));
  await page.goto(url);
  await launcher.waitFor({ state: "visible", timeout: 5000 });
  assert.equal(await page.evaluate(() => window.Halo.loaded), undefined);
  const saved = await launcher.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(saved, "rgb(47, 91, 234)", "the workspace's colour, as the app last painted it");
  assert.equal(await page.getByTestId("halo-unread").count(), 1, "the unread dot");
  await launcher.focus();
  release();
  await page.waitForFunction(() => window.Halo.loaded === true);
  assert.equal(await page.locator("halo-widget").count(), 1, "the app replaced the loader's launcher");
  assert.equal(await page.getByTestId("halo-unread").count(), 1, "the app's launcher has the dot too");
  const focused = await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.dataset.testid);
  assert.equal(focused, "halo-launcher", "focus moved to the app's launcher");
  step("the next load draws the saved look and dot; the app takes over in place, focus kept");

  assert.deepEqual(errors, []);
});
