//! Ordering and de-duplication of live messages for one session. For each conversation the session
//! follows, it remembers the last sequence sent; a live message is sent only when it is the next one,
//! dropped when it was already sent (by a replay), and preceded by the missing ones (read from the
//! store) when it comes early, as it can when two senders' events are published out of order.

use std::collections::HashMap;

use tidings_domain::ConversationId;

/// What to do with a live `message.new`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Not a followed conversation: pass it on as it is.
    Pass,
    /// Already sent: drop it.
    Skip,
    /// The next one: send it.
    Send,
    /// Messages after `after` and before this one are missing: send those from the store first.
    Fill {
        /// The last sequence sent.
        after: i64,
    },
}

/// The conversations a session follows and the last sequence sent in each.
#[derive(Debug, Default)]
pub struct Followed {
    last_sent: HashMap<ConversationId, i64>,
}

impl Followed {
    /// Starts following a conversation whose messages up to `sequence` the client has (or needs not).
    pub fn follow(&mut self, conversation_id: ConversationId, sequence: i64) {
        self.last_sent.insert(conversation_id, sequence);
    }

    /// Stops following.
    pub fn unfollow(&mut self, conversation_id: ConversationId) {
        self.last_sent.remove(&conversation_id);
    }

    /// The last sequence sent in a followed conversation.
    pub fn position(&self, conversation_id: ConversationId) -> Option<i64> {
        self.last_sent.get(&conversation_id).copied()
    }

    /// Every followed conversation with the last sequence sent in it.
    pub fn positions(&self) -> Vec<(ConversationId, i64)> {
        self.last_sent.iter().map(|(id, last)| (*id, *last)).collect()
    }

    /// Whether the conversation is followed.
    pub fn follows(&self, conversation_id: ConversationId) -> bool {
        self.last_sent.contains_key(&conversation_id)
    }

    /// Decides about a live message.
    pub fn step(&self, conversation_id: ConversationId, sequence: i64) -> Step {
        match self.last_sent.get(&conversation_id) {
            None => Step::Pass,
            Some(&last) if sequence <= last => Step::Skip,
            Some(&last) if sequence == last + 1 => Step::Send,
            Some(&last) => Step::Fill { after: last },
        }
    }

    /// Records that a message was sent.
    pub fn sent(&mut self, conversation_id: ConversationId, sequence: i64) {
        if let Some(last) = self.last_sent.get_mut(&conversation_id) {
            *last = (*last).max(sequence);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_messages_are_sent_once_in_order() {
        let (a, b) = (ConversationId::new(), ConversationId::new());
        let mut f = Followed::default();
        assert_eq!(f.step(a, 1), Step::Pass);
        f.follow(a, 3);
        assert_eq!(f.step(a, 2), Step::Skip);
        assert_eq!(f.step(a, 4), Step::Send);
        assert_eq!(f.step(a, 6), Step::Fill { after: 3 });
        f.sent(a, 6);
        assert_eq!(f.step(a, 5), Step::Skip, "the early one's predecessor arrives late and is dropped");
        f.sent(a, 2);
        assert_eq!(f.step(a, 7), Step::Send, "the position never moves back");
        assert_eq!(f.step(b, 1), Step::Pass);
        f.unfollow(a);
        assert!(!f.follows(a));
    }
}
