//! Ordering and de-duplication of live changes for one session. For each conversation the session
//! follows, it remembers the feed position of the last change sent; a live change is sent only when
//! it is the next one, dropped when it was already sent (by a replay), and preceded by the missing
//! ones (read from the feed) when it comes early, as it can when two writers' events are published
//! out of order or the bus to the other nodes dropped some.

use std::collections::HashMap;

use tidings_domain::ConversationId;

/// What to do with a live change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Not a followed conversation: pass it on as it is.
    Pass,
    /// Already sent: drop it.
    Skip,
    /// The next one: send it.
    Send,
    /// Changes after `after` and before this one are missing: send those from the feed first.
    Fill {
        /// The last position sent.
        after: i64,
    },
}

/// Where a followed conversation stands for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Mark {
    /// Feed position of the last change sent.
    position: i64,
    /// Highest message sequence the client has.
    sequence: i64,
}

/// The conversations a session follows and what was sent in each.
#[derive(Debug, Default)]
pub struct Followed {
    marks: HashMap<ConversationId, Mark>,
}

impl Followed {
    /// Starts following a conversation whose changes up to `position`, and messages up to
    /// `sequence`, the client has (or needs not).
    pub fn follow(&mut self, conversation_id: ConversationId, position: i64, sequence: i64) {
        self.marks.insert(conversation_id, Mark { position, sequence });
    }

    /// Stops following.
    pub fn unfollow(&mut self, conversation_id: ConversationId) {
        self.marks.remove(&conversation_id);
    }

    /// The position of the last change sent in a followed conversation.
    pub fn position(&self, conversation_id: ConversationId) -> Option<i64> {
        self.marks.get(&conversation_id).map(|m| m.position)
    }

    /// The highest message sequence the client has in a followed conversation.
    pub fn sequence(&self, conversation_id: ConversationId) -> Option<i64> {
        self.marks.get(&conversation_id).map(|m| m.sequence)
    }

    /// Every followed conversation with the position of the last change sent in it.
    pub fn positions(&self) -> Vec<(ConversationId, i64)> {
        self.marks.iter().map(|(id, mark)| (*id, mark.position)).collect()
    }

    /// Whether the conversation is followed.
    pub fn follows(&self, conversation_id: ConversationId) -> bool {
        self.marks.contains_key(&conversation_id)
    }

    /// Decides about a live change at `position`.
    pub fn step(&self, conversation_id: ConversationId, position: i64) -> Step {
        match self.marks.get(&conversation_id) {
            None => Step::Pass,
            Some(mark) if position <= mark.position => Step::Skip,
            Some(mark) if position == mark.position + 1 => Step::Send,
            Some(mark) => Step::Fill { after: mark.position },
        }
    }

    /// Records that the change at `position` was sent; `new_sequence` is the sequence of the message
    /// it stored, if it stored one.
    pub fn sent(&mut self, conversation_id: ConversationId, position: i64, new_sequence: Option<i64>) {
        if let Some(mark) = self.marks.get_mut(&conversation_id) {
            mark.position = mark.position.max(position);
            if let Some(sequence) = new_sequence {
                mark.sequence = mark.sequence.max(sequence);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_changes_are_sent_once_in_order() {
        let (a, b) = (ConversationId::new(), ConversationId::new());
        let mut f = Followed::default();
        assert_eq!(f.step(a, 1), Step::Pass);
        f.follow(a, 3, 2);
        assert_eq!(f.step(a, 2), Step::Skip);
        assert_eq!(f.step(a, 4), Step::Send);
        assert_eq!(f.step(a, 6), Step::Fill { after: 3 });
        f.sent(a, 6, Some(4));
        assert_eq!(f.step(a, 5), Step::Skip, "the early one's predecessor arrives late and is dropped");
        f.sent(a, 2, Some(1));
        assert_eq!(f.step(a, 7), Step::Send, "the position never moves back");
        assert_eq!(f.sequence(a), Some(4), "nor the sequence");
        assert_eq!(f.step(b, 1), Step::Pass);
        f.unfollow(a);
        assert!(!f.follows(a));
    }
}
