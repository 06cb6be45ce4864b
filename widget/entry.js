// The app's ES module entry (content-hashed, loaded by the loader): loads the wasm next to
// this file and hands it the origin it was served from, which is the API's origin unless
// boot() names another.
import init, { start } from "../target/widget-bindgen/halo_widget.js";

init({ module_or_path: new URL(__HALO_WASM__, import.meta.url) }).then(() =>
  start(new URL(import.meta.url).origin),
);
