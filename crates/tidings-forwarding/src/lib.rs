//! Tidings forwarding: the outbox worker, its retry policy and dead letters, and the outbound
//! channels (Meta bot service, webhooks, e-mail, push). Being built; see the open issues.
