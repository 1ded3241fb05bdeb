//! Tidings persistence: one [`Store`] over PostgreSQL or SQLite, chosen by the database URL, that
//! implements the repository traits of `tidings-domain`.
//!
//! Queries are written once; the crate-internal `with_conn!` macro compiles each body for both backends.

mod api_keys;
mod appointments;
mod apps;
mod audit;
mod checkpoint;
mod companies;
mod contacts;
mod conversations;
mod devices;
mod error;
mod events;
mod feed;
mod integrations;
mod jobs;
mod messages;
mod migrate;
mod outbox;
mod password_resets;
mod pool;
mod refresh_tokens;
mod rows;
pub mod schema;
mod store;
#[cfg(feature = "test-util")]
pub mod test_db;
mod transaction;
mod uploads;
mod users;
mod webhooks;

pub use checkpoint::{CHECKPOINT_EVERY, Checkpoint};
pub use error::StoreError;
pub use pool::{Backend, PoolOptions};
pub use store::Store;
