//! A session's queue: the frames the hub fills it with, and the hub's word on the session (close,
//! your token lapsed, check your credentials again, catch up), emptied by the session's connection.
//!
//! Written by hand because an idle session should hold almost nothing: tokio's bounded channel
//! takes about 800 bytes per session before its first frame (two cache-padded halves and a block
//! of 32 slots), and the lighter crates allocate on every wait. This one is a mutex over a
//! `VecDeque` that gives its buffer back once a burst is drained, a few flags and one waker: about
//! 100 bytes. The signals live here rather than in a channel, `Notify`s and timers of their own so
//! that a connection waits on one thing, and an idle session keeps one allocation, not six.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::realtime::hub::CloseCause;

/// Room a drained queue keeps for the next frames; a larger buffer, grown by a burst, is let go.
const KEEP: usize = 8;

/// What the hub asks of a session besides passing frames on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The session's access token lapsed.
    Expired,
    /// Credentials of the session's company were withdrawn: check yours again.
    Recheck,
    /// Events may have been missed (the bus to other nodes came back after a cut): fill the
    /// followed conversations from the store.
    CatchUp,
}

/// What a session must do next, most urgent first: what ends it or may end it comes before
/// frames, so that a steady stream of them cannot keep a lapsed session alive.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// The hub closed the session; `None` when the hub let go of it without a word.
    Closed(Option<CloseCause>),
    /// See [`Signal::Expired`].
    Expired,
    /// See [`Signal::Recheck`].
    Recheck,
    /// A frame to pass on.
    Frame(T),
    /// See [`Signal::CatchUp`].
    CatchUp,
}

struct State<T> {
    items: VecDeque<T>,
    waker: Option<Waker>,
    /// Either end is gone.
    closed: bool,
    cause: Option<CloseCause>,
    expired: bool,
    recheck: bool,
    catch_up: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing here can panic half-way through an update.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `change` and wakes the receiver, who sees it.
    fn update(&self, change: impl FnOnce(&mut State<T>)) {
        let waker = {
            let mut state = self.lock();
            change(&mut state);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The hub's end of a queue.
pub struct Sender<T>(Arc<Shared<T>>);

/// The connection's end of a queue.
pub struct Receiver<T>(Arc<Shared<T>>);

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing queued now.
    Empty,
    /// Nothing queued, and the session is closed.
    Closed,
}

/// A queue holding at most `capacity` frames.
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let state = State {
        items: VecDeque::new(),
        waker: None,
        closed: false,
        cause: None,
        expired: false,
        recheck: false,
        catch_up: false,
    };
    let shared = Arc::new(Shared { state: Mutex::new(state), capacity });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Queues `item` without waiting; gives it back when the queue is full or the session closed.
    pub fn try_send(&self, item: T) -> Result<(), T> {
        let mut state = self.0.lock();
        if state.closed || state.cause.is_some() || state.items.len() >= self.0.capacity {
            return Err(item);
        }
        state.items.push_back(item);
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Closes the session for `cause`; true unless it was closed already (the first cause stays).
    pub fn close(&self, cause: CloseCause) -> bool {
        let mut first = false;
        self.0.update(|state| {
            if state.cause.is_none() && !state.closed {
                state.cause = Some(cause);
                first = true;
            }
        });
        first
    }

    /// Raises `signal`; raised again before the session saw it, it still counts once.
    pub fn signal(&self, signal: Signal) {
        self.0.update(|state| match signal {
            Signal::Expired => state.expired = true,
            Signal::Recheck => state.recheck = true,
            Signal::CatchUp => state.catch_up = true,
        });
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.0.update(|state| state.closed = true);
    }
}

impl<T> Receiver<T> {
    /// What to do next, in the order of [`Next`]. Cancel-safe.
    pub async fn next(&mut self) -> Next<T> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// Polls for what to do next, keeping `cx`'s waker to be woken by the next change.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Next<T>> {
        let mut state = self.0.lock();
        if let Some(cause) = state.cause {
            return Poll::Ready(Next::Closed(Some(cause)));
        }
        if std::mem::take(&mut state.expired) {
            return Poll::Ready(Next::Expired);
        }
        if std::mem::take(&mut state.recheck) {
            return Poll::Ready(Next::Recheck);
        }
        if let Some(item) = pop(&mut state) {
            return Poll::Ready(Next::Frame(item));
        }
        if std::mem::take(&mut state.catch_up) {
            return Poll::Ready(Next::CatchUp);
        }
        if state.closed {
            return Poll::Ready(Next::Closed(None));
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next frame, passing over signals; `None` once the session is closed. Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            match self.next().await {
                Next::Frame(item) => return Some(item),
                Next::Closed(_) => return None,
                Next::Expired | Next::Recheck | Next::CatchUp => {}
            }
        }
    }

    /// The next frame if one is queued now and the session is not closed.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.0.lock();
        if state.cause.is_some() {
            return Err(TryRecvError::Closed);
        }
        match pop(&mut state) {
            Some(item) => Ok(item),
            None if state.closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // The sender's later items are refused, and those queued go now, not with the hub entry.
        let items = {
            let mut state = self.0.lock();
            state.closed = true;
            state.waker = None;
            std::mem::take(&mut state.items)
        };
        drop(items);
    }
}

fn pop<T>(state: &mut State<T>) -> Option<T> {
    let item = state.items.pop_front()?;
    if state.items.is_empty() && state.items.capacity() > KEEP {
        state.items = VecDeque::new();
    }
    Some(item)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt;

    use super::*;

    #[test]
    fn items_come_out_in_order_and_a_full_queue_refuses_more() {
        let (tx, mut rx) = bounded(3);
        for n in 1..=3 {
            assert!(tx.try_send(n).is_ok());
        }
        assert_eq!(tx.try_send(4), Err(4), "full");
        assert_eq!(rx.try_recv(), Ok(1));
        assert!(tx.try_send(5).is_ok(), "room again");
        assert_eq!([rx.try_recv(), rx.try_recv(), rx.try_recv()], [Ok(2), Ok(3), Ok(5)]);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }

    #[test]
    fn a_burst_drained_gives_its_buffer_back() {
        let (tx, mut rx) = bounded(256);
        for n in 0..200 {
            tx.try_send(n).unwrap();
        }
        assert!(tx.0.lock().items.capacity() >= 200);
        while rx.try_recv().is_ok() {}
        assert_eq!(tx.0.lock().items.capacity(), 0);
        tx.try_send(1).unwrap();
        rx.try_recv().unwrap();
        assert!(tx.0.lock().items.capacity() <= KEEP, "a small buffer stays for the next frames");
    }

    #[tokio::test]
    async fn the_receiver_wakes_for_an_item_and_ends_after_the_sender_left() {
        let (tx, mut rx) = bounded(4);
        let waiting = tokio::spawn(async move {
            let first = rx.recv().await;
            let second = rx.recv().await;
            let end = rx.recv().await;
            (first, second, end)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.try_send("a").unwrap();
        tx.try_send("b").unwrap();
        drop(tx);
        let got = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(got, (Some("a"), Some("b"), None), "items queued before the sender left still come");
    }

    #[test]
    fn a_gone_receiver_refuses_items_and_lets_go_of_those_queued() {
        let (tx, rx) = bounded(4);
        let item = Arc::new(1);
        tx.try_send(item.clone()).unwrap();
        drop(rx);
        assert_eq!(Arc::strong_count(&item), 1, "the queued item was let go");
        assert!(tx.try_send(item).is_err());
    }

    #[tokio::test]
    async fn a_close_comes_before_queued_frames_and_the_first_cause_stays() {
        let (tx, mut rx) = bounded(4);
        tx.try_send(1).unwrap();
        assert!(tx.close(CloseCause::SlowConsumer));
        assert!(!tx.close(CloseCause::Shutdown), "closed already");
        assert_eq!(tx.try_send(2), Err(2), "a closed session takes no more frames");
        assert_eq!(rx.next().await, Next::Closed(Some(CloseCause::SlowConsumer)));
        assert_eq!(rx.next().await, Next::Closed(Some(CloseCause::SlowConsumer)), "it stays closed");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }

    #[tokio::test]
    async fn signals_that_may_end_a_session_pass_frames_and_each_counts_once() {
        let (tx, mut rx) = bounded(4);
        tx.try_send(1).unwrap();
        tx.signal(Signal::CatchUp);
        tx.signal(Signal::Recheck);
        tx.signal(Signal::Recheck);
        tx.signal(Signal::Expired);
        assert_eq!(rx.next().await, Next::Expired);
        assert_eq!(rx.next().await, Next::Recheck);
        assert_eq!(rx.next().await, Next::Frame(1));
        assert_eq!(rx.next().await, Next::CatchUp);
        assert!(rx.next().now_or_never().is_none(), "each signal was taken once");
        let waiting = tokio::spawn(async move { rx.next().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.signal(Signal::Recheck);
        let woken = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(woken, Next::Recheck, "a signal wakes a waiting receiver");
    }
}
