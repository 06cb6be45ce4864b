// Console load benchmark: with a signed-in teammate's session cookie, opens the inbox in a
// fresh Chromium profile each time and reports the median of the runs: from navigation start
// to the first usable inbox (the view's rows and counts shown), and what was transferred.
// Figures only; nothing fails.
//
// Usage: node tests/browser/console-bench.mjs <api base> <session cookie (name=value)> [runs]
import { browser } from "./runner.mjs";

const [base, cookie, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 9);
const [name, value] = cookie.split(/=(.*)/s);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const usable = [], bytes = [];
for (let i = 0; i < runs; i++) {
  const { context, close } = await browser({ viewport: { width: 1400, height: 860 } });
  try {
    await context.addCookies([{ name, value, url: base, httpOnly: true, secure: true, sameSite: "Lax" }]);
    const page = await context.newPage();
    await page.goto(`${base}/app/tickets/open`);
    await page.locator(".row").first().waitFor({ timeout: 30000 });
    await page.waitForFunction(() => [...document.querySelectorAll(".nav .count")].some((c) => c.textContent !== "0"));
    usable.push(await page.evaluate(() => performance.now()));
    bytes.push(await page.evaluate(() => performance.getEntriesByType("resource")
      .concat(performance.getEntriesByType("navigation"))
      .reduce((n, e) => n + (e.encodedBodySize || 0), 0)));
  } finally {
    await close();
  }
}
console.log(`console: first usable inbox ${median(usable).toFixed(0)} ms after navigation start (median of ${runs} fresh profiles, loopback), ${(median(bytes) / 1024).toFixed(1)} KiB of response bodies`);
