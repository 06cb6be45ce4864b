//! The live events' wire shapes: what the conversation rooms and the inbox feed send to the
//! widget and the console (`messages`, `typing`, `conversation`), and who wrote a line.

use serde::{Deserialize, Serialize};

/// Who wrote a line of a conversation, as the transcript and the live events name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineRole {
    /// The customer.
    User,
    /// The AI agent.
    Ai,
    /// A person from the support team.
    Teammate,
    /// A note about the conversation ("Sam joined the conversation.").
    System,
}

impl LineRole {
    pub fn as_str(self) -> &'static str {
        match self {
            LineRole::User => "user",
            LineRole::Ai => "ai",
            LineRole::Teammate => "teammate",
            LineRole::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "user" => LineRole::User,
            "ai" => LineRole::Ai,
            "teammate" => LineRole::Teammate,
            "system" => LineRole::System,
            _ => return None,
        })
    }
}

/// One line of a conversation, as clients render it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub id: String,
    pub role: LineRole,
    pub text: String,
    pub created_at: i64,
}

/// An event of a conversation's room (and of the workspace's feed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// Lines were written.
    Messages {
        session_id: String,
        messages: Vec<Line>,
    },
    /// An answer being generated: its text so far.
    Typing {
        session_id: String,
        message_id: String,
        text: String,
    },
    /// The conversation changed state (`opened`).
    Conversation { session_id: String, state: String },
    /// A teammate opened, is replying in, or left the conversation or ticket (to the team's
    /// sockets of that room only, so two teammates see each other).
    Presence {
        teammate_id: String,
        name: String,
        state: Presence,
    },
}

/// What a teammate is doing in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// Has it open.
    Viewing,
    /// Is writing a reply or note.
    Typing,
    /// Closed it.
    Left,
}

/// What a teammate's console sends on a room's socket: `{ "type": "presence", "state" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    Presence { state: Presence },
}

/// Who a team socket belongs to, kept with the socket by its room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub teammate_id: String,
    pub name: String,
    /// The hash of the console session it was opened with (none for an inbox token), so
    /// that signing out closes it.
    #[serde(default)]
    pub session: Option<String>,
    /// A socket of the workspace's feed: it is closed with its session, but it is nobody's
    /// presence in a conversation.
    #[serde(default)]
    pub quiet: bool,
    /// When its session was last found to hold (ms since the epoch).
    #[serde(default)]
    pub checked_at: i64,
}

impl Event {
    /// The `type` of a [`Event::Messages`] event.
    pub const MESSAGES: &'static str = "messages";
    /// The `type` of a [`Event::Typing`] event.
    pub const TYPING: &'static str = "typing";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_carry_their_type_and_lines_their_role_as_clients_read_them() {
        let e = Event::Messages {
            session_id: "s".into(),
            messages: vec![Line {
                id: "m".into(),
                role: LineRole::Teammate,
                text: "Hi".into(),
                created_at: 5,
            }],
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({ "type": Event::MESSAGES, "session_id": "s",
                    "messages": [{ "id": "m", "role": "teammate", "text": "Hi", "created_at": 5 }] })
        );
        let t = Event::Typing {
            session_id: "s".into(),
            message_id: "m".into(),
            text: "Hel".into(),
        };
        assert_eq!(serde_json::to_value(&t).unwrap()["type"], Event::TYPING);
        for r in [
            LineRole::User,
            LineRole::Ai,
            LineRole::Teammate,
            LineRole::System,
        ] {
            assert_eq!(LineRole::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(LineRole::parse("notice"), None);
    }

    #[test]
    fn presence_is_sent_and_read_by_its_type() {
        let m: ClientMessage =
            serde_json::from_value(json!({ "type": "presence", "state": "typing" })).unwrap();
        assert_eq!(
            m,
            ClientMessage::Presence {
                state: Presence::Typing
            }
        );
        assert!(serde_json::from_value::<ClientMessage>(
            json!({ "type": "presence", "state": "x" })
        )
        .is_err());
        let e = Event::Presence {
            teammate_id: "t".into(),
            name: "Ann".into(),
            state: Presence::Left,
        };
        assert_eq!(
            serde_json::to_value(e).unwrap(),
            json!({ "type": "presence", "teammate_id": "t", "name": "Ann", "state": "left" })
        );
    }
}
