// The widget's ES module entry: loads the wasm next to this file and hands it the origin it
// was served from, which is the API's origin unless boot() names another.
import init, { start } from "../target/widget-bindgen/halo_widget.js";

init({ module_or_path: new URL("halo_widget_bg.wasm", import.meta.url) }).then(() =>
  start(new URL(import.meta.url).origin),
);
