//! The store conformance suite: the same assertions against SQLite and PostgreSQL.

mod conversations;
mod keys;
mod messages;
mod paging;
mod tokens;
mod users;
