// The snippet's own test: runs the minified snippet (as the build ships it) in a sandbox with
// a stand-in window and document, and checks the contract the widget relies on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const MINIFIED = new URL("../dist/widget/snippet.min.js", import.meta.url);
const WIDGET_URL = "https://halo.example/widget/halo.js";

function page() {
  const injected = [];
  const head = { appendChild: (el) => injected.push(el) };
  const document = { head, body: head, createElement: (tag) => ({ tagName: tag }) };
  const window = {};
  const context = vm.createContext({ window, document });
  const source = readFileSync(MINIFIED, "utf8").replace("__HALO_WIDGET_URL__", WIDGET_URL);
  return { window, injected, run: () => vm.runInContext(source, context) };
}

test("the shipped snippet stays under 1 KB minified", () => {
  assert.ok(readFileSync(MINIFIED).length < 1024);
});

test("the snippet injects the widget once as an async module", () => {
  const p = page();
  p.run();
  assert.equal(p.injected.length, 1);
  assert.deepEqual(
    { tag: p.injected[0].tagName, type: p.injected[0].type, async: p.injected[0].async, src: p.injected[0].src },
    { tag: "script", type: "module", async: true, src: WIDGET_URL },
  );
});

test("calls made before the widget loads are queued in order", () => {
  const p = page();
  p.run();
  p.window.Halo("boot", { orgId: "o", widgetKey: "k" });
  p.window.Halo("identify", { user_id: "u1" });
  p.window.Halo("open");
  assert.deepEqual(
    // JSON round trip: the queue lives in the sandbox's realm, with its own Array prototype.
    JSON.parse(JSON.stringify(p.window.Halo.q.map((args) => Array.from(args)))),
    [["boot", { orgId: "o", widgetKey: "k" }], ["identify", { user_id: "u1" }], ["open"]],
  );
});

test("including the snippet twice neither injects twice nor drops queued calls", () => {
  const p = page();
  p.run();
  p.window.Halo("boot", { orgId: "o", widgetKey: "k" });
  const first = p.window.Halo;
  p.run();
  assert.equal(p.injected.length, 1);
  assert.equal(p.window.Halo, first);
  assert.equal(p.window.Halo.q.length, 1);
});
