//! One live session, whatever door the client came through: what it may hear, the conversations it
//! follows, gapless replay, typing. Doors (the native WebSocket protocol, Socket.IO) only frame:
//! they turn client frames into [`Intent`]s and send the [`Outbound`] items the session yields
//! through their [`Outlet`].

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use tidings_domain::{Caller, ChangeCursor, CompanyId, ConversationId};

use crate::Messaging;
use crate::error::{MessagingError, MessagingResult};
use crate::feed::Changed;
use crate::realtime::event::{Frame, Participant, Room};
use crate::realtime::follow::{Followed, Step};
use crate::realtime::grant::Grant;
use crate::realtime::hub::{Hub, SessionHandle, SessionId};

/// Feed entries read from the store per page while replaying.
const REPLAY_PAGE: i64 = 200;

/// What a client asks of its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Follow a conversation from now on.
    Subscribe {
        /// Which.
        conversation_id: ConversationId,
    },
    /// Follow a conversation, first receiving every change the client does not have.
    Resume {
        /// Which.
        conversation_id: ConversationId,
        /// What the client has.
        from: ResumeFrom,
    },
    /// Stop following.
    Unsubscribe {
        /// Which.
        conversation_id: ConversationId,
    },
    /// Started (`true`) or stopped typing.
    Typing {
        /// Where.
        conversation_id: ConversationId,
        /// Started or stopped.
        start: bool,
    },
    /// Agents: which conversations of the company changed after a cursor (see [`crate::Feed::changed`]).
    Sync {
        /// Where the previous catch-up ended; `None` for every conversation.
        changed_after: Option<ChangeCursor>,
        /// Most conversations in the answer.
        limit: i64,
    },
}

/// What a resuming client already has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeFrom {
    /// Every change up to this feed position: it is sent every change after it.
    Position(i64),
    /// Every message up to this sequence (clients that know no positions): it is sent every change
    /// after that message's creation.
    Sequence(i64),
}

/// What the session sends the client, for the door to encode.
#[derive(Debug)]
pub enum Outbound {
    /// A live or replayed event (replays are the feed's changes, as live events).
    Event(Arc<Frame>),
    /// Now following, from `last_position` on.
    Subscribed {
        /// Which.
        conversation_id: ConversationId,
        /// The conversation's last sequence when the session started following it.
        last_sequence: i64,
        /// The conversation's last feed position then.
        last_position: i64,
    },
    /// The replay of a resume is complete.
    Resumed {
        /// Which.
        conversation_id: ConversationId,
        /// The highest message sequence the client now has.
        replayed_to: i64,
        /// The position of the last change the client now has.
        position: i64,
    },
    /// The answer to a [`Intent::Sync`].
    Changed(MessagingResult<Changed>),
    /// Agents: inbox events of conversations the session does not follow may have been missed (the
    /// bus to the other nodes was cut): catch up with a sync from the client's last cursor.
    InboxStale,
    /// No longer following.
    Unsubscribed {
        /// Which.
        conversation_id: ConversationId,
    },
    /// Typing needs a subscription first.
    NotSubscribed {
        /// Where the client tried to type.
        conversation_id: ConversationId,
    },
    /// An intent was refused (no such conversation, the store could not answer, ...).
    Refused {
        /// The conversation concerned.
        conversation_id: ConversationId,
        /// Why, for the door to map through the API's one error mapping.
        error: MessagingError,
    },
}

/// The client could not take what was sent: it is gone, or too slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gone;

/// Why a session cannot go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The client is gone or too slow: it reconnects and resumes.
    Gone,
    /// A replay could not read the store (the client was told): it reconnects and resumes.
    ReplayFailed,
}

impl From<Gone> for Stop {
    fn from(_: Gone) -> Self {
        Stop::Gone
    }
}

/// Where a session's outbound items go: a door's framing and socket.
pub trait Outlet {
    /// Sends one item, in order; `Err(Gone)` when the client does not take it in time.
    fn send(&mut self, item: Outbound) -> impl Future<Output = Result<(), Gone>>;
}

/// Why a session could not open.
#[derive(Debug)]
pub enum Refusal {
    /// The caller may not hold a live session (a server key), or resolving it failed.
    Caller(MessagingError),
    /// The server is stopping.
    ShuttingDown,
}

/// A live session of one client; registered in the hub while it exists.
pub struct LiveSession {
    // Shared: a session lives as long as its connection, and a copy per session would cost every
    // idle connection the whole service's size.
    messaging: Arc<Messaging>,
    hub: Arc<Hub>,
    caller: Caller,
    id: SessionId,
    company_id: CompanyId,
    participant: Participant,
    grant: Grant,
    followed: Followed,
}

impl LiveSession {
    /// Opens a session for `caller` (registering an SDK device on first contact), whose access
    /// token lapses at `lapses_at` (`None`: an API key); the handle carries the hub's frames and
    /// signals for it.
    pub async fn open(
        messaging: Arc<Messaging>,
        hub: Arc<Hub>,
        caller: Caller,
        lapses_at: Option<DateTime<Utc>>,
    ) -> Result<(LiveSession, SessionHandle), Refusal> {
        let actor = messaging.actor(&caller).await.map_err(Refusal::Caller)?;
        let (company_id, participant) = (actor.company_id(), actor.participant());
        let handle = hub.connect(company_id, participant).ok_or(Refusal::ShuttingDown)?;
        hub.lapses_at(handle.id, lapses_at);
        let session = LiveSession {
            messaging,
            hub,
            caller,
            id: handle.id,
            company_id,
            participant,
            grant: Grant::of(company_id, participant),
            followed: Followed::default(),
        };
        Ok((session, handle))
    }

    /// The session id on this node.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Who the session is, as typing and presence show it.
    pub fn participant(&self) -> Participant {
        self.participant
    }

    /// The caller whose rights the session has.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Replaces the caller after a renewal of the same principal's credentials (a fresh token
    /// that lapses at `lapses_at`).
    pub fn renew(&mut self, caller: Caller, lapses_at: Option<DateTime<Utc>>) {
        self.caller = caller;
        self.hub.lapses_at(self.id, lapses_at);
    }

    /// Passes a frame from the hub on, in order and once for followed conversations, and only when
    /// the session was granted what it is about.
    pub async fn deliver<O: Outlet>(&mut self, frame: Arc<Frame>, out: &mut O) -> Result<(), Stop> {
        if !self.grant.admits(&frame, &self.followed) {
            tracing::warn!(session = self.id, conversation = ?frame.conversation_id, "dropped an event the session was not granted");
            return Ok(());
        }
        let Some((conversation_id, position)) = frame.position else {
            return Ok(out.send(Outbound::Event(frame)).await?);
        };
        let new_sequence = frame.event.new_sequence();
        match self.followed.step(conversation_id, position) {
            Step::Pass => Ok(out.send(Outbound::Event(frame)).await?),
            Step::Skip => Ok(()),
            Step::Send => {
                out.send(Outbound::Event(frame)).await?;
                self.followed.sent(conversation_id, position, new_sequence);
                Ok(())
            }
            Step::Fill { after } => {
                // Boxed: a replay's future is large and rare, and every session's task would
                // otherwise carry room for it.
                Box::pin(self.replay(conversation_id, after, Some(position - 1), out)).await?;
                out.send(Outbound::Event(frame)).await?;
                self.followed.sent(conversation_id, position, new_sequence);
                Ok(())
            }
        }
    }

    /// Carries out a client's intent.
    pub async fn handle<O: Outlet>(&mut self, intent: Intent, out: &mut O) -> Result<(), Stop> {
        match intent {
            Intent::Subscribe { conversation_id } => self.follow(conversation_id, None, out).await,
            Intent::Resume { conversation_id, from } => self.follow(conversation_id, Some(from), out).await,
            Intent::Unsubscribe { conversation_id } => {
                self.followed.unfollow(conversation_id);
                self.hub.leave(self.id, Room::Conversation(conversation_id));
                Ok(out.send(Outbound::Unsubscribed { conversation_id }).await?)
            }
            Intent::Typing { conversation_id, start } => {
                if !self.followed.follows(conversation_id) {
                    return Ok(out.send(Outbound::NotSubscribed { conversation_id }).await?);
                }
                self.hub.typing(self.id, self.company_id, conversation_id, self.participant, start);
                Ok(())
            }
            Intent::Sync { changed_after, limit } => {
                let answer = match &self.caller {
                    Caller::User(agent) => self.messaging.feed.changed(agent, changed_after, limit).await,
                    _ => Err(MessagingError::Forbidden("only agents catch up on the inbox")),
                };
                Ok(out.send(Outbound::Changed(answer)).await?)
            }
        }
    }

    /// Sends the changes of the followed conversations after what the client was sent, in order and
    /// once: events may have been missed while the bus to the other nodes was cut. Agents are then
    /// told to catch up on the rest of their inbox.
    pub async fn catch_up<O: Outlet>(&mut self, out: &mut O) -> Result<(), Stop> {
        for (conversation_id, position) in self.followed.positions() {
            Box::pin(self.replay(conversation_id, position, None, out)).await?;
        }
        if matches!(self.participant, Participant::Agent(_)) {
            out.send(Outbound::InboxStale).await?;
        }
        Ok(())
    }

    /// Follows the SDK device's own open conversation (opened if it has none), as Socket.IO SDKs
    /// expect on connect; agents follow nothing by themselves.
    pub async fn follow_own_conversation<O: Outlet>(&mut self, out: &mut O) -> Result<(), Stop> {
        let Caller::Client(client) = &self.caller else { return Ok(()) };
        match self.messaging.conversations.open_for_device(client).await {
            Ok(conversation) => self.follow(conversation.id, None, out).await,
            Err(error) => {
                tracing::warn!(session = self.id, error = %tidings_domain::ErrorChain(&error), "could not open the device's conversation on connect");
                Ok(())
            }
        }
    }

    /// Checks access first and joins the conversation's room only then, so that a refused session
    /// is never in it; then reads the position, so that no change falls between the two: anything
    /// committed later arrives live, anything earlier is in the feed.
    async fn follow<O: Outlet>(
        &mut self,
        conversation_id: ConversationId,
        from: Option<ResumeFrom>,
        out: &mut O,
    ) -> Result<(), Stop> {
        let conversations = &self.messaging.conversations;
        if let Err(error) = conversations.get(&self.caller, conversation_id).await {
            return Ok(out.send(Outbound::Refused { conversation_id, error }).await?);
        }
        let room = Room::Conversation(conversation_id);
        self.hub.join(self.id, room);
        let conversation = match conversations.get(&self.caller, conversation_id).await {
            Ok(summary) => summary.conversation,
            Err(error) => {
                self.hub.leave(self.id, room);
                return Ok(out.send(Outbound::Refused { conversation_id, error }).await?);
            }
        };
        let (last_sequence, last_position) = (conversation.last_sequence, conversation.last_position);
        let after = match from {
            None => {
                self.followed.follow(conversation_id, last_position, last_sequence);
                return Ok(out
                    .send(Outbound::Subscribed { conversation_id, last_sequence, last_position })
                    .await?);
            }
            Some(ResumeFrom::Position(position)) => Ok(position.clamp(0, last_position)),
            Some(ResumeFrom::Sequence(sequence)) => {
                self.messaging.feed.position_of_sequence(&self.caller, conversation_id, sequence).await
            }
        };
        let after = match after {
            Ok(after) => after,
            Err(error) => {
                self.hub.leave(self.id, room);
                return Ok(out.send(Outbound::Refused { conversation_id, error }).await?);
            }
        };
        // The replay reaches at least `last_position`, so the client then has every message up to
        // `last_sequence`.
        self.followed.follow(conversation_id, after, last_sequence);
        Box::pin(self.replay(conversation_id, after, None, out)).await?;
        let position = self.followed.position(conversation_id).unwrap_or(after);
        let replayed_to = self.followed.sequence(conversation_id).unwrap_or(last_sequence);
        Ok(out.send(Outbound::Resumed { conversation_id, replayed_to, position }).await?)
    }

    /// Sends the feed's changes after `after` (up to `until`), oldest first.
    async fn replay<O: Outlet>(
        &mut self,
        conversation_id: ConversationId,
        after: i64,
        until: Option<i64>,
        out: &mut O,
    ) -> Result<(), Stop> {
        let mut last = after;
        loop {
            let page =
                match self.messaging.feed.events(&self.caller, conversation_id, last, REPLAY_PAGE).await {
                    Ok(page) => page.events,
                    Err(error) => {
                        out.send(Outbound::Refused { conversation_id, error }).await?;
                        return Err(Stop::ReplayFailed);
                    }
                };
            let full = page.len() as i64 == REPLAY_PAGE;
            for event in page {
                let Some((_, position)) = event.position() else { continue };
                if until.is_some_and(|u| position > u) {
                    return Ok(());
                }
                last = position;
                let new_sequence = event.new_sequence();
                out.send(Outbound::Event(Arc::new(Frame::new(self.company_id, event)))).await?;
                self.followed.sent(conversation_id, position, new_sequence);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.hub.disconnect(self.id);
    }
}
