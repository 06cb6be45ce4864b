// Browser test of the console's settings as the widget on a company's page feels them: a
// brand colour, title, greeting and language set in Settings > Widget are what the widget
// shows (dark text on a light brand); a boot option on the page still wins; the widget's
// ratings are SVG, Esc closes it and gives focus back, new lines reach screen readers, and on
// a phone it opens full screen. A description written in Settings > Data is in what the AI
// saw, and the agents' playground shows it too. A widget key rotated with a grace period keeps working until the grace period ends.
//
// Usage: node tests/browser/settings.mjs <api base> <org id> <widget key> <owner sign-in link>
import assert from "node:assert/strict";
import { browser, snippet as snippetFor, run, step } from "./runner.mjs";

const [base, orgId, firstKey, ownerLink] = process.argv.slice(2);
const snippet = snippetFor(base);

// The company's page: `?key=` picks the widget key, `?brand=` adds boot options.
const page = (path) => {
  const q = new URL(path, "http://x").searchParams;
  const key = q.get("key") || firstKey;
  const ui = q.get("brand") ? `, ui: { brandColor: ${JSON.stringify(q.get("brand"))}, position: "left" }` : "";
  return `<!doctype html><html><head><meta charset="utf-8"><title>Acme app</title></head><body><h1>Acme app</h1>
<script>${snippet}
Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(key)}${ui} });
Halo("identify", { user_id: "settings-customer", plan: "pro" });
</script></body></html>`;
};

const shadow = (p, f) => p.evaluate(f);
const launcherStyle = (p) =>
  shadow(p, () => {
    const b = document.querySelector("halo-widget").shadowRoot.querySelector(".launcher");
    const s = getComputedStyle(b);
    return { background: s.backgroundColor, color: s.color, left: b.getBoundingClientRect().left };
  });

async function ask(p, text) {
  const before = await p.locator('[data-testid="halo-message"]').count();
  await p.getByTestId("halo-input").fill(text);
  await p.getByTestId("halo-send").click();
  const reply = p.locator('[data-testid="halo-message"]').nth(before + 1);
  await reply.waitFor({ timeout: 15000 });
  return reply;
}

await run("settings", page, async ({ page: shop, url }) => {
  const owner = await browser({ viewport: { width: 1400, height: 900 } });
  try {
    const app = await owner.context.newPage();
    await app.goto(ownerLink);
    await app.getByTestId("rows").waitFor({ timeout: 15000 });

    await app.goto(`${base}/app/settings/widget`);
    await app.getByTestId("appearance").waitFor({ timeout: 10000 });
    await app.getByTestId("brand-color").fill("#ffe14d");
    await app.getByTestId("brand-color").blur();
    await app.getByTestId("title").fill("Acme help");
    await app.getByTestId("greeting").fill("Bienvenue chez Acme !");
    await app.getByTestId("locale").selectOption("fr");
    await app.getByTestId("save-appearance").click();
    await app.getByTestId("saved").waitFor();
    step("the brand colour, title, greeting and language are saved in Settings > Widget");

    await shop.goto(url);
    const launcher = shop.getByTestId("halo-launcher");
    await launcher.waitFor({ timeout: 15000 });
    await shop.waitForFunction(() =>
      getComputedStyle(document.querySelector("halo-widget").shadowRoot.querySelector(".launcher")).backgroundColor === "rgb(255, 225, 77)",
      null, { timeout: 10000 });
    const look = await launcherStyle(shop);
    assert.equal(look.color, "rgb(28, 30, 33)", "dark text on a light brand colour");
    // Named in the workspace's language, by the loader (from the config) and then the app
    // (a hover starts it).
    await shop.waitForFunction(() =>
      document.querySelector("halo-widget").shadowRoot.querySelector(".launcher").getAttribute("aria-label") === "Ouvrir le chat d'assistance",
      null, { timeout: 10000 });
    await launcher.hover();
    await shop.waitForFunction(() => window.Halo.loaded === true, null, { timeout: 10000 });
    assert.equal(await launcher.getAttribute("aria-label"), "Ouvrir le chat d'assistance");
    await launcher.click();
    assert.equal(await shop.getByTestId("halo-title").innerText(), "Acme help");
    assert.equal(await shop.getByTestId("halo-greeting").innerText(), "Bienvenue chez Acme !");
    assert.equal(await shop.getByTestId("halo-input").getAttribute("placeholder"), "Posez une question…");
    step("the widget on the page uses them: colour with readable text, title, greeting, French strings");

    const answer = await ask(shop, "How long does shipping take?");
    const up = answer.getByTestId("halo-rate-up");
    assert.equal(await up.locator("svg").count(), 1, "the rating is an SVG icon");
    assert.doesNotMatch(await up.innerText(), /\p{Extended_Pictographic}/u, "no emoji glyph");
    assert.equal(await up.getAttribute("aria-label"), "Utile");
    const announced = await shop.getByTestId("halo-announce").textContent();
    assert.ok(announced.startsWith("Nouveau message: ") && announced.length > 20, announced);
    step("ratings are inline SVG with accessible names; the new answer is announced in an aria-live region");

    await shop.getByTestId("halo-input").focus();
    await shop.keyboard.press("Escape");
    await shop.getByTestId("halo-panel").waitFor({ state: "detached" });
    const focused = await shadow(shop, () => document.querySelector("halo-widget").shadowRoot.activeElement?.dataset.testid);
    assert.equal(focused, "halo-launcher");
    step("Esc closes the panel and focus returns to the launcher");

    const overridden = await owner.context.newPage();
    await overridden.goto(`${url}?brand=%230a7d3b`);
    await overridden.getByTestId("halo-launcher").waitFor({ timeout: 15000 });
    await overridden.waitForTimeout(300);
    const own = await launcherStyle(overridden);
    assert.deepEqual([own.background, own.color], ["rgb(10, 125, 59)", "rgb(255, 255, 255)"]);
    assert.ok(own.left < 100, `a left launcher, at x=${own.left}`);
    await overridden.close();
    step("a boot option on the page wins over the workspace's colour and side");

    const phone = await owner.context.newPage();
    await phone.setViewportSize({ width: 375, height: 700 });
    await phone.goto(url);
    await phone.getByTestId("halo-launcher").click();
    const box = await phone.getByTestId("halo-panel").boundingBox();
    assert.deepEqual([box.x, box.y, box.width, box.height], [0, 0, 375, 700]);
    assert.ok(await phone.getByTestId("halo-close").isVisible());
    await phone.close();
    step("on a small screen the panel opens full screen with its close button");

    await app.goto(`${base}/app/settings/data`);
    const describe = app.getByTestId("describe-plan");
    await describe.waitFor({ timeout: 10000 });
    await describe.fill("The customer's billing plan; pro can export to CSV");
    await describe.blur();
    await app.waitForTimeout(500);
    await shop.getByTestId("halo-launcher").click();
    await ask(shop, "Can I export my data?");
    const session = await shop.evaluate((org) => localStorage.getItem(`halo:${org}:session`), orgId);
    await app.goto(`${base}/app/live/${session}`);
    const saw = app.getByTestId("ai-saw").last();
    await saw.waitFor({ timeout: 10000 });
    assert.match(await saw.textContent(), /billing plan; pro can export to CSV/);
    step("a description written in Settings > Data is in what the AI saw");

    await app.goto(`${base}/app/settings/agents`);
    await app.getByTestId("agent-row").first().getByRole("button").click();
    await app.getByTestId("playground-contact").fill("settings-customer");
    await app.getByTestId("playground-message").fill("How long does shipping take?");
    await app.getByTestId("playground").getByRole("button", { name: "Send" }).click();
    await app.getByTestId("playground-answer").waitFor({ timeout: 15000 });
    assert.match(await app.getByTestId("playground-answer").innerText(), /3 to 5 working days/);
    assert.match(await app.getByTestId("playground-trace").textContent(), /Shipping times/);
    step("the agents' playground answers as a chosen contact and shows what the AI saw");

    await app.goto(`${base}/app/settings/install`);
    await app.getByTestId("rotate").waitFor({ timeout: 10000 });
    await app.getByTestId("rotate-kind").selectOption("widget");
    await app.getByTestId("rotate-grace").selectOption("3600");
    await app.getByTestId("rotate").getByRole("button", { name: "Rotate" }).click();
    const newKey = await app.getByTestId("new-key").inputValue();
    assert.match(newKey, /^ab_live_[0-9a-f]{64}$/);
    await app.getByText(/replaced; works until/).waitFor();
    await app.waitForFunction((k) => document.querySelector('[data-testid="snippet"]')?.value.includes(k), newKey, { timeout: 10000 });
    const old = await ask(shop, "Is the old key still working?");
    assert.equal(await old.getAttribute("data-role"), "ai", "the old key works during the grace period");
    const fresh = await owner.context.newPage();
    await fresh.goto(`${url}?key=${newKey}`);
    await fresh.getByTestId("halo-launcher").click();
    assert.equal(await (await ask(fresh, "And the new one?")).getAttribute("data-role"), "ai");
    step("after a rotation with an hour's grace, pages with the old key and with the new one both work");

    await app.getByTestId("rotate-grace").selectOption("0");
    await app.getByTestId("rotate").getByRole("button", { name: "Rotate" }).click();
    await app.waitForFunction((k) => document.querySelector('[data-testid="new-key"]')?.value !== k, newKey);
    const refused = await ask(shop, "And now?");
    assert.equal(await refused.getAttribute("data-role"), "notice", "the old key stops when its grace period ends");
    step("when the grace period ends (a rotation that stops the old keys now), the old key stops");
  } finally {
    await owner.close();
  }
});
