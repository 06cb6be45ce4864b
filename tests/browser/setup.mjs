// Browser test of a new company's first session in the console, with no terminal: the owner
// opens their sign-in link and the setup wizard opens; they name the company, paste an
// article, crawl the help site (the progress reaches the end), set up the first agent, copy
// the snippet into their own page, send a message from it and watch the install check turn
// green, invite a teammate and finish. The wizard then stays closed, and the menu opens it.
//
// Usage: node tests/browser/setup.mjs <api base> <owner sign-in link>
import assert from "node:assert/strict";
import { browser, run, step } from "./runner.mjs";

const [base, ownerLink] = process.argv.slice(2);
const viewport = { width: 1400, height: 900 };

// The company's own site: a small help centre to crawl, and their app's page, where the
// snippet the owner copies from the console is pasted.
let pasted = "";
const help = {
  "/help/": `<html><head><title>Acme help</title></head><body><h1>Acme help</h1><p>Welcome.</p>
    <a href="/help/returns.html">Returns</a> <a href="/help/shipping.html">Shipping</a> <a href="/help/warranty.html">Warranty</a></body></html>`,
  "/help/returns.html": `<html><head><title>Returns</title></head><body><h1>Returns</h1><p>Return any item within 60 days for a full refund.</p></body></html>`,
  "/help/shipping.html": `<html><head><title>Shipping</title></head><body><h1>Shipping</h1><p>Parcels to Europe arrive in 3 to 5 working days.</p></body></html>`,
  "/help/warranty.html": `<html><head><title>Warranty</title></head><body><h1>Warranty</h1><p>Every kettle has a two-year warranty.</p></body></html>`,
};
const site = (path) =>
  help[path] ?? `<!doctype html><html><head><meta charset="utf-8"><title>Acme app</title></head><body><h1>Acme app</h1>${pasted}</body></html>`;

await run("setup", site, async ({ page: shop, url }) => {
  const owner = await browser({ viewport });
  try {
    const app = await owner.context.newPage();
    const errors = [];
    app.on("pageerror", (e) => errors.push(e.message));
    app.on("console", (m) => m.text().includes("panicked") && errors.push(m.text()));
    await app.goto(ownerLink);
    await app.getByTestId("setup").waitFor({ timeout: 15000 });
    await app.waitForURL(/\/app\/setup$/);
    const current = () => app.getByTestId("setup-step").getAttribute("data-step");
    assert.equal(await current(), "company");
    step("the owner's first sign-in opens the setup wizard at its first step");

    await app.getByTestId("company-name").fill("Acme Kettles");
    await app.getByTestId("setup-next").click();
    await app.locator('[data-testid="setup-step"][data-step="knowledge"]').waitFor();
    assert.equal(await app.getByTestId("step-company").getAttribute("data-state"), "done");
    step("company info is saved and the progress shows the step done");

    await app.getByTestId("add-source").locator("input").first().fill("Gift cards");
    await app.getByTestId("add-source").locator("textarea").fill("# Gift cards\n\nGift cards never expire and can be used online.");
    await app.getByTestId("add-source").getByRole("button", { name: "Add" }).click();
    await app.getByTestId("setup-sources").getByText("1 articles so far.").waitFor({ timeout: 10000 });
    step("an article pasted in markdown is added");

    await app.getByTestId("crawl-url").fill(`${url}help/`);
    await app.getByTestId("crawl").getByRole("button", { name: "Crawl" }).click();
    const progress = app.getByTestId("crawl-progress");
    await progress.waitFor({ timeout: 10000 });
    await app.locator('[data-testid="crawl-progress"][data-state="done"]').waitFor({ timeout: 30000 });
    const finished = await progress.innerText();
    assert.match(finished, /4 ingested · 0 queued · 0 failed · done/, finished);
    await app.getByTestId("setup-sources").getByText("5 articles so far.").waitFor({ timeout: 10000 });
    step(`the help site is crawled with live progress to the end (${finished.trim()})`);

    await app.getByTestId("setup-next").click();
    await app.locator('[data-testid="setup-step"][data-step="agent"]').waitFor();
    await app.getByTestId("agent-name").fill("Kettle helper");
    await app.getByTestId("agent-threshold").fill("0.2");
    await app.getByTestId("setup-next").click();
    await app.locator('[data-testid="setup-step"][data-step="install"]').waitFor();
    const agents = await app.evaluate(async () => (await (await fetch("/api/sdk/agents")).json()).agents);
    assert.equal(agents.find((a) => a.active).name, "Kettle helper");
    assert.equal(agents.find((a) => a.active).escalation_threshold, 0.2);
    step("the first agent is named and its escalation threshold set");

    const snippet = await app.getByTestId("snippet").inputValue();
    assert.match(snippet, /Halo\("boot", \{ orgId: "[0-9a-f-]{36}", widgetKey: "ab_live_[0-9a-f]{64}" \}\)/);
    assert.equal(await app.getByTestId("install-check").getAttribute("data-state"), "waiting");
    await app.getByTestId("snippet-copy").click();
    pasted = snippet;
    step("the snippet carries this workspace's org id and widget key, ready to copy");

    await shop.goto(url);
    await shop.getByTestId("halo-launcher").click();
    await shop.getByTestId("halo-input").fill("Do gift cards expire?");
    await shop.getByTestId("halo-send").click();
    const answer = shop.locator('[data-testid="halo-message"][data-role="ai"]').last();
    await answer.waitFor({ timeout: 15000 });
    assert.match(await answer.innerText(), /never expire/i);
    await app.locator('[data-testid="install-check"][data-state="ok"]').waitFor({ timeout: 15000 });
    assert.match(await app.getByTestId("install-check").innerText(), new RegExp(`from ${url.replace(/\/$/, "")}`));
    step("a message from the widget on the company's page turns the install check green");

    await app.getByTestId("setup-next").click();
    await app.locator('[data-testid="setup-step"][data-step="team"]').waitFor();
    await app.getByTestId("invite-email").fill("sam@acme.example");
    await app.locator("form.invite").getByRole("button", { name: "Invite" }).click();
    await app.getByTestId("invite-url").waitFor();
    await app.getByTestId("setup-finish").click();
    await app.waitForURL(/\/app\/live$/);
    step("a teammate is invited and the wizard finishes in the inbox");

    await app.goto(`${base}/app/`);
    await app.getByTestId("rows").waitFor({ timeout: 15000 });
    await app.waitForTimeout(500);
    assert.equal(await app.getByTestId("setup").count(), 0, "a finished wizard does not open again by itself");
    await app.getByTestId("nav").getByText("Set up Halo").click();
    await app.getByTestId("setup").waitFor();
    for (const s of ["company", "knowledge", "agent", "install", "team"]) {
      assert.equal(await app.getByTestId(`step-${s}`).getAttribute("data-state"), "done", s);
    }
    step("the menu opens the wizard again, every step done");
    assert.deepEqual(errors, [], "the console raised no errors");
  } finally {
    await owner.close();
  }
});
