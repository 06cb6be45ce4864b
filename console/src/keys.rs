//! Keyboard shortcuts: j/k next and previous, r reply, n note, e resolve, s snooze, a assign,
//! / search, ? the list of shortcuts. None of them fire while the teammate types in a field.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::KeyboardEvent;

/// What a shortcut asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Next,
    Previous,
    Reply,
    Note,
    Resolve,
    Snooze,
    Assign,
    Search,
    Help,
    /// Escape: leave the field, close the help.
    Escape,
}

/// The shortcuts, as the help lists them.
pub const SHORTCUTS: [(&str, &str); 9] = [
    ("j / k", "next / previous in the list"),
    ("r", "reply"),
    ("n", "internal note (tickets)"),
    ("e", "resolve the ticket"),
    ("s", "snooze the ticket until tomorrow 9:00"),
    ("a", "assign"),
    ("/", "search"),
    ("?", "show or hide this list"),
    ("Esc", "leave a field, close this list"),
];

/// The command a key press is, unless the teammate is typing in a field (where only Escape
/// counts) or holds a modifier.
pub fn command(key: &str, in_field: bool, modified: bool) -> Option<Cmd> {
    if modified {
        return None;
    }
    if in_field {
        return (key == "Escape").then_some(Cmd::Escape);
    }
    Some(match key {
        "j" => Cmd::Next,
        "k" => Cmd::Previous,
        "r" => Cmd::Reply,
        "n" => Cmd::Note,
        "e" => Cmd::Resolve,
        "s" => Cmd::Snooze,
        "a" => Cmd::Assign,
        "/" => Cmd::Search,
        "?" => Cmd::Help,
        "Escape" => Cmd::Escape,
        _ => return None,
    })
}

/// The latest command and a counter, so the same key twice is two commands.
#[derive(Clone, Copy)]
pub struct Keys(pub RwSignal<(u32, Option<Cmd>)>);

impl Keys {
    /// Inside an effect: the command given since the effect last ran, each command once. A
    /// part that mounts later does not act on a key pressed before it existed.
    pub fn fresh(&self, seen: StoredValue<u32>) -> Option<Cmd> {
        let (n, cmd) = self.0.get();
        if n <= seen.get_value() {
            return None;
        }
        seen.set_value(n);
        cmd
    }

    /// A marker of the commands given so far, for [`Keys::fresh`].
    pub fn mark(&self) -> StoredValue<u32> {
        StoredValue::new(self.0.get_untracked().0)
    }
}

/// Listens to the window's key presses, once for the console's life (the app calls it at
/// its root); pages read the commands from the context.
pub fn listen() -> Keys {
    let keys = Keys(RwSignal::new((0, None)));
    let handler = Closure::<dyn Fn(KeyboardEvent)>::new(move |e: KeyboardEvent| {
        let in_field = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.has_attribute("contenteditable")
            });
        let modified = e.ctrl_key() || e.meta_key() || e.alt_key();
        if let Some(cmd) = command(&e.key(), in_field, modified) {
            if cmd != Cmd::Escape || !in_field {
                e.prevent_default();
            }
            if cmd == Cmd::Escape && in_field {
                if let Some(el) = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.blur();
                }
            }
            keys.0.update(|(n, c)| {
                *n += 1;
                *c = Some(cmd);
            });
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
    }
    handler.forget();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_do_nothing_while_typing_except_escape() {
        assert_eq!(command("j", false, false), Some(Cmd::Next));
        assert_eq!(command("j", true, false), None);
        assert_eq!(command("r", true, false), None);
        assert_eq!(command("Escape", true, false), Some(Cmd::Escape));
        assert_eq!(command("k", false, true), None, "ctrl-k is the browser's");
        assert_eq!(command("x", false, false), None);
        assert_eq!(command("?", false, false), Some(Cmd::Help));
    }
}
