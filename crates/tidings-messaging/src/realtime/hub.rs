//! The hub: live sessions, the rooms they are in, presence and typing, on one node.
//!
//! The hub also keeps each session's clock: it asks the session to check its credentials again
//! every re-check interval, and tells it when its access token lapses. One timer for every session
//! rather than two or three per connection: an idle connection then holds no timer of its own.
//!
//! Each session has a bounded queue. Delivery never waits: a session whose queue is full is a slow
//! consumer and is closed (it resumes from its last sequence), so memory stays bounded whatever the
//! clients do. Locks are held only for map updates, never across an await.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tidings_domain::{CompanyId, ConversationId};

use crate::realtime::event::{
    Envelope, Frame, NodeId, Participant, PresenceStatus, Room, ServerEvent, TypingState,
};
use crate::realtime::presence::{LocalPresence, Presence};
use crate::realtime::queue::{self, Signal};

/// Identifies a session on this node.
pub type SessionId = u64;

/// Why the hub closes a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseCause {
    /// Its queue overflowed: it did not read fast enough.
    SlowConsumer,
    /// The server is stopping.
    Shutdown,
}

/// Sizes and timers of the hub.
#[derive(Clone, Copy, Debug)]
pub struct HubSettings {
    /// Frames queued per session before it counts as a slow consumer.
    pub queue_capacity: usize,
    /// A typing indicator without refresh stops after this long.
    pub typing_ttl: Duration,
    /// How often each session is asked to check its credentials again.
    pub recheck_interval: Duration,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 256,
            typing_ttl: Duration::from_secs(5),
            recheck_interval: Duration::from_secs(60),
        }
    }
}

impl HubSettings {
    /// How often the hub's timer runs: every second, or more often for a shorter re-check.
    pub fn tick(&self) -> Duration {
        self.recheck().min(Duration::from_secs(1))
    }

    /// The re-check interval, never shorter than 10 ms (a zero one would be due for ever).
    fn recheck(&self) -> Duration {
        self.recheck_interval.max(Duration::from_millis(10))
    }
}

/// What a connection gets from the hub: its id, and its queue of frames and signals.
pub struct SessionHandle {
    /// The session id.
    pub id: SessionId,
    /// Frames to send, in order, and what else the hub asks of the session (close, re-check
    /// credentials, catch up).
    pub queue: queue::Receiver<Arc<Frame>>,
}

struct Session {
    company_id: CompanyId,
    participant: Participant,
    queue: queue::Sender<Arc<Frame>>,
    rooms: HashSet<Room>,
    /// When to ask the session to check its credentials again.
    recheck_at: Instant,
    /// When the session's access token lapses, if it has one.
    lapses_at: Option<Instant>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<SessionId, Session>,
    rooms: HashMap<Room, HashSet<SessionId>>,
    typing: HashMap<(ConversationId, Participant), (CompanyId, Instant)>,
    /// When sessions are due for a re-check or their token lapses, soonest first, so that the
    /// timer touches only those due rather than every session. An entry made stale by a renewal
    /// or a disconnection is dropped when it comes up.
    clock: BinaryHeap<Reverse<(Instant, SessionId)>>,
    stopping: bool,
}

/// Live sessions and rooms of this node.
pub struct Hub {
    state: Mutex<State>,
    settings: HubSettings,
    next_id: AtomicU64,
    node: NodeId,
    presence: Arc<dyn Presence>,
}

impl Hub {
    /// A hub with no session, counting presence in this process.
    pub fn new(settings: HubSettings) -> Arc<Hub> {
        Hub::with_presence(settings, NodeId::new(), Arc::new(LocalPresence::default()))
    }

    /// A hub of node `node` whose presence is counted by `presence` (shared by every node, or not).
    pub fn with_presence(settings: HubSettings, node: NodeId, presence: Arc<dyn Presence>) -> Arc<Hub> {
        Arc::new(Hub {
            state: Mutex::new(State::default()),
            settings,
            next_id: AtomicU64::new(1),
            node,
            presence,
        })
    }

    /// This node's id, which envelopes carry so that session ids keep their meaning.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Who counts as online.
    pub fn presence(&self) -> &Arc<dyn Presence> {
        &self.presence
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a harmful way.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a connection. Agents join their company's room. Returns `None` while stopping.
    pub fn connect(&self, company_id: CompanyId, participant: Participant) -> Option<SessionHandle> {
        let (sender, queue) = queue::bounded(self.settings.queue_capacity);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut state = self.lock();
        if state.stopping {
            return None;
        }
        let recheck_at = Instant::now() + self.settings.recheck();
        let session = Session {
            company_id,
            participant,
            queue: sender,
            rooms: HashSet::new(),
            recheck_at,
            lapses_at: None,
        };
        state.sessions.insert(id, session);
        state.clock.push(Reverse((recheck_at, id)));
        if matches!(participant, Participant::Agent(_)) {
            join(&mut state, id, Room::Company(company_id));
        }
        let now = Utc::now();
        if self.presence.connected(company_id, participant, now) {
            let event =
                ServerEvent::Presence { participant, status: PresenceStatus::Online, last_seen_at: now };
            deliver(&mut state, &[Room::Company(company_id)], Frame::new(company_id, event), Some(id));
        }
        Some(SessionHandle { id, queue })
    }

    /// Sets when a session's access token lapses (`None`: it has none); the hub signals
    /// [`Signal::Expired`] to it then.
    pub fn lapses_at(&self, id: SessionId, at: Option<DateTime<Utc>>) {
        let at = at.map(|at| Instant::now() + (at - Utc::now()).to_std().unwrap_or_default());
        let mut state = self.lock();
        let Some(session) = state.sessions.get_mut(&id) else { return };
        session.lapses_at = at;
        if let Some(at) = at {
            state.clock.push(Reverse((at, id)));
        }
    }

    /// Removes a connection from every room; the last connection of a participant makes them offline.
    pub fn disconnect(&self, id: SessionId) {
        let mut state = self.lock();
        let Some(session) = remove(&mut state, id) else { return };
        let now = Utc::now();
        if self.presence.disconnected(session.company_id, session.participant, now) {
            let event = ServerEvent::Presence {
                participant: session.participant,
                status: PresenceStatus::Offline,
                last_seen_at: now,
            };
            deliver(
                &mut state,
                &[Room::Company(session.company_id)],
                Frame::new(session.company_id, event),
                None,
            );
        }
    }

    /// Adds a session to a room.
    pub fn join(&self, id: SessionId, room: Room) {
        join(&mut self.lock(), id, room);
    }

    /// Takes a session out of a room.
    pub fn leave(&self, id: SessionId, room: Room) {
        let mut state = self.lock();
        if let Some(session) = state.sessions.get_mut(&id) {
            session.rooms.remove(&room);
        }
        if let Some(members) = state.rooms.get_mut(&room) {
            members.remove(&id);
            if members.is_empty() {
                state.rooms.remove(&room);
            }
        }
    }

    /// Delivers an envelope to the sessions of its rooms on this node, each once.
    pub fn dispatch(&self, envelope: Envelope) {
        let except = envelope.except.and_then(|(node, session)| (node == self.node).then_some(session));
        let frame = Frame::new(envelope.company_id, envelope.event);
        deliver(&mut self.lock(), &envelope.rooms, frame, except);
    }

    /// Records that `participant` types (or stopped typing) in a conversation, and tells the others
    /// when that changes. A start must be refreshed within the typing timeout or it stops by itself.
    pub fn typing(
        &self,
        session: SessionId,
        company_id: CompanyId,
        conversation_id: ConversationId,
        participant: Participant,
        start: bool,
    ) {
        let mut state = self.lock();
        let key = (conversation_id, participant);
        let changed = if start {
            let deadline = Instant::now() + self.settings.typing_ttl;
            state.typing.insert(key, (company_id, deadline)).is_none()
        } else {
            state.typing.remove(&key).is_some()
        };
        if changed {
            let state_now = if start { TypingState::Start } else { TypingState::Stop };
            let event = ServerEvent::Typing { conversation_id, participant, state: state_now };
            let rooms = [Room::Conversation(conversation_id), Room::Company(company_id)];
            deliver(&mut state, &rooms, Frame::new(company_id, event), Some(session));
        }
    }

    /// Stops typing indicators that were not refreshed in time; call it about once a second.
    pub fn expire_typing(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        let expired: Vec<_> = state
            .typing
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now)
            .map(|(k, (c, _))| (*k, *c))
            .collect();
        for ((conversation_id, participant), company_id) in expired {
            state.typing.remove(&(conversation_id, participant));
            let event = ServerEvent::Typing { conversation_id, participant, state: TypingState::Stop };
            let rooms = [Room::Conversation(conversation_id), Room::Company(company_id)];
            deliver(&mut state, &rooms, Frame::new(company_id, event), None);
        }
    }

    /// Signals the sessions whose credentials are due for a check or whose access token lapsed.
    pub fn signal_due_sessions(&self) {
        let mut state = self.lock();
        let state = &mut *state;
        let now = Instant::now();
        while let Some(&Reverse((at, id))) = state.clock.peek()
            && at <= now
        {
            state.clock.pop();
            let Some(session) = state.sessions.get_mut(&id) else { continue };
            if session.lapses_at.is_some_and(|at| at <= now) {
                session.lapses_at = None;
                session.queue.signal(Signal::Expired);
            }
            if session.recheck_at <= now {
                session.recheck_at = now + self.settings.recheck();
                state.clock.push(Reverse((session.recheck_at, id)));
                session.queue.signal(Signal::Recheck);
            }
        }
    }

    /// One turn of the hub's timer: typing expiry and the sessions' clocks.
    pub fn tick(&self) {
        self.expire_typing();
        self.signal_due_sessions();
    }

    /// Runs the hub's timer (see [`HubSettings::tick`]) until `stop` turns true.
    pub async fn run_timers(hub: Arc<Hub>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(hub.settings.tick());
        loop {
            tokio::select! {
                _ = tick.tick() => hub.tick(),
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
        }
    }

    /// Runs the hub's timer on the current tokio runtime for as long as the hub lives: for tests
    /// and embedding, where nobody owns background tasks.
    pub fn start_timers(hub: &Arc<Hub>) {
        let weak = Arc::downgrade(hub);
        let period = hub.settings.tick();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tick.tick().await;
                let Some(hub) = weak.upgrade() else { break };
                hub.tick();
            }
        });
    }

    /// Asks every session of a company to check its credentials again (one was withdrawn).
    pub fn recheck(&self, company_id: CompanyId) {
        let state = self.lock();
        for session in state.sessions.values().filter(|s| s.company_id == company_id) {
            // The signal waits in the queue when the session is busy, so it is never lost.
            session.queue.signal(Signal::Recheck);
        }
    }

    /// Asks every session to fill its followed conversations from the store: events may have been
    /// missed while the bus to the other nodes was cut.
    pub fn catch_up_all(&self) {
        let state = self.lock();
        for session in state.sessions.values() {
            session.queue.signal(Signal::CatchUp);
        }
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Refuses new sessions and asks every open one to close; waits until they are gone or `grace`
    /// has passed.
    pub async fn shutdown(&self, grace: Duration) {
        {
            let mut state = self.lock();
            state.stopping = true;
            for session in state.sessions.values() {
                session.queue.close(CloseCause::Shutdown);
            }
        }
        let deadline = Instant::now() + grace;
        while self.session_count() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn join(state: &mut State, id: SessionId, room: Room) {
    let Some(session) = state.sessions.get_mut(&id) else { return };
    session.rooms.insert(room);
    state.rooms.entry(room).or_default().insert(id);
}

fn remove(state: &mut State, id: SessionId) -> Option<Session> {
    let session = state.sessions.remove(&id)?;
    for room in &session.rooms {
        if let Some(members) = state.rooms.get_mut(room) {
            members.remove(&id);
            if members.is_empty() {
                state.rooms.remove(room);
            }
        }
    }
    Some(session)
}

/// Queues `frame` once for every session in `rooms`; closes the sessions whose queue is full.
fn deliver(state: &mut State, rooms: &[Room], frame: Frame, except: Option<SessionId>) {
    let members: Vec<&HashSet<SessionId>> = rooms.iter().filter_map(|room| state.rooms.get(room)).collect();
    // A session in several rooms gets the frame for the first of them only. Checked against the
    // earlier rooms rather than collected into a set: the company room may hold thousands of
    // agents, and this runs for every event.
    let targets = members.iter().enumerate().flat_map(|(i, room)| {
        let earlier = &members[..i];
        room.iter().copied().filter(move |id| !earlier.iter().any(|e| e.contains(id)))
    });
    let frame = Arc::new(frame);
    let (mut delivered, mut slow) = (0_u64, Vec::new());
    for id in targets.filter(|id| Some(*id) != except) {
        let Some(session) = state.sessions.get(&id) else { continue };
        delivered += 1;
        if session.queue.try_send(frame.clone()).is_err() {
            slow.push(id);
        }
    }
    if delivered == 0 {
        return;
    }
    metrics::counter!("tidings_hub_events_total").increment(1);
    metrics::counter!("tidings_hub_deliveries_total").increment(delivered);
    for id in slow {
        // Counted once: a closed session refuses every later frame.
        if let Some(session) = state.sessions.get(&id)
            && session.queue.close(CloseCause::SlowConsumer)
        {
            tracing::info!(session = id, "closing a slow consumer");
            metrics::counter!("tidings_hub_slow_consumers_total").increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use tidings_domain::{ContactId, UserId};

    use futures_util::FutureExt;

    use super::*;
    use crate::realtime::queue::{Next, TryRecvError};

    trait Json {
        fn json(&self) -> String;
    }

    impl Json for Arc<Frame> {
        fn json(&self) -> String {
            serde_json::to_string(&self.event).unwrap()
        }
    }

    fn hub(capacity: usize) -> Arc<Hub> {
        Hub::new(HubSettings {
            queue_capacity: capacity,
            typing_ttl: Duration::from_millis(50),
            recheck_interval: Duration::from_millis(50),
        })
    }

    fn status(company: CompanyId, conversation: ConversationId, n: i64) -> Envelope {
        Envelope::conversation(
            company,
            conversation,
            ServerEvent::MessageStatus {
                conversation_id: conversation,
                position: 1,
                direction: tidings_domain::Direction::Inbound,
                status: tidings_domain::MessageStatus::Read,
                up_to_sequence: n,
            },
        )
    }

    #[tokio::test]
    async fn a_session_in_two_rooms_gets_an_event_once_and_strangers_none() {
        let hub = hub(16);
        let (acme, globex, conv) = (CompanyId::new(), CompanyId::new(), ConversationId::new());
        let mut agent = hub.connect(acme, Participant::Agent(UserId::new())).unwrap();
        hub.join(agent.id, Room::Conversation(conv));
        let mut contact = hub.connect(acme, Participant::Contact(ContactId::new())).unwrap();
        let mut stranger = hub.connect(globex, Participant::Agent(UserId::new())).unwrap();
        // The agent saw the contact come online.
        assert!(agent.queue.recv().await.unwrap().json().contains("\"online\""));
        hub.dispatch(status(acme, conv, 1));
        assert!(agent.queue.recv().await.unwrap().json().contains("message.status"));
        assert!(agent.queue.try_recv().is_err(), "once, though in two rooms");
        assert!(contact.queue.try_recv().is_err(), "a contact hears only conversations it follows");
        assert!(stranger.queue.try_recv().is_err(), "another company hears nothing");
    }

    #[tokio::test]
    async fn a_full_queue_closes_the_slow_session_only() {
        let hub = hub(2);
        let (acme, conv) = (CompanyId::new(), ConversationId::new());
        let mut slow = hub.connect(acme, Participant::Agent(UserId::new())).unwrap();
        let mut fast = hub.connect(acme, Participant::Agent(UserId::new())).unwrap();
        let _ = slow.queue.try_recv();
        for n in 1..=5 {
            hub.dispatch(status(acme, conv, n));
            while fast.queue.try_recv().is_ok() {}
        }
        assert!(matches!(slow.queue.next().await, Next::Closed(Some(CloseCause::SlowConsumer))));
        assert!(matches!(fast.queue.try_recv(), Err(TryRecvError::Empty)), "the other one is still open");
    }

    #[tokio::test]
    async fn presence_and_typing_come_and_go() {
        let hub = hub(16);
        let (acme, conv, ada) =
            (CompanyId::new(), ConversationId::new(), Participant::Contact(ContactId::new()));
        let mut agent = hub.connect(acme, Participant::Agent(UserId::new())).unwrap();
        let contact = hub.connect(acme, ada).unwrap();
        let _online = agent.queue.recv().await.unwrap();
        hub.typing(contact.id, acme, conv, ada, true);
        hub.typing(contact.id, acme, conv, ada, true);
        assert!(agent.queue.recv().await.unwrap().json().contains("\"start\""));
        assert!(agent.queue.try_recv().is_err(), "a refresh is not news");
        tokio::time::sleep(Duration::from_millis(60)).await;
        hub.expire_typing();
        assert!(agent.queue.recv().await.unwrap().json().contains("\"stop\""));
        assert_eq!(hub.presence().online(acme, None, 10).await.len(), 2);
        hub.disconnect(contact.id);
        assert!(agent.queue.recv().await.unwrap().json().contains("\"offline\""));
        let presence = hub.presence().online(acme, None, 10).await;
        assert!(presence.iter().all(|p| p.participant != ada), "offline entries are not kept");
        assert_eq!(presence.len(), 1);
    }

    #[tokio::test]
    async fn shutdown_closes_every_session_and_refuses_new_ones() {
        let hub = hub(16);
        let acme = CompanyId::new();
        let mut session = hub.connect(acme, Participant::Agent(UserId::new())).unwrap();
        let waiter = {
            let hub = hub.clone();
            tokio::spawn(async move { hub.shutdown(Duration::from_secs(5)).await })
        };
        assert!(matches!(session.queue.next().await, Next::Closed(Some(CloseCause::Shutdown))));
        hub.disconnect(session.id);
        waiter.await.unwrap();
        assert!(hub.connect(acme, Participant::Agent(UserId::new())).is_none());
    }

    #[tokio::test]
    async fn the_hub_asks_each_session_to_recheck_in_its_turn_and_tells_it_when_its_token_lapses() {
        let interval = Duration::from_secs(1);
        let hub = Hub::new(HubSettings { recheck_interval: interval, ..HubSettings::default() });
        let acme = CompanyId::new();
        let mut early = hub.connect(acme, Participant::Contact(ContactId::new())).unwrap();
        let mut lapsed = hub.connect(acme, Participant::Contact(ContactId::new())).unwrap();
        hub.lapses_at(lapsed.id, Some(Utc::now() - chrono::Duration::seconds(1)));
        hub.lapses_at(early.id, Some(Utc::now() + chrono::Duration::hours(1)));
        hub.signal_due_sessions();
        assert!(matches!(lapsed.queue.next().await, Next::Expired));
        assert!(early.queue.next().now_or_never().is_none(), "neither its token nor its check is due");
        tokio::time::sleep(interval * 6 / 10).await;
        let mut late = hub.connect(acme, Participant::Contact(ContactId::new())).unwrap();
        tokio::time::sleep(interval / 2).await;
        hub.signal_due_sessions();
        assert!(matches!(early.queue.next().await, Next::Recheck), "its interval has passed");
        assert!(late.queue.next().now_or_never().is_none(), "the later one's has not");
        hub.signal_due_sessions();
        assert!(early.queue.next().now_or_never().is_none(), "the next check waits a whole interval");
        assert!(matches!(lapsed.queue.next().await, Next::Recheck), "a lapse is told once");
        assert!(lapsed.queue.next().now_or_never().is_none());

        // A renewal moves the lapse: the earlier moment passes without a word.
        hub.lapses_at(late.id, Some(Utc::now() + chrono::Duration::milliseconds(20)));
        hub.lapses_at(late.id, Some(Utc::now() + chrono::Duration::hours(1)));
        tokio::time::sleep(Duration::from_millis(40)).await;
        hub.signal_due_sessions();
        while let Some(next) = late.queue.next().now_or_never() {
            assert!(!matches!(next, Next::Expired), "the renewed token has not lapsed");
        }
        // A session gone is not signalled, and its clock's entries go when they come up.
        hub.disconnect(early.id);
        tokio::time::sleep(interval).await;
        hub.signal_due_sessions();
        assert!(early.queue.next().now_or_never().is_none_or(|next| matches!(next, Next::Closed(_))));
        assert!(matches!(late.queue.next().await, Next::Recheck), "the others' checks go on");
    }
}
