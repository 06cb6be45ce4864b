// The app's ES module entry (content-hashed, imported by the loader). Importing it fetches
// and compiles the wasm next to this file; the app starts only when the loader calls `run`,
// with the origin this file was served from (the API's origin unless boot() names another).
// A wasm that failed to arrive is asked for again by the next `run`.
import init, { start } from "../target/widget-bindgen/halo_widget.js";

const load = () => init({ module_or_path: new URL(__HALO_WASM__, import.meta.url) });
let ready = load();
let started;
export const run = () =>
  (started ||= ready
    .catch(() => (ready = load()))
    .then(() => start(new URL(import.meta.url).origin))
    .catch((e) => {
      started = undefined;
      throw e;
    }));
