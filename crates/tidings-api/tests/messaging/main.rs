//! Contacts, conversations and messages through HTTP, on SQLite and PostgreSQL: the guarantees
//! (gapless order, idempotent retries, forward-only status), access rules and tenant isolation.

mod contacts;
mod conversations;
mod guarantees;
mod identity_verification;
mod shapes;
#[path = "../support/mod.rs"]
mod support;
