//! The ticket lifecycle (see the tickets-and-conversations document): statuses and the
//! transitions between them, as a pure state machine.
//!
//! - Open: active, awaiting work or a reply; the default for new tickets.
//! - Priority: high urgency (AI escalation matching priority filters, or set by hand).
//! - In Progress: a teammate is handling it (set when a teammate takes over a conversation).
//! - Snoozed: hidden until a wake-up time; the cron job wakes it, and any new activity wakes
//!   it at once.
//! - Resolved: closed; a new message from the customer reopens it.
//! - Spam: junk; skipped from default lists, and new messages leave it there.

use serde::{Deserialize, Serialize};

/// A ticket's status. Snoozed carries its wake-up time (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    Open,
    Priority,
    InProgress,
    Snoozed { until: i64 },
    Resolved,
    Spam,
}

impl Status {
    /// The stored name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Priority => "priority",
            Status::InProgress => "in_progress",
            Status::Snoozed { .. } => "snoozed",
            Status::Resolved => "resolved",
            Status::Spam => "spam",
        }
    }

    /// Shown in default inbox lists (Snoozed and Spam are hidden).
    pub fn listed_by_default(self) -> bool {
        !matches!(self, Status::Snoozed { .. } | Status::Spam)
    }
}

/// Something that happens to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A teammate (or the API) sets a status that needs no time: open, priority, in progress,
    /// resolved, spam.
    Set(Status),
    /// A teammate snoozes it until a time.
    Snooze { until: i64 },
    /// The customer wrote (a chat message, an email).
    CustomerMessage,
    /// A teammate replied or added a note.
    TeammateActivity,
    /// A teammate took over the live conversation.
    TakeOver,
    /// The cron job's periodic check.
    Tick,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTransition {
    #[error("a ticket can only be snoozed until a time in the future")]
    SnoozeInThePast,
    #[error("use a snooze with a wake-up time to snooze a ticket")]
    SnoozeWithoutTime,
}

/// The status after `event` at time `now` (ms since the epoch).
pub fn apply(status: Status, event: Event, now: i64) -> Result<Status, InvalidTransition> {
    use Status::*;
    Ok(match (status, event) {
        (_, Event::Set(Snoozed { .. })) => return Err(InvalidTransition::SnoozeWithoutTime),
        (_, Event::Set(target)) => target,
        (_, Event::Snooze { until }) if until <= now => {
            return Err(InvalidTransition::SnoozeInThePast)
        }
        (_, Event::Snooze { until }) => Snoozed { until },
        // New activity wakes a snoozed ticket at once.
        (Snoozed { .. }, Event::CustomerMessage | Event::TeammateActivity) => Open,
        // A customer writing again reopens a closed ticket; spam stays spam.
        (Resolved, Event::CustomerMessage) => Open,
        (Spam, Event::CustomerMessage) => Spam,
        (_, Event::TakeOver) => InProgress,
        (Snoozed { until }, Event::Tick) if until <= now => Open,
        (s, Event::CustomerMessage | Event::TeammateActivity | Event::Tick) => s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    const NOW: i64 = 1_000_000;

    #[test]
    fn teammates_set_any_status_but_snooze_needs_a_future_time() {
        for from in [
            Open,
            Priority,
            InProgress,
            Resolved,
            Spam,
            Snoozed { until: NOW + 1 },
        ] {
            for to in [Open, Priority, InProgress, Resolved, Spam] {
                assert_eq!(
                    apply(from, Event::Set(to), NOW),
                    Ok(to),
                    "{from:?} -> {to:?}"
                );
            }
            assert_eq!(
                apply(
                    from,
                    Event::Snooze {
                        until: NOW + 60_000
                    },
                    NOW
                ),
                Ok(Snoozed {
                    until: NOW + 60_000
                })
            );
            assert_eq!(
                apply(from, Event::Snooze { until: NOW }, NOW),
                Err(InvalidTransition::SnoozeInThePast)
            );
            assert_eq!(
                apply(from, Event::Set(Snoozed { until: NOW + 1 }), NOW),
                Err(InvalidTransition::SnoozeWithoutTime)
            );
        }
    }

    #[test]
    fn any_new_activity_wakes_a_snoozed_ticket() {
        let snoozed = Snoozed {
            until: NOW + 60_000,
        };
        assert_eq!(apply(snoozed, Event::CustomerMessage, NOW), Ok(Open));
        assert_eq!(apply(snoozed, Event::TeammateActivity, NOW), Ok(Open));
    }

    #[test]
    fn the_cron_wakes_a_snoozed_ticket_when_its_time_comes() {
        let snoozed = Snoozed {
            until: NOW + 60_000,
        };
        assert_eq!(apply(snoozed, Event::Tick, NOW), Ok(snoozed), "not yet");
        assert_eq!(apply(snoozed, Event::Tick, NOW + 60_000), Ok(Open));
        for other in [Open, Priority, InProgress, Resolved, Spam] {
            assert_eq!(apply(other, Event::Tick, NOW), Ok(other));
        }
    }

    #[test]
    fn a_customer_message_reopens_a_resolved_ticket_but_not_spam() {
        assert_eq!(apply(Resolved, Event::CustomerMessage, NOW), Ok(Open));
        assert_eq!(apply(Spam, Event::CustomerMessage, NOW), Ok(Spam));
        for busy in [Open, Priority, InProgress] {
            assert_eq!(
                apply(busy, Event::CustomerMessage, NOW),
                Ok(busy),
                "{busy:?} is kept"
            );
        }
    }

    #[test]
    fn taking_over_puts_the_ticket_in_progress() {
        for from in [Open, Priority, Resolved, Snoozed { until: NOW + 1 }] {
            assert_eq!(apply(from, Event::TakeOver, NOW), Ok(InProgress));
        }
    }

    #[test]
    fn snoozed_and_spam_are_hidden_from_default_lists() {
        let listed: Vec<&str> = [
            Open,
            Priority,
            InProgress,
            Snoozed { until: 1 },
            Resolved,
            Spam,
        ]
        .into_iter()
        .filter(|s| s.listed_by_default())
        .map(Status::as_str)
        .collect();
        assert_eq!(listed, ["open", "priority", "in_progress", "resolved"]);
    }

    #[test]
    fn statuses_serialise_with_the_snooze_time() {
        assert_eq!(
            serde_json::to_value(Snoozed { until: 5 }).unwrap(),
            serde_json::json!({ "status": "snoozed", "until": 5 })
        );
        assert_eq!(
            serde_json::to_value(InProgress).unwrap(),
            serde_json::json!({ "status": "in_progress" })
        );
    }
}

/// The transition a request's `status` (with `snoozed_until` for a snooze) asks for, if any.
fn requested_event(
    o: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<Event>, crate::chat::FieldError> {
    use crate::chat::{field_error as err, InvalidField};
    let Some(v) = o.get("status").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let not_one_of = || {
        err(
            "status",
            InvalidField::NotOneOf {
                allowed: "open, priority, in_progress, snoozed, resolved, spam",
            },
        )
    };
    Ok(Some(match v.as_str().ok_or_else(not_one_of)? {
        "snoozed" => Event::Snooze {
            until: o
                .get("snoozed_until")
                .and_then(serde_json::Value::as_i64)
                .ok_or_else(|| {
                    err(
                        "snoozed_until",
                        InvalidField::Invalid(
                            "a snoozed ticket needs snoozed_until (ms since the epoch)",
                        ),
                    )
                })?,
        },
        name => Event::Set(Status::from_stored(name, None).ok_or_else(not_one_of)?),
    }))
}

/// Longest ticket subject.
pub const MAX_SUBJECT_CHARS: usize = 200;

/// `POST /api/sdk/tickets/create`: a ticket with whatever status the caller specifies.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub subject: String,
    pub status: Status,
    pub message: Option<String>,
    pub user_id: Option<String>,
    pub company_id: Option<String>,
    pub assignee: Option<String>,
    pub custom_fields: serde_json::Map<String, serde_json::Value>,
}

impl NewTicket {
    pub fn parse(body: &serde_json::Value, now: i64) -> Result<Self, crate::chat::FieldError> {
        use crate::chat::{self, body_object, field_error as err, InvalidField};
        let o = body_object(body)?;
        let get = |k: &str| o.get(k).filter(|v| !v.is_null());
        let subject = match get("subject") {
            None => return Err(err("subject", InvalidField::Missing)),
            Some(v) => chat::bounded_string("subject", v, MAX_SUBJECT_CHARS)?,
        };
        if subject.trim().is_empty() {
            return Err(err("subject", InvalidField::Empty));
        }
        let status = match requested_event(o)? {
            None => Status::Open,
            Some(event) => apply(Status::Open, event, now).map_err(|_| {
                err(
                    "snoozed_until",
                    InvalidField::Invalid("must be in the future"),
                )
            })?,
        };
        let message = get("message")
            .map(|v| chat::bounded_string("message", v, chat::MAX_MESSAGE_CHARS))
            .transpose()?;
        let id = |k: &str| get(k).map(|v| chat::identifier(k, v)).transpose();
        Ok(Self {
            subject: subject.trim().to_owned(),
            status,
            message,
            user_id: id("user_id")?,
            company_id: id("company_id")?,
            assignee: id("assignee")?,
            custom_fields: get("custom_fields")
                .map(|v| chat::strict_traits("custom_fields", v))
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod new_ticket_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_ticket_takes_whatever_status_the_caller_specifies() {
        let t = NewTicket::parse(
            &json!({ "subject": "Refund", "status": "priority", "user_id": "u1" }),
            10,
        )
        .unwrap();
        assert_eq!(
            (t.status, t.user_id.as_deref()),
            (Status::Priority, Some("u1"))
        );
        assert_eq!(
            NewTicket::parse(&json!({ "subject": "x" }), 10)
                .unwrap()
                .status,
            Status::Open
        );
        let s = NewTicket::parse(
            &json!({ "subject": "x", "status": "snoozed", "snoozed_until": 99 }),
            10,
        )
        .unwrap();
        assert_eq!(s.status, Status::Snoozed { until: 99 });
    }

    #[test]
    fn a_bad_ticket_is_refused_with_its_field() {
        assert_eq!(
            NewTicket::parse(&json!({}), 10).unwrap_err().field,
            "subject"
        );
        assert_eq!(
            NewTicket::parse(&json!({ "subject": "x", "status": "closed" }), 10)
                .unwrap_err()
                .field,
            "status"
        );
        assert_eq!(
            NewTicket::parse(&json!({ "subject": "x", "status": "snoozed" }), 10)
                .unwrap_err()
                .field,
            "snoozed_until"
        );
        assert_eq!(
            NewTicket::parse(
                &json!({ "subject": "x", "status": "snoozed", "snoozed_until": 5 }),
                10
            )
            .unwrap_err()
            .field,
            "snoozed_until"
        );
    }
}

impl Status {
    /// The status stored as `name` (with `snoozed_until` for a snoozed one).
    pub fn from_stored(name: &str, snoozed_until: Option<i64>) -> Option<Status> {
        Some(match name {
            "open" => Status::Open,
            "priority" => Status::Priority,
            "in_progress" => Status::InProgress,
            "snoozed" => Status::Snoozed {
                until: snoozed_until?,
            },
            "resolved" => Status::Resolved,
            "spam" => Status::Spam,
            _ => return None,
        })
    }
}

/// `PATCH /api/sdk/tickets/:id`: a new status (snoozing needs `snoozed_until`) and/or assignee
/// (`null` unassigns).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketUpdate {
    pub event: Option<Event>,
    pub assignee: Option<Option<String>>,
    /// A new subject: trimmed, not empty.
    pub subject: Option<String>,
}

impl TicketUpdate {
    pub fn parse(body: &serde_json::Value) -> Result<Self, crate::chat::FieldError> {
        use crate::chat::{self, body_object, field_error as err, InvalidField};
        let o = body_object(body)?;
        let event = requested_event(o)?;
        let assignee = match o.get("assignee") {
            None => None,
            Some(serde_json::Value::Null) => Some(None),
            Some(v) => Some(Some(chat::identifier("assignee", v)?)),
        };
        let subject = match o.get("subject") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => {
                let s = chat::bounded_string("subject", v, MAX_SUBJECT_CHARS)?;
                let s = s.trim();
                if s.is_empty() {
                    return Err(err("subject", InvalidField::Empty));
                }
                Some(s.to_owned())
            }
        };
        if event.is_none() && assignee.is_none() && subject.is_none() {
            return Err(err(
                "status",
                InvalidField::Invalid("send a status, an assignee or a subject"),
            ));
        }
        Ok(Self {
            event,
            assignee,
            subject,
        })
    }
}
