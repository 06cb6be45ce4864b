//! Settings > Routing (priority filters and routing rules as forms: attribute, operator,
//! value; team, assignee, direct) and Settings > Webhooks (the file-bug and refund endpoints,
//! their payload templates, and a test delivery that shows how the receiver answered). The
//! server checks every change with the same rules as the API.

use halo_shared::routing::{Condition, Op, Routing, Rule, OPS};
use halo_shared::settings::WorkspaceSettings;
use halo_shared::webhooks::ACTIONS;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::api;
use crate::desk::Desk;
use crate::workspace::{self, manages};

fn op_of(s: &str) -> Op {
    serde_json::from_value(json!(s)).unwrap_or(Op::Eq)
}

fn op_name(op: Op) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A condition's value as typed: a list for `in` (comma-separated), a number or a boolean
/// when it reads as one, else text.
fn value_of(op: Op, text: &str) -> Value {
    let text = text.trim();
    match op {
        Op::In => json!(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()),
        Op::Exists if text.is_empty() => Value::Null,
        _ => text
            .parse::<f64>()
            .map(|n| json!(n))
            .or_else(|_| text.parse::<bool>().map(|b| json!(b)))
            .unwrap_or_else(|_| {
                if text.is_empty() {
                    Value::Null
                } else {
                    json!(text)
                }
            }),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// Which list of conditions a row is in: the priority filters, or a rule's.
#[derive(Clone, Copy)]
enum List {
    Filters,
    Rule(usize),
}

fn conditions(d: &mut Routing, list: List) -> Option<&mut Vec<Condition>> {
    match list {
        List::Filters => Some(&mut d.priority_filters),
        List::Rule(i) => d.rules.get_mut(i).map(|r| &mut r.when),
    }
}

/// One condition row, the `i`th of `list`.
fn condition_row(doc: RwSignal<Routing>, c: Condition, list: List, i: usize) -> impl IntoView {
    let set = move |f: &dyn Fn(&mut Condition)| {
        doc.update(|d| {
            if let Some(c) = conditions(d, list).and_then(|l| l.get_mut(i)) {
                f(c)
            }
        })
    };
    let op = c.op;
    view! {
        <div class="inline condition" data-testid="condition">
            <input placeholder="attribute, e.g. plan or context.page" prop:value=c.attribute.clone()
                on:change=move |ev| { let v = event_target_value(&ev); set(&|c| c.attribute = v.clone()) }/>
            <select on:change=move |ev| { let o = op_of(&event_target_value(&ev)); set(&|c| c.op = o) }>
                {OPS.iter().map(|o| view! { <option value=*o selected=op_name(op) == *o>{*o}</option> }).collect_view()}
            </select>
            <input placeholder="value" prop:value=value_text(&c.value)
                on:change=move |ev| { let t = event_target_value(&ev); set(&|c| c.value = value_of(c.op, &t)) }/>
            <button type="button" class="link" on:click=move |_| doc.update(|d| { if let Some(l) = conditions(d, list) { if i < l.len() { l.remove(i); } } })>"Remove"</button>
        </div>
    }
}

fn new_condition() -> Condition {
    Condition {
        attribute: String::new(),
        op: Op::Eq,
        value: Value::Null,
    }
}

fn rule_view(desk: Desk, doc: RwSignal<Routing>, r: Rule, i: usize) -> impl IntoView {
    let set = move |f: &dyn Fn(&mut Rule)| {
        doc.update(|d| {
            if let Some(r) = d.rules.get_mut(i) {
                f(r)
            }
        })
    };
    let assignee = r.assignee.clone().unwrap_or_default();
    view! {
        <fieldset class="rule" data-testid="rule">
            <legend>{format!("Rule {}", i + 1)}</legend>
            <input placeholder="name" prop:value=r.name.clone() data-testid="rule-name"
                on:change=move |ev| { let v = event_target_value(&ev); set(&|r| r.name = v.clone()) }/>
            <p class="muted">"When all of these hold:"</p>
            {r.when.iter().cloned().enumerate().map(|(j, c)| condition_row(doc, c, List::Rule(i), j)).collect_view()}
            <button type="button" class="link" on:click=move |_| set(&|r| r.when.push(new_condition()))>"+ condition"</button>
            <div class="inline">
                <input placeholder="team" prop:value=r.team.clone().unwrap_or_default() data-testid="rule-team"
                    on:change=move |ev| { let v = event_target_value(&ev); set(&|r| r.team = Some(v.trim().to_owned()).filter(|t| !t.is_empty())) }/>
                <select on:change=move |ev| { let v = event_target_value(&ev); set(&|r| r.assignee = Some(v.clone()).filter(|a| !a.is_empty())) }>
                    <option value="" selected=assignee.is_empty()>"no assignee"</option>
                    {desk.teammates.get_untracked().into_iter().map(|t| {
                        let chosen = t.id == assignee;
                        view! { <option value=t.id.clone() selected=chosen>{t.name.clone()}</option> }
                    }).collect_view()}
                </select>
                <label class="check-line"><input type="checkbox" prop:checked=r.direct
                    on:change=move |ev| { let on = event_target_checked(&ev); set(&|r| r.direct = on) }/>" straight to the team (no AI answer)"</label>
            </div>
            <input placeholder="what the customer is told when it routes them (optional)" prop:value=r.reply.clone().unwrap_or_default()
                on:change=move |ev| { let v = event_target_value(&ev); set(&|r| r.reply = Some(v.trim().to_owned()).filter(|t| !t.is_empty())) }/>
            <button type="button" class="link" on:click=move |_| doc.update(|d| { if i < d.rules.len() { d.rules.remove(i); } })>"Remove the rule"</button>
        </fieldset>
    }
}

#[component]
pub fn RoutingPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    let doc = RwSignal::new(Routing::default());
    let saved = RwSignal::new(false);
    spawn_local(async move {
        workspace::load(desk, settings).await;
        if let Some(r) = settings.with_untracked(|s| s.as_ref().map(|s| s.routing.clone())) {
            doc.set(r);
        }
    });
    let save = move |_| {
        saved.set(false);
        let body = json!({ "routing": doc.get_untracked() });
        spawn_local(async move { saved.set(workspace::save(desk, body, settings).await) });
    };
    view! {
        <div class="pane contact-page" data-testid="routing">
            <h3>"Routing"</h3>
            <h4>"Priority"</h4>
            <p class="muted">"A ticket is Priority when any of these holds for its customer."</p>
            {move || doc.get().priority_filters.into_iter().enumerate().map(|(i, c)| condition_row(doc, c, List::Filters, i)).collect_view()}
            <button type="button" class="link" data-testid="add-filter" on:click=move |_| doc.update(|d| d.priority_filters.push(new_condition()))>"+ priority filter"</button>
            <h4>"Rules"</h4>
            <p class="muted">"The first rule that matches a message routes it to a team or a teammate."</p>
            {move || doc.get().rules.into_iter().enumerate().map(|(i, r)| rule_view(desk, doc, r, i)).collect_view()}
            <button type="button" class="link" data-testid="add-rule" on:click=move |_| doc.update(|d| d.rules.push(Rule {
                name: String::new(), when: vec![new_condition()], team: None, assignee: None, direct: false, reply: None,
            }))>"+ rule"</button>
            <label>"Abandoned after (seconds without a reply)"
                <input inputmode="numeric" prop:value=move || doc.get().abandon_after_seconds.to_string()
                    on:change=move |ev| if let Ok(n) = event_target_value(&ev).parse() { doc.update(|d| d.abandon_after_seconds = n) }/>
            </label>
            {manages(desk).then(|| view! { <button type="button" class="primary" data-testid="save-routing" on:click=save>"Save"</button> })}
            {move || saved.get().then(|| view! { <span class="muted" data-testid="saved">"Saved."</span> })}
        </div>
    }
}

fn webhook_form(
    desk: Desk,
    settings: RwSignal<Option<WorkspaceSettings>>,
    action: &'static str,
) -> impl IntoView {
    let current = settings
        .with_untracked(|s| s.as_ref().map(|s| s.webhooks[action].clone()))
        .unwrap_or(Value::Null);
    let exists = current.is_object();
    let url = RwSignal::new(current["url"].as_str().unwrap_or_default().to_owned());
    let secret = RwSignal::new(String::new());
    let template = RwSignal::new(if current["template"].is_object() {
        serde_json::to_string_pretty(&current["template"]).unwrap_or_default()
    } else {
        String::new()
    });
    let tested = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut hook = json!({ "url": url.get_untracked().trim() });
        if !secret.get_untracked().is_empty() {
            hook["secret"] = json!(secret.get_untracked());
        }
        let t = template.get_untracked();
        if !t.trim().is_empty() {
            hook["template"] = serde_json::from_str(&t).unwrap_or(json!(t));
        }
        let body = json!({ "webhooks": { action: hook } });
        spawn_local(async move {
            if workspace::save(desk, body, settings).await {
                secret.set(String::new());
            }
        });
    };
    let remove = move |_| {
        spawn_local(async move {
            workspace::save(desk, json!({ "webhooks": { action: null } }), settings).await;
        })
    };
    let test = move |_| {
        tested.set(Some("Sending…".into()));
        spawn_local(async move {
            let path = format!("/api/console/webhooks/{action}/test");
            match api::post::<Value>(&path, &json!({})).await {
                Ok(v) if v["ok"] == true => {
                    tested.set(Some(format!("✓ The receiver answered {}.", v["status"])))
                }
                Ok(v) => tested.set(Some(format!(
                    "✗ {}",
                    v["error"].as_str().unwrap_or("The delivery failed.")
                ))),
                Err(e) => {
                    tested.set(None);
                    desk.failed(e)
                }
            }
        });
    };
    view! {
        <form class="stack" on:submit=save data-testid=format!("webhook-{action}")>
            <h4>{if action == "file_bug" { "File a bug" } else { "Request a refund" }}</h4>
            <input placeholder="https://your-app.example.com/hooks/halo" prop:value=move || url.get() data-testid="webhook-url"
                on:input=move |ev| url.set(event_target_value(&ev))/>
            <input type="password" placeholder=if exists { "secret (unchanged)" } else { "secret (16 characters or more)" }
                data-testid="webhook-secret" prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
            <textarea rows="4" placeholder="payload template (JSON; {{title}}, {{details}}, {{user_id}}, …); empty: the default payload"
                prop:value=move || template.get() on:input=move |ev| template.set(event_target_value(&ev))></textarea>
            {manages(desk).then(|| view! {
                <div class="inline">
                    <button type="submit" class="primary">"Save"</button>
                    {exists.then(|| view! {
                        <button type="button" data-testid="webhook-test" on:click=test>"Send test"</button>
                        <button type="button" class="link" on:click=remove>"Remove"</button>
                    })}
                </div>
            })}
            {move || tested.get().map(|t| view! { <p class="muted" data-testid="webhook-result">{t}</p> })}
        </form>
    }
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let desk = use_context::<Desk>().expect("inside the inbox");
    let settings = RwSignal::new(None::<WorkspaceSettings>);
    spawn_local(workspace::load(desk, settings));
    // The forms are rebuilt after each save, from the settings it answered.
    view! {
        <div class="pane contact-page" data-testid="webhooks">
            <h3>"Webhooks"</h3>
            <p class="muted">"With a webhook, the AI's action goes to your endpoint, signed (X-Halo-Signature); without one, or if it fails, it becomes a ticket."</p>
            {move || settings.get().is_some().then(|| ACTIONS.iter().map(|a| webhook_form(desk, settings, a)).collect_view())}
        </div>
    }
}
