//! How a workspace's widget looks and speaks: the brand colour (and the text colour that
//! reads on it), the launcher's side, the header title and greeting, the team's display name
//! and initials, the language of the widget's own strings, and whether unseen replies open
//! the panel. Stored per workspace, served by `GET /api/sdk/widget/config`, and overridden
//! by a boot option on the page.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::chat::{body_object, field_error as err, FieldError, InvalidField};

/// Longest header title, greeting or team name.
pub const MAX_TITLE_CHARS: usize = 60;
pub const MAX_GREETING_CHARS: usize = 280;
/// Avatar initials: one to three letters.
pub const MAX_INITIALS_CHARS: usize = 3;
/// The brand colour when the workspace has not chosen one.
pub const DEFAULT_BRAND: &str = "#2f5bea";

/// The wire names of the config the widget reads (it reads JS objects, not serde).
pub mod field {
    pub const APPEARANCE: &str = "appearance";
    pub const BRAND_COLOR: &str = "brand_color";
    pub const BRAND_TEXT_COLOR: &str = "brand_text_color";
    pub const LAUNCHER_LABELS: &str = "launcher_labels";
    pub const POSITION: &str = "position";
    pub const TITLE: &str = "title";
    pub const GREETING: &str = "greeting";
    pub const TEAM_NAME: &str = "team_name";
    pub const AVATAR_INITIALS: &str = "avatar_initials";
    pub const LOCALE: &str = "locale";
    pub const AUTO_OPEN_UNSEEN: &str = "auto_open_unseen";
}

/// Which bottom corner the launcher sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    #[default]
    Right,
    Left,
}

impl Position {
    pub fn parse(s: &str) -> Option<Position> {
        match s {
            "right" => Some(Position::Right),
            "left" => Some(Position::Left),
            _ => None,
        }
    }
}

/// The languages the widget's own strings come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// The visitor's browser language when the widget has it, else English.
    #[default]
    Auto,
    En,
    Fr,
    Es,
    De,
}

impl Locale {
    pub const ALLOWED: &'static str = "auto, en, fr, es, de";

    /// A language tag (`fr`, `fr-CA`, `DE`) or `auto`; `None` for anything else.
    pub fn parse(tag: &str) -> Option<Locale> {
        let lang = tag.split(['-', '_']).next().unwrap_or("");
        [Locale::Auto, Locale::En, Locale::Fr, Locale::Es, Locale::De]
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(lang))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Auto => "auto",
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::De => "de",
        }
    }

    /// The language to show: this one, or for `Auto` the first of the browser's languages
    /// the widget has, else English (the fallback for everything unknown).
    pub fn resolve<'a>(self, browser: impl IntoIterator<Item = &'a str>) -> Locale {
        match self {
            Locale::Auto => browser
                .into_iter()
                .filter_map(Locale::parse)
                .find(|l| *l != Locale::Auto)
                .unwrap_or(Locale::En),
            fixed => fixed,
        }
    }
}

/// A workspace's widget appearance, as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Appearance {
    /// `#rrggbb`, lower case.
    pub brand_color: String,
    pub position: Position,
    /// The panel header's title; `None`: the locale's "Support".
    pub title: Option<String>,
    /// The first thing the panel says; `None`: the locale's greeting.
    pub greeting: Option<String>,
    /// Who answers, as the visitor sees it ("Acme support").
    pub team_name: Option<String>,
    /// Shown in the header's avatar.
    pub avatar_initials: Option<String>,
    pub locale: Locale,
    /// Whether an unseen reply opens the panel (the boot option `ui.autoOpenUnseen` wins).
    pub auto_open_unseen: bool,
}

impl Default for Appearance {
    fn default() -> Self {
        Appearance {
            brand_color: DEFAULT_BRAND.into(),
            position: Position::Right,
            title: None,
            greeting: None,
            team_name: None,
            avatar_initials: None,
            locale: Locale::Auto,
            auto_open_unseen: false,
        }
    }
}

impl Appearance {
    /// The stored document (a column of JSON); anything unreadable is the default.
    pub fn from_stored(stored: Option<&str>) -> Appearance {
        stored
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// This appearance with the fields of a `PATCH` body's `appearance` object applied:
    /// present fields change, `null` resets a text to the default, absent ones stay.
    pub fn updated(&self, patch: &Value) -> Result<Appearance, FieldError> {
        let o = body_object(patch).map_err(|_| {
            err(
                field::APPEARANCE,
                InvalidField::WrongType {
                    expected: "an object",
                },
            )
        })?;
        let mut next = self.clone();
        for (key, v) in o {
            let name = format!("{}.{key}", field::APPEARANCE);
            match key.as_str() {
                field::BRAND_COLOR => {
                    next.brand_color = v.as_str().and_then(parse_color).ok_or_else(|| {
                        err(
                            &name,
                            InvalidField::Invalid("must be a colour like #2f5bea"),
                        )
                    })?
                }
                field::POSITION => {
                    next.position = v.as_str().and_then(Position::parse).ok_or_else(|| {
                        err(
                            &name,
                            InvalidField::NotOneOf {
                                allowed: "right, left",
                            },
                        )
                    })?
                }
                field::LOCALE => {
                    next.locale = v.as_str().and_then(Locale::parse).ok_or_else(|| {
                        err(
                            &name,
                            InvalidField::NotOneOf {
                                allowed: Locale::ALLOWED,
                            },
                        )
                    })?
                }
                field::AUTO_OPEN_UNSEEN => {
                    next.auto_open_unseen = v.as_bool().ok_or_else(|| {
                        err(
                            &name,
                            InvalidField::WrongType {
                                expected: "a boolean",
                            },
                        )
                    })?
                }
                field::TITLE => next.title = optional_text(&name, v, MAX_TITLE_CHARS)?,
                field::GREETING => next.greeting = optional_text(&name, v, MAX_GREETING_CHARS)?,
                field::TEAM_NAME => next.team_name = optional_text(&name, v, MAX_TITLE_CHARS)?,
                field::AVATAR_INITIALS => {
                    next.avatar_initials = optional_text(&name, v, MAX_INITIALS_CHARS)?
                }
                _ => return Err(err(&name, InvalidField::Invalid("is not a setting"))),
            }
        }
        Ok(next)
    }

    /// The text colour that reads on the brand colour: white, or near-black on a light one.
    pub fn brand_text_color(&self) -> &'static str {
        text_color_on(&self.brand_color)
    }

    /// What the widget's config endpoint serves.
    pub fn to_public(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        v[field::BRAND_TEXT_COLOR] = Value::from(self.brand_text_color());
        // The launcher's and its unread dot's names in each language, for the loader, which
        // draws the launcher before the app (and its strings) have loaded.
        let names = |l: Locale| json!([strings(l).open_chat, strings(l).unread]);
        v[field::LAUNCHER_LABELS] = json!({
            "en": names(Locale::En), "fr": names(Locale::Fr), "es": names(Locale::Es), "de": names(Locale::De),
        });
        v
    }
}

fn optional_text(field: &str, v: &Value, max: usize) -> Result<Option<String>, FieldError> {
    if v.is_null() {
        return Ok(None);
    }
    let s = v.as_str().ok_or_else(|| {
        err(
            field,
            InvalidField::WrongType {
                expected: "a string or null",
            },
        )
    })?;
    let s = s.trim();
    let len = s.chars().count();
    if len > max {
        return Err(err(field, InvalidField::TooLong { max, len }));
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

/// `#rgb` or `#rrggbb` (any case) as `#rrggbb` in lower case.
pub fn parse_color(s: &str) -> Option<String> {
    let hex = s.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let full: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return None,
    };
    Some(format!("#{}", full.to_ascii_lowercase()))
}

/// WCAG relative luminance of `#rrggbb` (for tests and reports; the widget decides with
/// [`text_color_on`], which needs no floating point).
fn luminance(color: &str) -> Option<f64> {
    let hex = color.strip_prefix('#')?;
    let channel = |i: usize| -> Option<f64> {
        let c = f64::from(u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()?) / 255.0;
        Some(if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        })
    };
    Some(0.2126 * channel(0)? + 0.7152 * channel(2)? + 0.0722 * channel(4)?)
}

/// WCAG contrast ratio between two `#rrggbb` colours (1 to 21).
pub fn contrast(a: &str, b: &str) -> f64 {
    let (Some(la), Some(lb)) = (luminance(a), luminance(b)) else {
        return 1.0;
    };
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The dark text the widget uses on light brand colours.
pub const DARK_TEXT: &str = "#1c1e21";

/// sRGB's linear light, times a million, at every 16th channel value (the last is 255).
const LINEAR: [u64; 17] = [
    0, 5182, 14444, 29557, 51269, 80220, 116971, 162029, 215861, 278894, 351533, 434154, 527115,
    630757, 745404, 871367, 1_000_000,
];

/// A channel's linear light, times a million, interpolated in [`LINEAR`].
fn linear(c: u64) -> u64 {
    let i = (c / 16) as usize;
    if i >= 16 {
        return LINEAR[16];
    }
    let span = if i == 15 { 15 } else { 16 };
    LINEAR[i] + (LINEAR[i + 1] - LINEAR[i]) * (c - 16 * i as u64) / span
}

/// White text on the brand colour, unless dark text reads better on it: WCAG's choice,
/// made in integers so that the widget carries no floating-point maths. Both texts contrast
/// equally at a luminance of 0.2069; below it white reads better.
pub fn text_color_on(brand: &str) -> &'static str {
    let Some(hex) = brand.strip_prefix('#').filter(|h| h.len() == 6) else {
        return "#ffffff";
    };
    let channel = |i: usize| {
        linear(u64::from(
            u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0),
        ))
    };
    let weighted = 2126 * channel(0) + 7152 * channel(2) + 722 * channel(4);
    if weighted <= 2_068_947_000 {
        "#ffffff"
    } else {
        DARK_TEXT
    }
}

/// The widget's own words in one language.
#[derive(Debug, PartialEq)]
pub struct Strings {
    pub title: &'static str,
    pub greeting: &'static str,
    pub open_chat: &'static str,
    pub close_chat: &'static str,
    pub close: &'static str,
    pub dialog: &'static str,
    pub unread: &'static str,
    pub message: &'static str,
    pub placeholder: &'static str,
    pub send: &'static str,
    pub sources: &'static str,
    pub helpful: &'static str,
    pub not_helpful: &'static str,
    pub talk_to_person: &'static str,
    pub typing: &'static str,
    pub new_message: &'static str,
    /// Shown when the visitor is rate limited; `{n}` is the seconds to wait.
    pub too_fast: &'static str,
}

const EN: Strings = Strings {
    title: "Support",
    greeting: "Hi! Ask us anything: we usually answer right away.",
    open_chat: "Open support chat",
    close_chat: "Close support chat",
    close: "Close",
    dialog: "Support chat",
    unread: "Unread reply",
    message: "Message",
    placeholder: "Ask a question…",
    send: "Send",
    sources: "Sources: ",
    helpful: "Helpful",
    not_helpful: "Not helpful",
    talk_to_person: "Talk to a person",
    typing: "Support is typing",
    new_message: "New message",
    too_fast: "You're sending messages quickly, try again in {n} s.",
};

const FR: Strings = Strings {
    title: "Assistance",
    greeting: "Bonjour ! Posez-nous vos questions : nous répondons en général tout de suite.",
    open_chat: "Ouvrir le chat d'assistance",
    close_chat: "Fermer le chat d'assistance",
    close: "Fermer",
    dialog: "Chat d'assistance",
    unread: "Réponse non lue",
    message: "Message",
    placeholder: "Posez une question…",
    send: "Envoyer",
    sources: "Sources : ",
    helpful: "Utile",
    not_helpful: "Pas utile",
    talk_to_person: "Parler à quelqu'un",
    typing: "L'assistance écrit",
    new_message: "Nouveau message",
    too_fast: "Vous envoyez des messages très vite : réessayez dans {n} s.",
};

const ES: Strings = Strings {
    title: "Soporte",
    greeting: "¡Hola! Pregúntanos lo que quieras: solemos responder enseguida.",
    open_chat: "Abrir el chat de soporte",
    close_chat: "Cerrar el chat de soporte",
    close: "Cerrar",
    dialog: "Chat de soporte",
    unread: "Respuesta sin leer",
    message: "Mensaje",
    placeholder: "Haz una pregunta…",
    send: "Enviar",
    sources: "Fuentes: ",
    helpful: "Útil",
    not_helpful: "No es útil",
    talk_to_person: "Hablar con una persona",
    typing: "Soporte está escribiendo",
    new_message: "Mensaje nuevo",
    too_fast: "Estás enviando mensajes muy rápido: inténtalo de nuevo en {n} s.",
};

const DE: Strings = Strings {
    title: "Support",
    greeting: "Hallo! Fragen Sie uns alles: Wir antworten meist sofort.",
    open_chat: "Support-Chat öffnen",
    close_chat: "Support-Chat schließen",
    close: "Schließen",
    dialog: "Support-Chat",
    unread: "Ungelesene Antwort",
    message: "Nachricht",
    placeholder: "Stellen Sie eine Frage…",
    send: "Senden",
    sources: "Quellen: ",
    helpful: "Hilfreich",
    not_helpful: "Nicht hilfreich",
    talk_to_person: "Mit einem Menschen sprechen",
    typing: "Der Support schreibt",
    new_message: "Neue Nachricht",
    too_fast: "Sie senden sehr schnell Nachrichten: Versuchen Sie es in {n} s erneut.",
};

/// The widget's strings in `locale` (English for `Auto`: resolve it first).
pub fn strings(locale: Locale) -> &'static Strings {
    match locale {
        Locale::Fr => &FR,
        Locale::Es => &ES,
        Locale::De => &DE,
        Locale::En | Locale::Auto => &EN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_changes_only_the_fields_it_names() {
        let a = Appearance::default()
            .updated(&json!({ "brand_color": "#FA0", "greeting": "  Hello there  " }))
            .unwrap();
        assert_eq!(a.brand_color, "#ffaa00");
        assert_eq!(a.greeting.as_deref(), Some("Hello there"));
        assert_eq!(a.position, Position::Right);
        let b = a
            .updated(&json!({ "greeting": null, "position": "left" }))
            .unwrap();
        assert_eq!((b.greeting, b.position), (None, Position::Left));
        assert_eq!(b.brand_color, "#ffaa00");
    }

    #[test]
    fn bad_values_are_refused_with_the_field_named() {
        let cases = [
            (json!({ "brand_color": "blue" }), "appearance.brand_color"),
            (json!({ "position": "top" }), "appearance.position"),
            (json!({ "locale": "klingon" }), "appearance.locale"),
            (
                json!({ "auto_open_unseen": "yes" }),
                "appearance.auto_open_unseen",
            ),
            (
                json!({ "avatar_initials": "ABCD" }),
                "appearance.avatar_initials",
            ),
            (json!({ "font": "Comic Sans" }), "appearance.font"),
        ];
        for (patch, field) in cases {
            let e = Appearance::default().updated(&patch).unwrap_err();
            assert_eq!(e.field, field, "{patch}");
        }
        assert!(Appearance::default().updated(&json!("red")).is_err());
    }

    #[test]
    fn text_on_a_light_brand_colour_is_dark_and_on_a_dark_one_white() {
        assert_eq!(text_color_on("#2f5bea"), "#ffffff");
        assert_eq!(text_color_on("#000000"), "#ffffff");
        assert_eq!(text_color_on("#ffe14d"), DARK_TEXT);
        assert_eq!(text_color_on("#ffffff"), DARK_TEXT);
        // Over a grid of colours, the choice is WCAG's or within 3% of its contrast.
        for r in (0..=255).step_by(17) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(17) {
                    let c = format!("#{r:02x}{g:02x}{b:02x}");
                    let best = contrast(&c, "#ffffff").max(contrast(&c, DARK_TEXT));
                    let chosen = contrast(&c, text_color_on(&c));
                    assert!(chosen >= best * 0.97, "{c}: {chosen:.2} vs {best:.2}");
                }
            }
        }
    }

    #[test]
    fn the_locale_follows_the_browser_with_english_as_the_fallback() {
        assert_eq!(Locale::Auto.resolve(["de-AT", "en"]), Locale::De);
        assert_eq!(Locale::Auto.resolve(["pt-BR", "es"]), Locale::Es);
        assert_eq!(Locale::Auto.resolve(["ja"]), Locale::En);
        assert_eq!(Locale::Fr.resolve(["de"]), Locale::Fr);
        assert_eq!(strings(Locale::Es).send, "Enviar");
        assert_eq!(strings(Locale::Auto).send, "Send");
    }

    #[test]
    fn the_stored_document_reads_back_and_garbage_is_the_default() {
        let a = Appearance::default()
            .updated(&json!({ "title": "Acme help", "locale": "fr" }))
            .unwrap();
        let stored = serde_json::to_string(&a).unwrap();
        assert_eq!(Appearance::from_stored(Some(&stored)), a);
        assert_eq!(
            Appearance::from_stored(Some("not json")),
            Appearance::default()
        );
        assert_eq!(a.to_public()["brand_text_color"], "#ffffff");
        assert_eq!(
            a.to_public()["launcher_labels"]["fr"],
            serde_json::json!([FR.open_chat, FR.unread])
        );
    }
}
