//! A session's queue of frames: bounded, filled by the hub, emptied by the session's connection.
//!
//! Written by hand because an idle session should hold almost nothing: tokio's bounded channel
//! takes about 800 bytes per session before its first frame (two cache-padded halves and a block
//! of 32 slots), and the lighter crates allocate on every wait. This one is a mutex over a
//! `VecDeque` that gives its buffer back once a burst is drained, and one waker: about 100 bytes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Room a drained queue keeps for the next frames; a larger buffer, grown by a burst, is let go.
const KEEP: usize = 8;

struct State<T> {
    items: VecDeque<T>,
    waker: Option<Waker>,
    closed: bool,
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

    /// Marks the queue closed and wakes the receiver, who sees it.
    fn close(&self) -> Option<Waker> {
        let mut state = self.lock();
        state.closed = true;
        state.waker.take()
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
    /// Nothing queued, and the sender is gone.
    Closed,
}

/// A queue holding at most `capacity` items.
pub fn bounded<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State { items: VecDeque::new(), waker: None, closed: false }),
        capacity,
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Queues `item` without waiting; gives it back when the queue is full or the receiver gone.
    pub fn try_send(&self, item: T) -> Result<(), T> {
        let mut state = self.0.lock();
        if state.closed || state.items.len() >= self.0.capacity {
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
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(waker) = self.0.close() {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next item; `None` once the sender is gone and every item was taken. Cancel-safe.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next item, keeping `cx`'s waker to be woken by the next one.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = self.0.lock();
        if let Some(item) = pop(&mut state) {
            return Poll::Ready(Some(item));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.0.lock();
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
}
