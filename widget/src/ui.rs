//! The visible widget: one component per region (launcher, panel header, message list,
//! composer), mounted inside an open Shadow DOM on a host element of its own.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use halo_shared::chat::MAX_MESSAGE_CHARS;

use crate::actions;
use crate::state::{Citation, Role, Ui};
use halo_shared::markdown::{self, Block, Span};

/// Styles live in the shadow root. `:host` rules are `!important` because, for important
/// declarations, the shadow tree's win over the page's: hostile page CSS cannot hide, resize
/// or restyle the widget. The launcher's rules (`widget/launcher.css`) are shared with the
/// loader, which draws the same launcher before the app has loaded.
const CSS: &str = concat!(
    include_str!("../launcher.css"),
    r#".panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 120px);background:#fff;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.22);display:flex;flex-direction:column;overflow:hidden}
.head{display:flex;align-items:center;gap:10px;padding:14px 16px;background:var(--b);color:var(--bt);font-weight:600;font-size:15px}
.head .who{flex:1;min-width:0}.head small{display:block;font-weight:400;font-size:12px;opacity:.85}
.avatar{width:32px;height:32px;border-radius:50%;background:rgba(255,255,255,.25);display:flex;align-items:center;justify-content:center;font-size:13px}
.close{border:0;background:none;color:var(--bt);font-size:22px;line-height:1;cursor:pointer;padding:2px 6px}
.log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;list-style:none}
.msg{max-width:85%;padding:9px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.user{align-self:flex-end;background:var(--b);color:var(--bt);border-bottom-right-radius:4px}
.ai{align-self:flex-start;background:#f0f2f5;border-bottom-left-radius:4px}
.teammate{align-self:flex-start;background:#e8f5ee;border-bottom-left-radius:4px}
.system{align-self:center;color:#595959;font-size:12px;padding:2px 8px}
.notice{align-self:center;background:#fff4e5;color:#7a4b00;font-size:13px}
.spot{position:fixed;z-index:2147482999;border:3px solid var(--b);border-radius:8px;box-shadow:0 0 0 4px rgba(0,0,0,.15);pointer-events:none}
.tip{position:absolute;left:0;top:calc(100% + 8px);max-width:280px;background:#1c1e21;color:#fff;font-size:13px;padding:7px 10px;border-radius:8px;white-space:normal}
.msg p+p,.msg p+ul,.msg p+ol,.msg ul+p,.msg ol+p,.msg pre+p,.msg p+pre{margin-top:8px}
.msg ul,.msg ol{padding-left:20px;white-space:normal}
.msg code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;background:rgba(0,0,0,.06);padding:1px 4px;border-radius:4px}
.msg pre{white-space:pre-wrap;background:rgba(0,0,0,.06);padding:8px;border-radius:6px}
.msg pre code{background:none;padding:0}
.ai a,.teammate a,.cites a{color:var(--bl);text-decoration:underline}
.cites{margin-top:6px;font-size:12px;color:#555}
.rate{display:flex;gap:4px;margin-top:6px}
.rate button{border:1px solid #ccd0d5;border-radius:6px;background:#fff;color:#444;cursor:pointer;padding:3px 6px;line-height:0}
.rate svg{width:14px;height:14px;fill:currentColor}
.rate button[aria-pressed=true]{background:var(--b);border-color:var(--b);color:var(--bt)}
.empty{color:#595959;text-align:center;margin:auto 10px}
.typing{align-self:flex-start;background:#f0f2f5;border-radius:12px;padding:10px 14px;display:flex;gap:4px}
.typing i{width:6px;height:6px;border-radius:50%;background:#8a8d91;animation:b 1s infinite}
.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}
@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e4e6eb}
textarea{flex:1;resize:none;border:1px solid #ccd0d5;border-radius:10px;padding:8px 10px;height:40px;max-height:120px;font-size:14px;background:#fff;color:#1c1e21}
textarea:focus{outline:2px solid #9db4ff;border-color:var(--bl)}
.send{border:0;border-radius:10px;background:var(--b);color:var(--bt);padding:0 14px;font-weight:600;cursor:pointer}
.send:disabled,.human:disabled{opacity:.5;cursor:default}
.human{display:block;margin-top:8px;border:1px solid var(--bl);border-radius:8px;background:#fff;color:var(--bl);padding:5px 10px;font-size:13px;font-weight:600;cursor:pointer}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.panel,.left .panel{inset:0;width:100%;max-width:none;height:100%;max-height:none;border-radius:0}.close{font-size:28px;padding:4px 10px}}
"#
);

/// What the "Talk to a person" button sends; the server recognises it as a request for a person.
const TALK_TO_PERSON: &str = "I'd like to talk to a person, please.";

/// The launcher's icon, shared with the loader.
const CHAT_ICON: &str = include_str!("../launcher-icon.txt");
/// A thumb up; the thumb down is the same path turned over.
const THUMB_ICON: &str = "M2 10h4v11H2zm6 11h9.3a2 2 0 0 0 2-1.6l1.6-8A2 2 0 0 0 19 9h-5.6l.9-4.3a1.6 1.6 0 0 0-2.9-1.2L8 9.5z";

/// Paints `look` on the widget's root: its colours as the CSS variables the styles use, its
/// side as a class. (Words are read when a region renders; the panel renders on each open.)
pub fn paint(look: &crate::state::Look) {
    let Some(root) = crate::state::STATE.with_borrow(|s| s.root.clone()) else {
        return;
    };
    let _ = root.set_attribute(
        "style",
        &format!(
            "--b:{};--bt:{};--bl:{}",
            look.brand, look.on_brand, look.accent
        ),
    );
    let _ = root.set_attribute("class", if look.left { "root left" } else { "root" });
}

/// Creates `<halo-widget>` at the end of `<body>`, attaches its shadow root and mounts the UI.
pub fn mount(ui: Ui) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Some(body), Ok(host)) = (document.body(), document.create_element("halo-widget")) else {
        return;
    };
    let _ = host.set_attribute("data-testid", "halo-host");
    let Ok(shadow) =
        host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
    else {
        return;
    };
    let (Ok(style), Ok(root)) = (
        document.create_element("style"),
        document.create_element("div"),
    ) else {
        return;
    };
    style.set_text_content(Some(CSS));
    let _ = root.set_attribute("class", "root");
    let _ = shadow.append_child(&style);
    let _ = shadow.append_child(&root);
    crate::state::STATE.with_borrow_mut(|s| s.root = Some(root.clone()));
    ui.look.with_untracked(paint);
    leptos::mount::mount_to(
        root.unchecked_into(),
        move || view! { <Launcher ui/> <Panel ui/> <Highlight ui/> },
    )
    .forget();
    // The loader's launcher gives way to this one in the same task (no frame shows neither),
    // and a keyboard user's focus moves with it.
    match document.query_selector("halo-widget").ok().flatten() {
        Some(facade) => {
            let focused = document.active_element().is_some_and(|a| a == facade);
            let _ = facade.replace_with_with_node_1(&host);
            if focused {
                if let Some(launcher) = ui.launcher.get_untracked() {
                    let _ = launcher.focus();
                }
            }
        }
        None => {
            let _ = body.append_child(&host);
        }
    }
}

/// The outline the agent draws over a host-page element, with its message.
#[component]
fn Highlight(ui: Ui) -> impl IntoView {
    move || {
        ui.highlight.get().map(|s| {
            let style = format!(
                "top:{}px;left:{}px;width:{}px;height:{}px",
                // Whole pixels: integer formatting keeps float code out of the wasm.
                (s.top - 6.0) as i32,
                (s.left - 6.0) as i32,
                (s.width + 12.0) as i32,
                (s.height + 12.0) as i32
            );
            view! {
                <div class="spot" style=style data-testid="halo-highlight" role="note">
                    <div class="tip" data-testid="halo-highlight-message">{s.message}</div>
                </div>
            }
        })
    }
}

#[component]
fn Launcher(ui: Ui) -> impl IntoView {
    let toggle = move |_| {
        if ui.open.get_untracked() {
            ui.open.set(false);
        } else {
            actions::opened(ui);
        }
    };
    // Tracked: on a first visit the workspace's language arrives after the launcher shows.
    let words = move || ui.look.with(|l| l.strings);
    view! {
        <button class="launcher" data-testid="halo-launcher" on:click=toggle node_ref=ui.launcher
            aria-label=move || if ui.open.get() { words().close_chat } else { words().open_chat }
            aria-expanded=move || ui.open.get().to_string()>
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d=CHAT_ICON/></svg>
            <Show when=move || ui.unread.get()>
                <span class="badge" data-testid="halo-unread" role="status" aria-label=words().unread></span>
            </Show>
        </button>
    }
}

#[component]
fn Panel(ui: Ui) -> impl IntoView {
    let look = move || ui.look.get_untracked();
    view! {
        <Show when=move || ui.open.get()>
            <div class="panel" role="dialog" aria-label=look().strings.dialog data-testid="halo-panel"
                on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Escape" { actions::close(ui) }>
                <div class="head">
                    {look().initials.map(|i| view! { <span class="avatar" aria-hidden="true">{i}</span> })}
                    <div class="who">
                        <span data-testid="halo-title">{look().title}</span>
                        {look().team_name.map(|t| view! { <small>{t}</small> })}
                    </div>
                    <button class="close" aria-label=look().strings.close data-testid="halo-close"
                        on:click=move |_| actions::close(ui)>"×"</button>
                </div>
                <MessageList ui/>
                <Composer ui/>
            </div>
        </Show>
    }
}

fn citations_view(citations: Vec<Citation>, label: &'static str) -> impl IntoView {
    (!citations.is_empty()).then(|| {
        view! {
            <div class="cites" data-testid="halo-citations">
                {label}
                {citations
                    .into_iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let sep = if i > 0 { ", " } else { "" };
                        match c.url {
                            Some(url) => view! { {sep} <a href=url target="_blank" rel="noopener noreferrer">{c.title}</a> }.into_any(),
                            None => view! { {sep} <span>{c.title}</span> }.into_any(),
                        }
                    })
                    .collect_view()}
            </div>
        }
    })
}

/// Appends `spans` to `parent` as elements and text nodes.
fn append_spans(doc: &web_sys::Document, parent: &web_sys::Element, spans: Vec<Span>) {
    for s in spans {
        let (tag, text, url) = match s {
            Span::Text(t) => {
                let _ = parent.append_child(&doc.create_text_node(&t));
                continue;
            }
            Span::Bold(t) => ("strong", t, None),
            Span::Code(t) => ("code", t, None),
            Span::Link { text, url } => ("a", text, Some(url)),
        };
        if let Ok(el) = doc.create_element(tag) {
            el.set_text_content(Some(&text));
            if let Some(url) = url {
                // markdown::spans only makes links of http(s) URLs.
                let _ = el.set_attribute("href", &url);
                let _ = el.set_attribute("target", "_blank");
                let _ = el.set_attribute("rel", "noopener noreferrer");
            }
            let _ = parent.append_child(&el);
        }
    }
}

fn child(
    doc: &web_sys::Document,
    parent: &web_sys::Element,
    tag: &str,
) -> Option<web_sys::Element> {
    let el = doc.create_element(tag).ok()?;
    parent.append_child(&el).ok()?;
    Some(el)
}

/// A line's text: plain, or (answers and teammates' replies) safe markdown, built as elements
/// and text nodes, never parsed HTML. Built with the DOM directly rather than views: it keeps
/// the widget's wasm small.
fn text_view(text: &str, markdown: bool) -> impl IntoView {
    let blocks = if markdown {
        markdown::parse(text)
    } else {
        Vec::new()
    };
    let plain = (!markdown).then(|| text.to_owned());
    let node = NodeRef::<leptos::html::Div>::new();
    node.on_load(move |root| {
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let root: &web_sys::Element = &root;
        if let Some(t) = plain {
            root.set_text_content(Some(&t));
        }
        for b in blocks {
            match b {
                Block::Paragraph(spans) => {
                    if let Some(p) = child(&doc, root, "p") {
                        append_spans(&doc, &p, spans);
                    }
                }
                Block::Code(code) => {
                    if let Some(c) =
                        child(&doc, root, "pre").and_then(|pre| child(&doc, &pre, "code"))
                    {
                        c.set_text_content(Some(&code));
                    }
                }
                Block::List { ordered, items } => {
                    if let Some(list) = child(&doc, root, if ordered { "ol" } else { "ul" }) {
                        for item in items {
                            if let Some(li) = child(&doc, &list, "li") {
                                append_spans(&doc, &li, item);
                            }
                        }
                    }
                }
            }
        }
    });
    view! { <div class="md" node_ref=node></div> }
}

/// Thumbs up and down under an AI answer.
fn rating_view(ui: Ui, line: u32, message_id: String, rating: Option<bool>) -> impl IntoView {
    let rated = RwSignal::new(rating);
    let button = move |helpful: bool| {
        let id = message_id.clone();
        let words = ui.look.with_untracked(|l| l.strings);
        let (label, turn, test) = if helpful {
            (words.helpful, None, "halo-rate-up")
        } else {
            (
                words.not_helpful,
                Some("rotate(180 12 12)"),
                "halo-rate-down",
            )
        };
        view! {
            <button type="button" aria-label=label title=label data-testid=test
                aria-pressed=move || (rated.get() == Some(helpful)).to_string()
                on:click=move |_| actions::rate(ui, line, id.clone(), helpful, rated)>
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d=THUMB_ICON transform=turn/></svg>
            </button>
        }
    };
    view! { <div class="rate">{button(true)}{button(false)}</div> }
}

/// What the live region says: the latest line from the team's side (the AI, a teammate, a
/// note), or nothing while it is still being written.
fn announcement(ui: Ui) -> String {
    ui.messages.with(|all| {
        all.last()
            .filter(|m| !m.partial && matches!(m.role, Role::Ai | Role::Teammate | Role::System))
            .map(|m| {
                format!(
                    "{}: {}",
                    ui.look.with_untracked(|l| l.strings.new_message),
                    m.text
                )
            })
            .unwrap_or_default()
    })
}

#[component]
fn MessageList(ui: Ui) -> impl IntoView {
    let log = NodeRef::<leptos::html::Ol>::new();
    // Keep the latest line in view as lines arrive.
    Effect::new(move |_| {
        ui.messages.track();
        ui.pending.track();
        if let Some(el) = log.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    view! {
        // Screen readers hear each new line from the team's side, once, from a region of its
        // own (a live log would read out every re-render).
        <div class="sr" aria-live="polite" data-testid="halo-announce">{move || announcement(ui)}</div>
        <ol class="log" node_ref=log data-testid="halo-messages">
            <Show when=move || ui.messages.with(Vec::is_empty) && !ui.pending.get()>
                <li class="empty" data-testid="halo-greeting">{ui.look.with_untracked(|l| l.greeting.clone())}</li>
            </Show>
                        <For each=move || ui.messages.get() key=|m| (m.id, m.text.len()) let:m>
                <li class=format!("msg {}", m.role.as_str()) data-testid="halo-message" data-role=m.role.as_str()>
                                        {text_view(&m.text, matches!(m.role, Role::Ai | Role::Teammate))}
                    {citations_view(m.citations, ui.look.with_untracked(|l| l.strings.sources))}
                                        {m.server_id.filter(|_| m.role == Role::Ai && !m.partial).map(|sid| rating_view(ui, m.id, sid, m.rating))}
                    {m.offer_human.then(|| {
                        let latest = move || ui.messages.with(|all| all.last().map(|l| l.id)) == Some(m.id);
                        view! {
                            <Show when=latest>
                                <button class="human" data-testid="halo-talk-to-person"
                                    disabled=move || ui.pending.get()
                                    on:click=move |_| actions::ask(ui, TALK_TO_PERSON.to_owned())>{ui.look.with_untracked(|l| l.strings.talk_to_person)}</button>
                            </Show>
                        }
                    })}
                </li>
            </For>
            <Show when=move || ui.pending.get()>
                <li class="typing" data-testid="halo-typing" role="status" aria-label=ui.look.with_untracked(|l| l.strings.typing)><i></i><i></i><i></i></li>
            </Show>
        </ol>
    }
}

#[component]
fn Composer(ui: Ui) -> impl IntoView {
    let draft = ui.draft;
    let words = ui.look.with_untracked(|l| l.strings);
    let submit = move || {
        if !ui.pending.get_untracked() {
            actions::ask(ui, draft.get_untracked().trim().to_owned());
            draft.set(String::new());
        }
    };
    view! {
        <form on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <textarea data-testid="halo-input" aria-label=words.message
                placeholder=words.placeholder maxlength=MAX_MESSAGE_CHARS
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev: web_sys::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }></textarea>
            <button class="send" type="submit" data-testid="halo-send"
                disabled=move || ui.pending.get() || draft.with(|d| d.trim().is_empty())>{words.send}</button>
        </form>
    }
}
