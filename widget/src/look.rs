//! The widget's look: the workspace's appearance, from `GET /api/sdk/widget/config` and
//! remembered in localStorage so that a page load shows it at once, with the page's boot
//! options (`ui.brandColor`, `ui.position`, ...) over it.

use halo_shared::appearance::{field, parse_color, strings, text_color_on, Locale, DARK_TEXT};
use js_sys::{Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::state::{prop_str, Config, Look};

/// What the page's boot options say about the look; each wins over the workspace's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub brand: Option<String>,
    pub left: Option<bool>,
    pub title: Option<String>,
    pub greeting: Option<String>,
    pub locale: Option<Locale>,
    pub auto_open_unseen: Option<bool>,
}

impl Overrides {
    /// From the boot call's `ui` object.
    pub fn read(ui: &JsValue) -> Overrides {
        let get = |k: &str| Reflect::get(ui, &k.into()).unwrap_or(JsValue::UNDEFINED);
        Overrides {
            brand: prop_str(ui, "brandColor").and_then(|c| parse_color(&c)),
            left: prop_str(ui, "position").map(|p| p == "left"),
            title: prop_str(ui, "title"),
            greeting: prop_str(ui, "greeting"),
            locale: prop_str(ui, "locale").and_then(|l| Locale::parse(&l)),
            auto_open_unseen: get("autoOpenUnseen").as_bool(),
        }
    }
}

fn browser_languages() -> Vec<String> {
    let Some(nav) = web_sys::window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let list = nav.languages();
    let mut out: Vec<String> = list.iter().filter_map(|l| l.as_string()).collect();
    if out.is_empty() {
        out.extend(nav.language());
    }
    out
}

/// The look from the workspace's `appearance` object (or `undefined`) with `over` on top.
pub fn look_of(appearance: &JsValue, over: &Overrides) -> Look {
    let text = |k: &str| prop_str(appearance, k).filter(|s| !s.is_empty());
    let brand = over
        .brand
        .clone()
        .or_else(|| text(field::BRAND_COLOR).and_then(|c| parse_color(&c)))
        .unwrap_or_else(|| halo_shared::appearance::DEFAULT_BRAND.to_owned());
    let on_brand = text_color_on(&brand);
    let accent = if on_brand == DARK_TEXT {
        DARK_TEXT.to_owned()
    } else {
        brand.clone()
    };
    let locale = over
        .locale
        .or_else(|| text(field::LOCALE).and_then(|l| Locale::parse(&l)))
        .unwrap_or_default();
    let languages = browser_languages();
    let strings = strings(locale.resolve(languages.iter().map(String::as_str)));
    let auto_open = Reflect::get(appearance, &field::AUTO_OPEN_UNSEEN.into())
        .ok()
        .and_then(|v| v.as_bool());
    Look {
        on_brand,
        accent,
        left: over
            .left
            .unwrap_or_else(|| text(field::POSITION).as_deref() == Some("left")),
        title: over
            .title
            .clone()
            .or_else(|| text(field::TITLE))
            .unwrap_or_else(|| strings.title.to_owned()),
        greeting: over
            .greeting
            .clone()
            .or_else(|| text(field::GREETING))
            .unwrap_or_else(|| strings.greeting.to_owned()),
        team_name: text(field::TEAM_NAME),
        initials: text(field::AVATAR_INITIALS),
        strings,
        auto_open_unseen: over.auto_open_unseen.or(auto_open).unwrap_or(false),
        brand,
    }
}

fn storage_key(org_id: &str) -> String {
    format!("halo:{org_id}:look")
}

/// The appearance this browser last got for the workspace (`undefined` when none).
pub fn saved_appearance(org_id: &str) -> JsValue {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(&storage_key(org_id)).ok().flatten())
        .and_then(|t| JSON::parse(&t).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// Asks for the workspace's appearance (the browser's HTTP cache answers while it is fresh,
/// with no round trip), remembers it, and returns the look it makes (`None` when it could
/// not be read: the look stays as it is).
pub async fn refresh(config: Config, over: Overrides) -> Option<Look> {
    let url = format!(
        "{}/api/sdk/widget/config?key={}",
        config.api_base,
        js_sys::encode_uri_component(&config.widget_key)
    );
    let window = web_sys::window()?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(&url))
        .await
        .ok()?
        .unchecked_into();
    if !resp.ok() {
        return None;
    }
    let json = JsFuture::from(resp.json().ok()?).await.ok()?;
    let appearance = Reflect::get(&json, &field::APPEARANCE.into()).unwrap_or(JsValue::UNDEFINED);
    if let (Some(s), Ok(text)) = (
        window.local_storage().ok().flatten(),
        JSON::stringify(&appearance),
    ) {
        let _ = s.set_item(&storage_key(&config.org_id), &String::from(text));
        // What the loader draws the launcher with on the next page load, before the app is
        // here: the workspace's look (the page's boot options it applies itself).
        let plain = look_of(&appearance, &Overrides::default());
        let launcher = [
            plain.brand.as_str(),
            plain.on_brand,
            if plain.left { "1" } else { "0" },
            plain.strings.open_chat,
            plain.strings.unread,
        ]
        .join("\n");
        let _ = s.set_item(&format!("halo:{}:launcher", config.org_id), &launcher);
    }
    Some(look_of(&appearance, &over))
}
