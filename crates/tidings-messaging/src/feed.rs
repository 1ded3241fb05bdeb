//! The change feed as clients read it: a conversation's changes since a position (what a client that
//! was away missed: new messages, edits, deletions, receipts, status and assignee changes), and the
//! conversations of a company that changed since a cursor (what an inbox that was away must reload).

use std::sync::Arc;
use std::time::Duration;

use tidings_domain::{Caller, ChangeCursor, ConversationId, Principal};

use crate::actor::Actor;
use crate::attachments::Attachments;
use crate::conversations::{ConversationSummary, summaries, visible};
use crate::error::{MessagingError, MessagingResult};
use crate::realtime::ServerEvent;
use crate::repos::MessagingRepos;

/// How long after its change time a change may still become visible. A change is stamped when it
/// takes its conversation's lock and is visible at commit, a few milliseconds later; a catch-up cursor
/// never moves closer to the store's clock than this, so a slow commit is not skipped, and the
/// conversations changed within it come again on the next catch-up (their `last_position` tells
/// the client whether anything is new).
pub const SETTLE: Duration = Duration::from_secs(10);

/// A page of a conversation's feed.
#[derive(Clone, Debug)]
pub struct FeedPage {
    /// The changes after the requested position, oldest first, as live events (with their position).
    pub events: Vec<ServerEvent>,
    /// The conversation's newest position when the page was read.
    pub last_position: i64,
}

/// Conversations that changed since a cursor.
#[derive(Clone, Debug)]
pub struct Changed {
    /// The conversations, oldest change first, as they are now.
    pub conversations: Vec<ConversationSummary>,
    /// Where the next catch-up starts.
    pub next: ChangeCursor,
    /// True when more changed conversations wait: ask again at once with `next`.
    pub has_more: bool,
}

/// Reading conversations' feeds.
#[derive(Clone)]
pub struct Feed {
    repos: Arc<dyn MessagingRepos>,
    attachments: Option<Attachments>,
}

impl Feed {
    /// Builds the service over `repos`.
    pub fn new(repos: Arc<dyn MessagingRepos>) -> Self {
        Self { repos, attachments: None }
    }

    /// Links the files of the messages in the feed.
    pub fn with_attachments(mut self, attachments: Attachments) -> Self {
        self.attachments = Some(attachments);
        self
    }

    /// The changes of a conversation the caller may see after position `after`, oldest first.
    pub async fn events(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        after: i64,
        limit: i64,
    ) -> MessagingResult<FeedPage> {
        if after < 0 {
            return Err(MessagingError::Invalid("after", "must be 0 or more".into()));
        }
        let actor = Actor::find(&*self.repos, caller).await?;
        let conversation = visible(&*self.repos, &actor, conversation_id).await?;
        let entries = self.repos.feed_after(conversation.company_id, conversation_id, after, limit).await?;
        // Read after the conversation: a change recorded in between is in the page, and newer
        // than `last_position`; the conversation it shows is the one read here.
        let events = entries
            .into_iter()
            .map(|e| ServerEvent::of_change(e, &conversation))
            .map(|e| match &self.attachments {
                Some(attachments) => attachments.event(e),
                None => e,
            })
            .collect();
        Ok(FeedPage { events, last_position: conversation.last_position })
    }

    /// The feed position that follows the messages up to `sequence` of a conversation the caller
    /// may see: where a client that resumes by message sequence resumes the feed.
    pub async fn position_of_sequence(
        &self,
        caller: &Caller,
        conversation_id: ConversationId,
        sequence: i64,
    ) -> MessagingResult<i64> {
        let actor = Actor::find(&*self.repos, caller).await?;
        let conversation = visible(&*self.repos, &actor, conversation_id).await?;
        let sequence = sequence.max(0);
        Ok(self.repos.position_of_sequence(conversation.company_id, conversation_id, sequence).await?)
    }

    /// The agent's company's conversations changed after `after` (every conversation when `None`),
    /// oldest change first, with unread counts.
    pub async fn changed(
        &self,
        agent: &Principal,
        after: Option<ChangeCursor>,
        limit: i64,
    ) -> MessagingResult<Changed> {
        let page = self.repos.changed_conversations(agent.company_id, after, limit).await?;
        let has_more = page.conversations.len() as i64 == limit;
        let last =
            page.conversations.last().map(|c| ChangeCursor { changed_at: c.changed_at, id: Some(c.id) });
        let settled = ChangeCursor { changed_at: page.clock - SETTLE, id: None };
        let next = match last {
            // More wait right after this page: carry on from its last conversation.
            Some(last) if has_more => last,
            // Caught up: never beyond the settle horizon, never back before where the caller was.
            Some(last) => later(after, earlier(last, settled)),
            None => after.unwrap_or(settled),
        };
        let conversations = summaries(&*self.repos, agent.company_id, page.conversations).await?;
        Ok(Changed { conversations, next, has_more })
    }

    /// A cursor from which a catch-up returns every conversation that changes from now on (and
    /// those of the last few seconds): for an inbox that just loaded its lists.
    pub async fn cursor_now(&self) -> MessagingResult<ChangeCursor> {
        let clock = self.repos.feed_clock().await?;
        Ok(ChangeCursor { changed_at: clock - SETTLE, id: None })
    }
}

/// Cursors order by time, then id; a cursor without an id comes before every conversation of its time.
fn key(c: ChangeCursor) -> (chrono::DateTime<chrono::Utc>, Option<ConversationId>) {
    (c.changed_at, c.id)
}

fn earlier(a: ChangeCursor, b: ChangeCursor) -> ChangeCursor {
    if key(a) <= key(b) { a } else { b }
}

fn later(a: Option<ChangeCursor>, b: ChangeCursor) -> ChangeCursor {
    match a {
        Some(a) if key(a) > key(b) => a,
        _ => b,
    }
}
