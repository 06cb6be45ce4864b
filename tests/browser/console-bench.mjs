// Console load benchmark: in a fresh Chromium profile each time, a teammate signs in (the
// sign-in API, which sets the session cookie in that profile), then opens the inbox; reports
// the median of the runs from navigation start to the first usable inbox (the view's rows
// and counts shown), and what was transferred. Figures only; nothing fails.
//
// Usage: node tests/browser/console-bench.mjs <api base> <email> <password> [runs]
import { browser } from "./runner.mjs";

const [base, email, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 9);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const usable = [], bytes = [];
for (let i = 0; i < runs; i++) {
  const { context, close } = await browser({ viewport: { width: 1400, height: 860 } });
  try {
    const signedIn = await context.request.post(`${base}/api/console/signin`, {
      data: { email, password }, headers: { origin: base },
    });
    if (!signedIn.ok()) throw new Error(`sign-in failed: ${signedIn.status()}`);
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
