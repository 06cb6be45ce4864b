// The app's ES module entry (content-hashed, imported by the loader). Importing it fetches
// and compiles the wasm next to this file; the app starts only when the loader calls `run`,
// with the origin this file was served from (the API's origin unless boot() names another).
import init, { start } from "../target/widget-bindgen/halo_widget.js";

const ready = init({ module_or_path: new URL(__HALO_WASM__, import.meta.url) });
let started;
export const run = () => (started ||= ready.then(() => start(new URL(import.meta.url).origin)));
