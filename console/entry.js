// The console's ES module entry: loads the wasm next to this file and starts the app.
import init, { start } from "../target/console-bindgen/halo_console.js";

init({ module_or_path: new URL("halo_console_bg.wasm", import.meta.url) }).then(() => start());
