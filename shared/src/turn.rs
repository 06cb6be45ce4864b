//! The rules of one turn, whatever channel the message came in on (the widget today, email
//! and the console next): whose conversation it is, which agent answers, what the user is
//! told when a rule routes their message to a team, what a failure turns into and why a turn
//! becomes a ticket. Pure functions: the edge's turn pipeline
//! (`edge/src/turn.rs`) does the reading and writing around them.

use crate::answer::{self, Answer};
use crate::chat::{reason, Action, UserRef};

/// The acknowledgement while a teammate handles the conversation.
pub const TAKEN_OVER_TEXT: &str = "A teammate is handling this conversation and will reply here.";

/// Added to an answer the agent was unsure of, once a ticket is open for it.
pub const LOW_CONFIDENCE_TEXT: &str =
    "\n\nI'm not fully sure about this, so I've also asked a teammate to follow up here.";

/// Whether a conversation owned by `owner` (its user's external id; `None` for a visitor's)
/// may go on with the user a message names. A visitor's conversation continues when they
/// log in; another identified user's conversation never does.
pub fn continues(owner: Option<&str>, user: &UserRef) -> bool {
    match (owner, user) {
        (None, _) => true,
        (Some(owner), UserRef::External(id)) => owner == id,
        (Some(_), UserRef::Anonymous) => false,
    }
}

/// Which agent answers a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentChoice {
    /// The one the message names (it must exist).
    Requested,
    /// The one the conversation is pinned to.
    Pinned,
    /// The workspace's agent for the channel.
    Default,
}

/// An agent named in the message wins; else a conversation stays with its agent.
pub fn agent_choice(named: bool, continuing: bool) -> AgentChoice {
    match (named, continuing) {
        (true, _) => AgentChoice::Requested,
        (false, true) => AgentChoice::Pinned,
        (false, false) => AgentChoice::Default,
    }
}

/// The session a turn belongs to: the continuing conversation's; else the one the caller
/// named, unless it belongs to someone else (never reused); else `None`, a new one.
pub fn session_choice(
    continuing: Option<&str>,
    named: Option<&str>,
    taken_by_another: bool,
) -> Option<String> {
    match (continuing, named) {
        (Some(c), _) => Some(c.to_owned()),
        (None, Some(s)) if !taken_by_another => Some(s.to_owned()),
        _ => None,
    }
}

/// What the user is told when a rule routes their message to a team: the rule's own reply,
/// else a line naming the team.
pub fn team_acknowledgement(reply: Option<&str>, team: Option<&str>) -> String {
    match (reply, team) {
        (Some(reply), _) => reply.to_owned(),
        (None, Some(team)) => {
            format!("Thanks! I've passed your message to our {team} team; they'll reply here.")
        }
        (None, None) => "Thanks! I've passed your message to the team; they'll reply here.".into(),
    }
}

/// What a turn with failures (search, profile, history, a model, a webhook) turns into: a
/// "nothing found" that a failed search would make untrue becomes an apology, and any
/// failure offers a person, once.
pub fn settle_failures(answer: &mut Answer, search_failed: bool, failed: bool) {
    if search_failed && answer.found_nothing() {
        *answer = answer::offer_human(answer::FAILURE_TEXT, reason::ENGINE_FAILED, 0.0);
    }
    if failed {
        answer
            .actions
            .retain(|a| !matches!(a, Action::OfferHuman { .. }));
        answer.actions.push(Action::OfferHuman {
            reason: reason::ENGINE_FAILED.into(),
        });
    }
}

/// Whether an answer is below the agent's threshold (0 never escalates; small talk never is).
pub fn unsure(threshold: f64, confidence: f64, message: &str) -> bool {
    threshold > 0.0 && confidence < threshold && answer::small_talk(message).is_none()
}

/// Why a turn becomes a ticket: the user asked for a person or for what only the team can
/// do; else a tool handed it over (`hand_over`, its reason) and no webhook took it; else the
/// answer was unsure. `None`: no ticket.
pub fn escalation_reason<'a>(
    actions: &[Action],
    hand_over: Option<&'a str>,
    unsure: bool,
) -> Option<&'a str> {
    let asked = actions.iter().find_map(|a| match a {
        Action::OfferHuman { reason: r } if r == reason::USER_REQUESTED => {
            Some(reason::USER_REQUESTED)
        }
        Action::OfferHuman { reason: r } if r == reason::NEEDS_TEAM => Some(reason::NEEDS_TEAM),
        _ => None,
    });
    asked
        .or(hand_over)
        .or(unsure.then_some(reason::LOW_CONFIDENCE))
}

/// Whether the reply waits for a person: it offers one for any reason but "nothing found".
pub fn needs_human(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::OfferHuman { reason } if reason != reason::NO_ANSWER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(why: &str) -> Action {
        Action::OfferHuman { reason: why.into() }
    }

    #[test]
    fn a_visitors_conversation_continues_when_they_log_in_but_never_with_another_user() {
        let ana = UserRef::External("ana".into());
        assert!(continues(None, &ana));
        assert!(continues(None, &UserRef::Anonymous));
        assert!(continues(Some("ana"), &ana));
        assert!(!continues(Some("bob"), &ana));
        assert!(!continues(Some("ana"), &UserRef::Anonymous));
    }

    #[test]
    fn a_named_agent_wins_then_the_pinned_one_then_the_default() {
        assert_eq!(agent_choice(true, true), AgentChoice::Requested);
        assert_eq!(agent_choice(false, true), AgentChoice::Pinned);
        assert_eq!(agent_choice(false, false), AgentChoice::Default);
    }

    #[test]
    fn a_session_of_someone_else_is_never_reused() {
        assert_eq!(
            session_choice(Some("c"), Some("s"), false).as_deref(),
            Some("c")
        );
        assert_eq!(session_choice(None, Some("s"), false).as_deref(), Some("s"));
        assert_eq!(session_choice(None, Some("s"), true), None);
        assert_eq!(session_choice(None, None, false), None);
    }

    #[test]
    fn the_team_acknowledgement_is_the_rules_reply_or_names_the_team() {
        assert_eq!(
            team_acknowledgement(Some("On it."), Some("billing")),
            "On it."
        );
        assert!(team_acknowledgement(None, Some("billing")).contains("our billing team"));
        assert!(team_acknowledgement(None, None).contains("to the team"));
    }

    #[test]
    fn a_failed_search_is_never_reported_as_nothing_found_and_a_failure_offers_a_person_once() {
        let mut a = answer::offer_human(answer::NO_ANSWER_TEXT, reason::NO_ANSWER, 0.1);
        settle_failures(&mut a, true, true);
        assert_eq!(a.text, answer::FAILURE_TEXT);
        assert_eq!(a.actions, vec![offer(reason::ENGINE_FAILED)]);
        let mut a = answer::offer_human(answer::NO_ANSWER_WITH_DATA_TEXT, reason::NO_ANSWER, 0.1);
        settle_failures(&mut a, true, false);
        assert_eq!(a.text, answer::FAILURE_TEXT);

        let mut a = answer::offer_human("Here is the article.", reason::USER_REQUESTED, 0.8);
        settle_failures(&mut a, false, false);
        assert_eq!(a.actions, vec![offer(reason::USER_REQUESTED)]);
        settle_failures(&mut a, false, true);
        assert_eq!(a.actions, vec![offer(reason::ENGINE_FAILED)]);
    }

    #[test]
    fn a_person_asked_for_comes_before_a_hand_over_and_an_unsure_answer() {
        let asked = [offer(reason::USER_REQUESTED)];
        assert_eq!(
            escalation_reason(&asked, Some("file_bug"), true),
            Some(reason::USER_REQUESTED)
        );
        let team = [offer(reason::NEEDS_TEAM)];
        assert_eq!(
            escalation_reason(&team, None, false),
            Some(reason::NEEDS_TEAM)
        );
        let nothing = [offer(reason::NO_ANSWER)];
        assert_eq!(
            escalation_reason(&nothing, Some("file_bug"), true),
            Some("file_bug")
        );
        assert_eq!(
            escalation_reason(&nothing, None, true),
            Some(reason::LOW_CONFIDENCE)
        );
        assert_eq!(escalation_reason(&nothing, None, false), None);
    }

    #[test]
    fn unsure_needs_a_threshold_and_is_never_small_talk() {
        assert!(unsure(0.5, 0.3, "my export is broken"));
        assert!(!unsure(0.0, 0.3, "my export is broken"));
        assert!(!unsure(0.5, 0.6, "my export is broken"));
        assert!(!unsure(0.5, 0.0, "thanks!"));
    }

    #[test]
    fn nothing_found_alone_does_not_wait_for_a_person() {
        assert!(!needs_human(&[offer(reason::NO_ANSWER)]));
        assert!(needs_human(&[offer(reason::ENGINE_FAILED)]));
        assert!(!needs_human(&[]));
    }
}
