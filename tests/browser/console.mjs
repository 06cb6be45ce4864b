// Browser test of the console, as a teammate works in it: the one-time sign-in link opens the
// inbox; a customer (another browser) writes in the widget and the conversation appears in
// the live feed without a reload; the teammate takes over and replies, and the widget shows
// it; j/k move between tickets, e resolves one, another is snoozed until a chosen time;
// search finds a ticket by a word in its thread; a second teammate opens the same ticket and
// each sees the other, and the other's typing; the owner invites a third, who joins with the
// link; an article added in Settings > Knowledge is what the search tester finds. Ends with
// a screenshot of the inbox.
//
// Usage: node tests/browser/console.mjs <api base> <org id> <widget key> <owner link> <agent link> <screenshot>
import assert from "node:assert/strict";
import { browser, hostHtml, run, step } from "./runner.mjs";

const [base, orgId, widgetKey, ownerLink, agentLink, shot] = process.argv.slice(2);
const viewport = { width: 1400, height: 860 };

const host = hostHtml(base, {
  title: "Customer app",
  body: "<h1>Customer app</h1>",
  script: `Halo("boot", { orgId: ${JSON.stringify(orgId)}, widgetKey: ${JSON.stringify(widgetKey)} });
Halo("identify", { user_id: "console-customer", name: "Cleo" });`,
});

/** The API answer for `path`, read with the page's own session cookie. */
const api = (page, path) => page.evaluate(async (p) => (await fetch(p)).json(), path);

await run("console", () => host, async ({ page: customer, url, errors }) => {
  const owner = await browser({ viewport });
  const agent = await browser({ viewport });
  try {
    const inbox = await owner.context.newPage();
    const inboxErrors = [];
    inbox.on("pageerror", (e) => inboxErrors.push(e.message));
    inbox.on("console", (m) => m.text().includes("panicked") && inboxErrors.push(m.text()));
    await inbox.goto(ownerLink);
    await inbox.getByTestId("rows").waitFor({ timeout: 15000 });
    await inbox.waitForURL(/\/app\/live$/);
    assert.match(await inbox.getByTestId("nav").innerText(), /Olga/);
    step("the sign-in link opens the inbox, signed in");

    await customer.goto(url);
    await customer.getByTestId("halo-launcher").click();
    await customer.getByTestId("halo-input").fill("My export keeps failing with error 42");
    await customer.getByTestId("halo-send").click();
    await customer.locator('[data-testid="halo-message"][data-role="ai"]').first().waitFor({ timeout: 15000 });
    const row = inbox.locator(".row", { hasText: "console-customer" });
    await row.waitFor({ timeout: 10000 });
    step("the customer's conversation appears in the live feed without a reload");

    await row.click();
    const transcript = inbox.getByTestId("transcript");
    await transcript.getByText("My export keeps failing with error 42").waitFor();
    await inbox.getByTestId("takeover").click();
    await inbox.getByTestId("handback").waitFor();
    await inbox.getByTestId("composer").fill("Hi Cleo, Olga here: I am looking into it.");
    await inbox.getByTestId("send").click();
    const reply = customer.locator('[data-testid="halo-message"][data-role="teammate"]');
    await reply.waitFor({ timeout: 10000 });
    assert.match(await reply.innerText(), /Olga here/);
    step("take over and reply: the widget shows the teammate's reply");

    await inbox.getByTestId("nav").getByText("All open").click();
    await inbox.waitForURL(/\/app\/tickets\/open$/);
    await inbox.locator(".row").nth(2).waitFor();
    const openedId = () => inbox.url().split("/").pop();
    await inbox.keyboard.press("j");
    await inbox.waitForURL(/\/app\/tickets\/open\/[^/]+$/);
    const first = openedId();
    await inbox.keyboard.press("j");
    await inbox.waitForURL((u) => !u.toString().endsWith(first));
    const second = openedId();
    await inbox.keyboard.press("k");
    await inbox.waitForURL((u) => u.toString().endsWith(first));
    assert.notEqual(first, second);
    assert.equal(await inbox.locator(".row.selected").getAttribute("data-id"), first);
    step("j and k move between the rows");

    await inbox.getByTestId("ticket").waitFor();
    await inbox.keyboard.press("e");
    await inbox.waitForFunction(
      async (id) => (await (await fetch(`/api/inbox/tickets/${id}`)).json()).ticket.status === "resolved",
      first, { timeout: 10000 });
    step("e resolves the open ticket");

    await inbox.locator(`.row[data-id="${second}"]`).click();
    await inbox.waitForURL((u) => u.toString().endsWith(second));
    const tomorrow = new Date(Date.now() + 26 * 3600 * 1000);
    const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    await inbox.getByTestId("snooze-at").fill(local);
    await inbox.getByTestId("snooze").click();
    await inbox.waitForFunction(
      async (id) => (await (await fetch(`/api/inbox/tickets/${id}`)).json()).ticket.status === "snoozed",
      second, { timeout: 10000 });
    const snoozed = (await api(inbox, `/api/inbox/tickets/${second}`)).ticket;
    assert.ok(Math.abs(snoozed.snoozed_until - new Date(local).getTime()) < 60000, "snoozed until the chosen time");
    step("a ticket is snoozed until a chosen time");

    await inbox.getByTestId("search").fill("rotterd");
    const hit = inbox.getByTestId("hits").getByText("Parcel stuck");
    await hit.waitFor({ timeout: 5000 });
    await hit.click();
    await inbox.waitForURL(/\/app\/tickets\/open\/[^/]+$/);
    assert.equal(await inbox.getByTestId("subject").inputValue(), "Parcel stuck");
    step("search finds a ticket by a word in its thread");

    const other = await agent.context.newPage();
    await other.goto(agentLink);
    await other.getByTestId("rows").waitFor({ timeout: 15000 });
    await other.goto(inbox.url());
    await other.getByTestId("ticket").waitFor();
    await inbox.getByTestId("others").getByText("Arun is viewing").waitFor({ timeout: 10000 });
    await other.getByTestId("others").getByText("Olga is viewing").waitFor({ timeout: 10000 });
    await other.getByTestId("composer").pressSequentially("On it too");
    await inbox.getByTestId("others").getByText("Arun is replying").waitFor({ timeout: 10000 });
    step("two teammates on one ticket see each other, and each other's typing");

    await inbox.getByTestId("nav").getByText("Team").click();
    await inbox.getByTestId("invite-email").fill("nadia@example.com");
    await inbox.getByTestId("team").getByRole("button", { name: "Invite" }).click();
    const inviteUrl = await inbox.getByTestId("invite-url").inputValue();
    assert.match(inviteUrl, /\/app\/invite\/tl_[0-9a-f]{64}$/);
    const newcomer = await browser({ viewport });
    try {
      const joining = await newcomer.context.newPage();
      await joining.goto(inviteUrl);
      const form = joining.getByTestId("invite");
      await form.getByLabel("Your name").fill("Nadia");
      await form.getByLabel(/Choose a password/).fill("a long enough password");
      await form.getByRole("button", { name: "Join" }).click();
      await joining.getByTestId("rows").waitFor({ timeout: 10000 });
      assert.match(await joining.getByTestId("nav").innerText(), /Nadia/);
    } finally {
      await newcomer.close();
    }
    // The team page shows the name she chose once it is read again.
    await inbox.reload();
    await inbox.getByTestId("team").getByText("Nadia", { exact: true }).waitFor({ timeout: 5000 });
    step("an owner invites a teammate, who joins with the link and a password");

    await inbox.getByTestId("nav").getByText("Knowledge").click();
    const add = inbox.getByTestId("add-source");
    await add.getByPlaceholder("Title").fill("Returns policy");
    await add.getByPlaceholder(/The article/).fill("# Returns policy\n\nYou can send any order back within 30 days for a full refund.");
    await add.getByRole("button", { name: "Add" }).click();
    await inbox.getByTestId("sources").getByText("Returns policy").waitFor({ timeout: 10000 });
    await inbox.getByTestId("tester-q").fill("can I send my order back?");
    await inbox.getByTestId("knowledge").getByRole("button", { name: "Search" }).click();
    await inbox.getByTestId("tester-hits").locator("b", { hasText: "Returns policy" }).first().waitFor({ timeout: 10000 });
    step("an article added in Settings > Knowledge is what the search tester finds");

    await inbox.getByTestId("nav").getByText("Live feed").click();
    await inbox.locator(".row", { hasText: "console-customer" }).click();
    await inbox.getByTestId("transcript").getByText("Olga here").waitFor();
    await inbox.getByTestId("contact").locator("h3").waitFor();
    await inbox.screenshot({ path: shot });
    step(`a screenshot of the inbox is in ${shot}`);

    assert.deepEqual(inboxErrors, [], "the console threw no error");
    assert.deepEqual(errors, [], "the widget threw no error");
  } finally {
    await owner.close();
    await agent.close();
  }
}, { viewport: { width: 1000, height: 800 } });
