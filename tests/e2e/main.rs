//! End-to-end tests: the real `tidings-server` binary, started on a free port, talked to over HTTP.

mod realtime;
mod server;
mod startup;
