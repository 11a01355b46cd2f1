//! Accounts: setup, sign-in, sessions, invitations, resets, API tokens, throttling.

mod admin;
mod api;
pub mod model;
mod pages;
pub mod password;
pub mod secrets;
pub mod service;
pub mod session;
pub mod store;

use crate::web::routes::Routes;
use axum::routing::{get, patch, post};

pub use pages::SetupPage;

pub fn routes() -> Routes {
    Routes::new()
        .route("/setup", get(pages::show_setup).post(pages::submit_setup))
        .route("/setup/demo", post(pages::submit_setup_demo))
        .route("/login", get(pages::show_login).post(pages::submit_login))
        .route("/logout", post(pages::submit_logout))
        .route("/account", get(pages::show_account))
        .route("/account/password", post(pages::change_password))
        .route("/account/tokens", post(pages::create_api_token))
        .route(
            "/account/tokens/{token_id}/revoke",
            post(pages::revoke_api_token),
        )
        .route(
            "/invite/{token}",
            get(pages::show_invite).post(pages::accept_invite),
        )
        .route(
            "/reset/{token}",
            get(pages::show_reset).post(pages::use_reset),
        )
        .route("/admin/users", get(admin::list_users))
        .route("/admin/invites", post(admin::create_invite))
        .route(
            "/admin/invites/{invite_id}/withdraw",
            post(admin::withdraw_invite),
        )
        .route("/admin/users/{user_id}/reset", post(admin::create_reset))
        .route("/admin/users/{user_id}/disable", post(admin::disable_user))
        .route("/admin/users/{user_id}/enable", post(admin::enable_user))
        .route("/api/v1/setup", post(api::setup))
        .route(
            "/api/v1/session",
            get(api::get_session)
                .post(api::sign_in)
                .delete(api::sign_out),
        )
        .route("/api/v1/me", get(api::get_me))
        .route("/api/v1/me/password", post(api::change_password))
        .route(
            "/api/v1/tokens",
            get(api::list_tokens).post(api::create_token),
        )
        .route(
            "/api/v1/tokens/{token_id}",
            axum::routing::delete(api::revoke_token),
        )
        // `{invite}` is the token here and the id below: the router wants one
        // name for one position.
        .route("/api/v1/invites/{invite}/accept", post(api::accept_invite))
        .route("/api/v1/resets/{token}", post(api::use_reset))
        .route("/api/v1/users", get(api::list_users))
        .route(
            "/api/v1/invites",
            get(api::list_invites).post(api::create_invite),
        )
        .route(
            "/api/v1/invites/{invite}",
            axum::routing::delete(api::withdraw_invite),
        )
        .route("/api/v1/users/{user_id}", patch(api::update_user))
        .route("/api/v1/users/{user_id}/reset", post(api::create_reset))
}
