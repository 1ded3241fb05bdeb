//! Rate limits shared by the cluster's nodes: GCRA (the algorithm `governor` runs in each process)
//! as one Lua script, so that reading and moving a key's theoretical arrival time is atomic in
//! Redis. No maintained crate does this against a plain Redis (the `redis-cell` module does, but it
//! must be loaded into the server); the script is short and its semantics are `governor`'s: `limit`
//! events at once, then one per `period / limit`.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::Client;
use redis::aio::ConnectionManager;
use tidings_domain::SharedLimiter;
use tokio::sync::OnceCell;

/// How long one check may take before the node counts on its own.
const CHECK_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed check, how long the node counts on its own before it asks Redis again (so an
/// outage does not slow every request by the timeout).
const BACK_OFF: Duration = Duration::from_secs(5);

/// GCRA over one key. KEYS[1]: the key; ARGV[1]: the emission interval (ms); ARGV[2]: the burst.
/// Returns 0 when the event may go (and records it), else how many ms until it may.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local next_tat = tat + interval
local allowed_at = next_tat - interval * tonumber(ARGV[2])
if allowed_at > now then return allowed_at - now end
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return 0
";

/// Limits counted in Redis.
pub struct RedisLimiter {
    client: Client,
    connection: OnceCell<ConnectionManager>,
    script: redis::Script,
    down_until: Mutex<Option<Instant>>,
}

impl RedisLimiter {
    /// A limiter over the Redis at `url`; it connects on first use. Fails only on a malformed URL.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: Client::open(url)?,
            connection: OnceCell::new(),
            script: redis::Script::new(GCRA),
            down_until: Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, String> {
        let connect = || async { ConnectionManager::new(self.client.clone()).await };
        self.connection.get_or_try_init(connect).await.cloned().map_err(|e| e.to_string())
    }
}

#[async_trait]
impl SharedLimiter for RedisLimiter {
    async fn check(
        &self,
        key: &str,
        limit: NonZeroU32,
        period: Duration,
    ) -> Result<Option<Duration>, String> {
        let down = *self.down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if down.is_some_and(|until| Instant::now() < until) {
            return Err("Redis failed a moment ago".into());
        }
        let interval_ms = (period.as_millis() / u128::from(limit.get())).max(1);
        let run = async {
            let mut connection = self.connection().await?;
            self.script
                .key(format!("tidings:rate:{key}"))
                .arg(u64::try_from(interval_ms).unwrap_or(u64::MAX))
                .arg(limit.get())
                .invoke_async::<u64>(&mut connection)
                .await
                .map_err(|e| e.to_string())
        };
        let outcome = match tokio::time::timeout(CHECK_TIMEOUT, run).await {
            Ok(Ok(0)) => Ok(None),
            Ok(Ok(wait_ms)) => Ok(Some(Duration::from_millis(wait_ms))),
            Ok(Err(error)) => Err(error),
            Err(_) => Err("Redis did not answer in time".into()),
        };
        if outcome.is_err() {
            *self.down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(Instant::now() + BACK_OFF);
        }
        outcome
    }
}
