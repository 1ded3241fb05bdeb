//! Timers and limits of live connections.

use std::time::Duration;

use tidings_messaging::{HubSettings, PublishLimits};

/// Settings of the WebSocket endpoint.
#[derive(Clone, Copy, Debug)]
pub struct RealtimeSettings {
    /// How often the server pings (default 25 s).
    pub ping_interval: Duration,
    /// A client silent for this long is disconnected (default 60 s).
    pub client_timeout: Duration,
    /// Frames queued per connection before it counts as a slow consumer (default 256).
    pub queue_capacity: usize,
    /// A typing indicator without refresh stops after this long (default 5 s).
    pub typing_ttl: Duration,
    /// Largest frame a client may send (default 64 KiB).
    pub max_frame_bytes: usize,
    /// How long a connection without credentials has to send its `auth` frame (default 10 s).
    pub auth_timeout: Duration,
    /// How long one frame may take to leave before the connection counts as a slow consumer (default 10 s).
    pub write_timeout: Duration,
    /// How often a connection checks that the credentials that opened it still stand (default 60 s).
    pub recheck_interval: Duration,
    /// Custom events a company's services may publish (`POST /v1/realtime/publish`; default 50/s).
    pub publish: PublishLimits,
    /// Live connections this node holds at most, every door together (default 50,000); an upgrade
    /// beyond it is refused with `503 UNAVAILABLE` and `Retry-After`.
    pub max_connections: usize,
    /// Frames a client may send per second on one connection, in bursts of three times as many
    /// (default 20; 0: no limit); a client over it is closed with 1008.
    pub client_frames_per_second: u32,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(25),
            client_timeout: Duration::from_secs(60),
            queue_capacity: 256,
            typing_ttl: Duration::from_secs(5),
            max_frame_bytes: 64 * 1024,
            auth_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            recheck_interval: Duration::from_secs(60),
            publish: PublishLimits::default(),
            client_frames_per_second: 20,
            max_connections: 50_000,
        }
    }
}

impl RealtimeSettings {
    /// The hub's part of the settings.
    pub fn hub_settings(&self) -> HubSettings {
        HubSettings {
            queue_capacity: self.queue_capacity,
            typing_ttl: self.typing_ttl,
            recheck_interval: self.recheck_interval,
        }
    }
}
