//! Handlers, one module per resource, and the route table.

mod appointments;
mod apps;
mod audit;
mod auth;
mod company;
mod contacts;
mod conversations;
pub(crate) mod health;
mod integrations;
mod messages;
mod outbox;
mod presence;
mod realtime;
mod sdk;
mod setup;
mod uploads;
mod users;
mod webhook_endpoints;
mod webhooks;

use actix_web::web;

/// Every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(crate::web::inbox)))
        .service(web::resource("/setup").route(web::get().to(crate::web::setup)))
        .service(web::resource("/reset-password").route(web::get().to(crate::web::reset_password)))
        .service(web::resource("/assets/{name}").route(web::get().to(crate::web::asset)))
        .service(web::resource("/health").route(web::get().to(health::live)))
        .service(web::resource("/health/ready").route(web::get().to(health::ready)))
        .service(
            web::scope("/v1")
                .service(web::resource("/auth/register").route(web::post().to(auth::register)))
                .service(web::resource("/auth/login").route(web::post().to(auth::login)))
                .service(web::resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(web::resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(web::resource("/auth/me").route(web::get().to(auth::me)))
                .service(web::resource("/setup").route(web::get().to(setup::status)))
                .service(
                    web::resource("/auth/password-reset").route(web::post().to(auth::request_password_reset)),
                )
                .service(
                    web::resource("/auth/password-reset/confirm")
                        .route(web::post().to(auth::confirm_password_reset)),
                )
                .service(
                    web::resource("/users")
                        .route(web::get().to(users::list))
                        .route(web::post().to(users::create)),
                )
                .service(
                    web::resource("/users/{id}")
                        .route(web::get().to(users::get))
                        .route(web::patch().to(users::set_role))
                        .route(web::delete().to(users::remove)),
                )
                .service(
                    web::resource("/apps")
                        .route(web::get().to(apps::list))
                        .route(web::post().to(apps::create)),
                )
                .service(web::resource("/apps/{id}").route(web::patch().to(apps::update)))
                .service(
                    web::resource("/apps/{id}/identity_secret")
                        .route(web::post().to(apps::issue_identity_secret)),
                )
                .service(
                    web::resource("/apps/{id}/keys")
                        .route(web::get().to(apps::list_keys))
                        .route(web::post().to(apps::create_key)),
                )
                .service(web::resource("/keys/{id}/rotate").route(web::post().to(apps::rotate_key)))
                .service(web::resource("/keys/{id}").route(web::delete().to(apps::revoke_key)))
                .service(
                    web::resource("/contacts")
                        .route(web::get().to(contacts::list))
                        .route(web::post().to(contacts::create)),
                )
                .service(
                    web::resource("/contacts/{id}")
                        .route(web::get().to(contacts::get))
                        .route(web::patch().to(contacts::update)),
                )
                .service(
                    web::resource("/conversations")
                        .route(web::get().to(conversations::list))
                        .route(web::post().to(conversations::open)),
                )
                .service(
                    web::resource("/conversations/{id}")
                        .route(web::get().to(conversations::get))
                        .route(web::patch().to(conversations::update)),
                )
                .service(
                    web::resource("/conversations/{id}/events").route(web::get().to(conversations::events)),
                )
                .service(
                    web::resource("/conversations/{id}/messages")
                        .route(web::get().to(messages::list))
                        .route(web::post().to(messages::send)),
                )
                .service(
                    web::resource("/conversations/{id}/messages/delivered")
                        .route(web::post().to(messages::delivered)),
                )
                .service(
                    web::resource("/conversations/{id}/messages/read").route(web::post().to(messages::read)),
                )
                .service(
                    web::resource("/messages/{id}")
                        .route(web::get().to(messages::get))
                        .route(web::patch().to(messages::edit))
                        .route(web::delete().to(messages::delete)),
                )
                .service(
                    web::resource("/appointments")
                        .route(web::get().to(appointments::list))
                        .route(web::post().to(appointments::create)),
                )
                .service(
                    web::resource("/appointments/settings")
                        .route(web::get().to(appointments::settings))
                        .route(web::put().to(appointments::put_settings)),
                )
                .service(
                    web::resource("/appointments/availability")
                        .route(web::get().to(appointments::availability)),
                )
                .service(
                    web::resource("/appointments/{id}")
                        .route(web::get().to(appointments::get))
                        .route(web::put().to(appointments::update))
                        .route(web::patch().to(appointments::set_status))
                        .route(web::delete().to(appointments::cancel)),
                )
                .service(web::resource("/uploads").route(web::post().to(uploads::create)))
                .service(
                    web::resource("/uploads/{id}")
                        .route(web::get().to(uploads::get))
                        .route(web::delete().to(uploads::delete)),
                )
                .service(web::resource("/uploads/{id}/content").route(web::get().to(uploads::content)))
                .service(web::resource("/search/messages").route(web::get().to(messages::search)))
                .service(web::resource("/identify").route(web::post().to(sdk::identify)))
                .service(web::resource("/device").route(web::put().to(sdk::device)))
                .service(web::resource("/events/track").route(web::post().to(sdk::track)))
                .service(
                    web::resource("/integrations/meta")
                        .route(web::get().to(integrations::get_meta))
                        .route(web::put().to(integrations::put_meta)),
                )
                .service(
                    web::resource("/integrations/google-calendar")
                        .route(web::get().to(integrations::get_calendar))
                        .route(web::put().to(integrations::put_calendar))
                        .route(web::delete().to(integrations::delete_calendar)),
                )
                .service(
                    web::resource("/webhooks/meta")
                        .route(web::get().to(webhooks::handshake))
                        .route(web::post().to(webhooks::receive)),
                )
                .service(
                    web::resource("/webhooks")
                        .route(web::get().to(webhook_endpoints::list))
                        .route(web::post().to(webhook_endpoints::create)),
                )
                .service(
                    web::resource("/webhooks/{id}")
                        .route(web::get().to(webhook_endpoints::get))
                        .route(web::patch().to(webhook_endpoints::update))
                        .route(web::delete().to(webhook_endpoints::delete)),
                )
                .service(
                    web::resource("/webhooks/{id}/rotate-secret")
                        .route(web::post().to(webhook_endpoints::rotate_secret)),
                )
                .service(
                    web::resource("/webhooks/{id}/deliveries")
                        .route(web::get().to(webhook_endpoints::deliveries)),
                )
                .service(
                    web::resource("/webhooks/{id}/deliveries/{delivery_id}/redeliver")
                        .route(web::post().to(webhook_endpoints::redeliver)),
                )
                .service(web::resource("/webhooks/{id}/test").route(web::post().to(webhook_endpoints::test)))
                .service(web::resource("/audit").route(web::get().to(audit::list)))
                .service(
                    web::resource("/company/retention")
                        .route(web::get().to(company::retention))
                        .route(web::put().to(company::put_retention)),
                )
                .service(web::resource("/outbox").route(web::get().to(outbox::list)))
                .service(web::resource("/outbox/{id}").route(web::delete().to(outbox::delete)))
                .service(web::resource("/outbox/{id}/retry").route(web::post().to(outbox::retry)))
                .service(web::resource("/presence").route(web::get().to(presence::list)))
                .service(web::resource("/realtime").route(web::get().to(crate::realtime::connect)))
                .service(web::resource("/realtime/publish").route(web::post().to(realtime::publish)))
                // Any method: polling requests (GET and POST) get Engine.IO's 400.
                .service(
                    web::resource(["/socket.io/", "/socket.io"])
                        .route(web::route().to(crate::realtime::socketio::connect)),
                ),
        );
}
