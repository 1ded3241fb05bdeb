//! Custom live events from a company's own services (a bot, a backend): delivered to the company's
//! agents or to one conversation's followers, on every door. Their names are kept apart from
//! Tidings' own events (`custom` on the native door, `custom:<event>` on Socket.IO) so that a
//! publisher cannot forge a message or a receipt, and they are limited in size and rate per company.

use std::num::NonZeroU32;
use std::sync::Arc;

use garde::Validate;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use serde_json::Value;
use tidings_domain::{CompanyId, ConversationId, ServicePrincipal};

use crate::error::{MessagingError, MessagingResult};
use crate::realtime::{Bus, Envelope, Room, ServerEvent};
use crate::repos::MessagingRepos;

/// Largest `data` a custom event may carry, serialized.
pub const MAX_DATA_BYTES: usize = 16 * 1024;

/// Where a custom event goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublishRoom {
    /// Every agent of the company.
    Company,
    /// The followers of one conversation (and the company's agents, who see every conversation).
    Conversation,
}

/// `POST /v1/realtime/publish`.
#[derive(Clone, Debug, Deserialize, Validate, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    /// Where it goes.
    #[garde(skip)]
    pub room: PublishRoom,
    /// The conversation, for `room: conversation`.
    #[garde(skip)]
    pub conversation_id: Option<ConversationId>,
    /// The event's name: 1 to 64 letters, digits, `_`, `-`, `.` or `:`.
    #[garde(length(min = 1, max = 64), custom(event_name))]
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_.:-]+$", example = "order.shipped")]
    pub event: String,
    /// Any JSON, at most [`MAX_DATA_BYTES`] serialized.
    #[garde(skip)]
    #[serde(default)]
    #[schema(example = json!({"order": 42}))]
    pub data: Value,
}

fn event_name(name: &str, _: &()) -> garde::Result {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c)) {
        Ok(())
    } else {
        Err(garde::Error::new("only letters, digits, `_`, `-`, `.` and `:`"))
    }
}

/// How many custom events a company may publish.
#[derive(Clone, Copy, Debug)]
pub struct PublishLimits {
    /// Sustained events per second, per company.
    pub per_second: NonZeroU32,
    /// How many may come at once above the sustained rate.
    pub burst: NonZeroU32,
}

impl PublishLimits {
    /// `n` per second (at least one), with bursts of twice as many.
    pub fn per_second(n: u32) -> Self {
        let per_second = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        Self { per_second, burst: per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1)) }
    }
}

impl Default for PublishLimits {
    fn default() -> Self {
        Self::per_second(50)
    }
}

/// Publishes custom events.
#[derive(Clone)]
pub struct Publisher {
    repos: Arc<dyn MessagingRepos>,
    bus: Arc<dyn Bus>,
    limiter: Arc<DefaultKeyedRateLimiter<CompanyId>>,
}

impl Publisher {
    /// A publisher over `repos`, sending on `bus`, within `limits`.
    pub fn new(repos: Arc<dyn MessagingRepos>, bus: Arc<dyn Bus>, limits: PublishLimits) -> Self {
        let quota = Quota::per_second(limits.per_second).allow_burst(limits.burst);
        Self { repos, bus, limiter: Arc::new(RateLimiter::keyed(quota)) }
    }

    /// Publishes `input` for the service's company; answers where it went.
    pub async fn publish(
        &self,
        service: &ServicePrincipal,
        input: PublishInput,
    ) -> MessagingResult<ServerEvent> {
        input.validate()?;
        let size = serde_json::to_vec(&input.data).map(|d| d.len()).unwrap_or(usize::MAX);
        if size > MAX_DATA_BYTES {
            return Err(MessagingError::TooLarge("data is larger than 16 KiB"));
        }
        let company_id = service.company_id;
        let conversation_id = match (input.room, input.conversation_id) {
            (PublishRoom::Company, None) => None,
            (PublishRoom::Company, Some(_)) => {
                return Err(MessagingError::Invalid("conversation_id", "only for room conversation".into()));
            }
            (PublishRoom::Conversation, None) => {
                return Err(MessagingError::Invalid(
                    "conversation_id",
                    "required for room conversation".into(),
                ));
            }
            (PublishRoom::Conversation, Some(id)) => {
                Some(self.repos.get_conversation(company_id, id).await?.id)
            }
        };
        if let Err(not_until) = self.limiter.check_key(&company_id) {
            let wait = not_until
                .wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
            return Err(MessagingError::RateLimited { retry_after_secs: wait.as_secs().max(1) });
        }
        // Forget companies that have not published lately, so the limiter does not grow for ever.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        let event = ServerEvent::Custom { conversation_id, event: input.event, data: input.data };
        let rooms = match conversation_id {
            Some(id) => vec![Room::Conversation(id), Room::Company(company_id)],
            None => vec![Room::Company(company_id)],
        };
        self.bus.publish(Envelope { company_id, rooms, event: event.clone(), except: None });
        Ok(event)
    }
}
