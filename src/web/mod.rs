//! What every page shares: layers, extractors, the page layout and paths.

pub mod assets;
pub mod extract;
pub mod layers;
pub mod openapi;
pub mod paths;
pub mod routes;
pub mod server;
pub mod upload;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::auth::model::AuthUser;
use crate::auth::session::Auth;
use crate::error::AppError;
use crate::state::AppState;

/// What `templates/base.html` needs: the user, the CSRF token, the build id
/// (static URLs are `/static/{{ layout.build_id }}/…`, see [`assets`]).
#[derive(Debug, Clone)]
pub struct Layout {
    pub user: Option<AuthUser>,
    pub csrf_token: String,
    pub build_id: Arc<str>,
}

impl<S> FromRequestParts<S> for Layout
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let state = AppState::from_ref(state);
        Ok(Self {
            user: auth.user,
            csrf_token: auth.csrf_token,
            build_id: state.build_id,
        })
    }
}
