//! Handlers, one module per resource, and the route table.

mod apps;
mod auth;
pub(crate) mod health;
mod users;

use actix_web::web;

/// Every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(web::get().to(health::live)))
        .service(web::resource("/health/ready").route(web::get().to(health::ready)))
        .service(
            web::scope("/v1")
                .service(web::resource("/auth/register").route(web::post().to(auth::register)))
                .service(web::resource("/auth/login").route(web::post().to(auth::login)))
                .service(web::resource("/auth/refresh").route(web::post().to(auth::refresh)))
                .service(web::resource("/auth/logout").route(web::post().to(auth::logout)))
                .service(web::resource("/auth/me").route(web::get().to(auth::me)))
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
                .service(
                    web::resource("/apps/{id}/keys")
                        .route(web::get().to(apps::list_keys))
                        .route(web::post().to(apps::create_key)),
                )
                .service(web::resource("/keys/{id}/rotate").route(web::post().to(apps::rotate_key)))
                .service(web::resource("/keys/{id}").route(web::delete().to(apps::revoke_key))),
        );
}
