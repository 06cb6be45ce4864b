//! The widget's files as the Worker serves them: the loader (what the snippet loads) with a
//! short cache, the app it names with a content hash and a year's immutable cache, and all
//! of them readable from any site (CORS).

use halo_tests::{app, send};

#[test]
fn the_loader_is_cached_briefly_and_the_hashed_app_for_a_year() {
    let app = app();
    let loader = send(app, "GET", "/widget/halo.js", None, &[], None);
    assert_eq!(loader.status, 200);
    assert_eq!(loader.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(loader.header("access-control-allow-origin"), Some("*"));
    let text = std::fs::read_to_string(halo_tests::root().join("dist/widget/halo.js")).unwrap();
    let start = text.find("./b/app.").expect("the loader names the app");
    let name = &text[start + 2..start + text[start..].find(".js").unwrap() + 3];
    assert!(name.len() > "b/app..js".len(), "a hash in the name: {name}");
    let app_js = send(app, "GET", &format!("/widget/{name}"), None, &[], None);
    assert_eq!(app_js.status, 200, "{name}");
    assert_eq!(
        app_js.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(app_js.header("access-control-allow-origin"), Some("*"));
    let wasm = std::fs::read_dir(halo_tests::root().join("dist/widget/b"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".wasm"))
        .expect("the app's wasm");
    let wasm_file = send(app, "GET", &format!("/widget/b/{wasm}"), None, &[], None);
    assert_eq!(wasm_file.status, 200);
    assert_eq!(
        wasm_file.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(wasm_file.header("content-type"), Some("application/wasm"));
}
