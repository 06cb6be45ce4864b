// The Worker's entry (wrangler.toml `main`): the Rust Worker as worker-build made it, plus one
// development aid. With the var HALO_DEBUG_D1 = "1", a response to a loopback request carries
// - `x-halo-d1-trips`: the D1 round trips it waited on one after another: the longest chain
//   of its D1 calls in which each starts after the one before it ended (calls that overlap
//   count once; a batch is one call);
// - `x-halo-d1-calls`: every D1 call it made.
// A deployed Worker serves no loopback host, so setting the var there adds nothing to any
// response.
//
// The calls are the isolate's, cleared as each request starts: the figures are exact for
// requests sent one at a time, which is how `make bench` and the tests measure a chat turn.
import Worker from "./build/index.js";
export * from "./build/index.js";

/** `[start, end]` of each D1 call since the request started. */
let calls = [];
let patched = false;

function count(proto, name) {
  const call = proto[name];
  if (typeof call !== "function") return;
  proto[name] = async function (...args) {
    const span = [performance.now(), Infinity];
    calls.push(span);
    try {
      return await call.apply(this, args);
    } finally {
      span[1] = performance.now();
    }
  };
}

/** The longest chain of calls each starting after the previous one ended (earliest end first). */
function chain(spans) {
  let n = 0, end = -Infinity;
  for (const [s, e] of [...spans].sort((a, b) => a[1] - b[1])) {
    if (s >= end) {
      n++;
      end = e;
    }
  }
  return n;
}

const fetch = Worker.prototype.fetch;
Worker.prototype.fetch = async function (request) {
  const host = new URL(request.url).hostname;
  if (this.env.HALO_DEBUG_D1 !== "1" || (host !== "127.0.0.1" && host !== "localhost")) {
    return fetch.call(this, request);
  }
  if (!patched) {
    patched = true;
    const db = this.env.DB;
    for (const name of ["batch", "exec"]) count(Object.getPrototypeOf(db), name);
    for (const name of ["first", "all", "run", "raw"]) count(Object.getPrototypeOf(db.prepare("SELECT 1")), name);
  }
  calls = [];
  const response = await fetch.call(this, request);
  if (response.webSocket) return response;
  const counted = new Response(response.body, response);
  counted.headers.set("x-halo-d1-trips", String(chain(calls)));
  counted.headers.set("x-halo-d1-calls", String(calls.length));
  return counted;
};

export default Worker;
