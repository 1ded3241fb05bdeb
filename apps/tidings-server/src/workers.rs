//! The background tasks the server owns: started with the application, told to stop at shutdown,
//! and drained before the store closes. Later workers (the outbox) plug in here.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

/// Running background tasks and the signal that stops them.
pub struct Workers {
    tasks: JoinSet<&'static str>,
    stop: watch::Sender<bool>,
}

impl Workers {
    /// No task yet.
    pub fn new() -> Self {
        Self { tasks: JoinSet::new(), stop: watch::channel(false).0 }
    }

    /// Starts a task; it gets a receiver that turns true when the server stops, and must then
    /// finish what it holds and return.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, task: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let run = task(self.stop.subscribe());
        self.tasks.spawn(async move {
            run.await;
            name
        });
    }

    /// Tells every task to stop and waits up to `grace` for them; the rest are aborted.
    pub async fn drain(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                Ok(Some(Ok(name))) => tracing::debug!(worker = name, "worker stopped"),
                Ok(Some(Err(e))) => tracing::error!(error = %e, "a worker failed"),
                Ok(None) => return,
                Err(_) => {
                    tracing::warn!(left = self.tasks.len(), "workers did not stop in time; aborting them");
                    self.tasks.abort_all();
                    return;
                }
            }
        }
    }
}

impl Default for Workers {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn drain_stops_cooperating_tasks_and_aborts_the_rest() {
        let mut workers = Workers::new();
        let finished = Arc::new(AtomicBool::new(false));
        let seen = finished.clone();
        workers.spawn("polite", move |mut stop| async move {
            let _ = stop.wait_for(|s| *s).await;
            seen.store(true, Ordering::SeqCst);
        });
        workers.spawn("stubborn", |_stop| async move {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let started = tokio::time::Instant::now();
        workers.drain(Duration::from_millis(200)).await;
        assert!(finished.load(Ordering::SeqCst), "the polite task saw the stop");
        assert!(started.elapsed() < Duration::from_secs(5), "the stubborn one was aborted");
    }
}
