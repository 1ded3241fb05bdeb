//! What a live session may receive. Rooms decide where an event goes; the grant is checked again
//! as each frame leaves, so an event that reaches a session it was not meant for (a race with an
//! access check, a slip in room bookkeeping) is dropped instead of shown.

use tidings_domain::CompanyId;

use crate::realtime::event::{Frame, Participant};
use crate::realtime::follow::Followed;

/// The company of a session and whether it may hear all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    company_id: CompanyId,
    whole_company: bool,
}

impl Grant {
    /// Agents may hear every conversation of their company; contacts only the conversations their
    /// session was granted after an access check (the ones it follows).
    pub fn of(company_id: CompanyId, participant: Participant) -> Self {
        Self { company_id, whole_company: matches!(participant, Participant::Agent(_)) }
    }

    /// Whether the session may be sent `frame`, given the conversations it follows.
    pub fn admits(&self, frame: &Frame, followed: &Followed) -> bool {
        if frame.company_id != self.company_id {
            return false;
        }
        match frame.conversation_id {
            None => self.whole_company,
            Some(conversation_id) => self.whole_company || followed.follows(conversation_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use tidings_domain::{ContactId, ConversationId, Direction, MessageStatus, UserId};

    use super::*;
    use crate::realtime::event::{PresenceStatus, ServerEvent};

    fn status(company: CompanyId, conversation: ConversationId) -> Frame {
        let event = ServerEvent::MessageStatus {
            conversation_id: conversation,
            position: 1,
            direction: Direction::Inbound,
            status: MessageStatus::Read,
            up_to_sequence: 1,
        };
        Frame::new(company, event)
    }

    #[test]
    fn sessions_hear_only_what_they_were_granted() {
        let (acme, globex) = (CompanyId::new(), CompanyId::new());
        let (mine, theirs) = (ConversationId::new(), ConversationId::new());
        let mut followed = Followed::default();
        followed.follow(mine, 0, 0);
        let agent = Grant::of(acme, Participant::Agent(UserId::new()));
        let contact = Grant::of(acme, Participant::Contact(ContactId::new()));
        let presence = Frame::new(
            acme,
            ServerEvent::Presence {
                participant: Participant::Agent(UserId::new()),
                status: PresenceStatus::Online,
                last_seen_at: chrono::Utc::now(),
            },
        );

        assert!(agent.admits(&status(acme, theirs), &Followed::default()));
        assert!(agent.admits(&presence, &Followed::default()));
        assert!(!agent.admits(&status(globex, theirs), &followed), "never another company's");
        assert!(contact.admits(&status(acme, mine), &followed));
        assert!(!contact.admits(&status(acme, theirs), &followed), "not a conversation it follows");
        assert!(!contact.admits(&presence, &followed), "company-wide events are for agents");
    }
}
