//! Who is calling: one layer reads the session cookie or the API token once,
//! checks the CSRF token of every unsafe request, and leaves an [`Auth`] in the
//! request's extensions for the extractors below. Nothing else reads them.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use time::{Duration, OffsetDateTime};

use super::model::AuthUser;
use super::secrets::{constant_time_eq, hash_token, random_token};
use super::store;
use crate::config::Config;
use crate::db::ids::{ApiTokenId, ProjectId};
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "concord_session";
/// Double-submit token for forms sent before signing in (sign-in, setup, invitations).
pub const CSRF_COOKIE: &str = "concord_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

#[derive(Debug, Clone)]
pub enum Credential {
    Anonymous,
    Session { token_hash: Vec<u8> },
    ApiToken { id: ApiTokenId },
}

#[derive(Debug, Clone)]
pub struct Auth {
    pub user: Option<AuthUser>,
    pub credential: Credential,
    /// The token forms and `fetch` calls must send back.
    pub csrf_token: String,
    pub client_ip: IpAddr,
    /// The membership of the project the path names, read with the session
    /// (see [`crate::projects::member::Member`]); None when not read.
    pub membership: Option<store::PreloadedMembership>,
}

pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match authenticate_inner(state, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn authenticate_inner(
    state: AppState,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let client_ip = client_ip(&request, &state.config);
    let cookies = Cookies::parse(request.headers());
    let mut new_csrf_cookie = None;

    let auth = if let Some(token) = bearer_token(request.headers()) {
        let mut conn = state
            .db
            .acquire()
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        match store::find_user_by_api_token(&mut conn, &hash_token(token))
            .await
            .map_err(IntoResponse::into_response)?
        {
            Some((id, user)) => Auth {
                user: Some(user),
                credential: Credential::ApiToken { id },
                csrf_token: String::new(),
                client_ip,
                membership: None,
            },
            None => return Err(AppError::Unauthenticated.into_response()),
        }
    } else {
        let session = match cookies.get(SESSION_COOKIE) {
            Some(token) => load_session(&state, token, project_in_path(request.uri().path()))
                .await
                .map_err(IntoResponse::into_response)?,
            None => None,
        };
        match session {
            Some(auth) => Auth { client_ip, ..auth },
            None => {
                let csrf_token = match cookies.get(CSRF_COOKIE) {
                    Some(token) if token.len() >= 32 => token.to_owned(),
                    _ => {
                        let token = random_token();
                        new_csrf_cookie = Some(token.clone());
                        token
                    }
                };
                Auth {
                    user: None,
                    credential: Credential::Anonymous,
                    csrf_token,
                    client_ip,
                    membership: None,
                }
            }
        }
    };

    let mut request = request;
    if is_unsafe(request.method()) && !matches!(auth.credential, Credential::ApiToken { .. }) {
        // A fresh cookie was just made up: nothing sent with this request can match it.
        let expected = if new_csrf_cookie.is_some() {
            None
        } else {
            Some(auth.csrf_token.as_str())
        };
        request = check_csrf(request, expected, state.config.max_body_bytes).await?;
    }

    request.extensions_mut().insert(auth);
    let mut response = next.run(request).await;
    if let Some(token) = new_csrf_cookie {
        let cookie = cookie(CSRF_COOKIE, &token, None, &state.config);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// The project id in `/projects/{id}/…` or `/api/v1/projects/{id}/…`, if any.
fn project_in_path(path: &str) -> Option<ProjectId> {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let rest = rest.strip_prefix("/projects/")?;
    rest.split('/').next()?.parse().ok()
}

async fn load_session(
    state: &AppState,
    token: &str,
    project: Option<ProjectId>,
) -> Result<Option<Auth>, AppError> {
    let token_hash = hash_token(token);
    let mut conn = state.db.acquire().await?;
    let Some(row) = store::find_session(&mut conn, &token_hash, project).await? else {
        return Ok(None);
    };
    // Sliding expiry, written at most once a minute per session.
    if OffsetDateTime::now_utc() - row.last_seen_at > Duration::minutes(1) {
        store::touch_session(&mut conn, &token_hash, session_expiry(&state.config)).await?;
    }
    Ok(Some(Auth {
        user: Some(row.user),
        credential: Credential::Session { token_hash },
        csrf_token: row.csrf_token,
        client_ip: IpAddr::from([0, 0, 0, 0]),
        membership: row.membership,
    }))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Finds the token in the header, the form body or (for multipart uploads) the
/// query string, and rejects the request before any handler runs when it is
/// missing or wrong.
async fn check_csrf(
    request: Request,
    expected: Option<&str>,
    limit: usize,
) -> Result<Request, Response> {
    let reject = || AppError::Csrf.into_response();
    let Some(expected) = expected.filter(|e| !e.is_empty()) else {
        return Err(reject());
    };
    let matches = |sent: &str| constant_time_eq(sent.as_bytes(), expected.as_bytes());

    if let Some(sent) = request.headers().get(CSRF_HEADER) {
        return if sent.to_str().is_ok_and(matches) {
            Ok(request)
        } else {
            Err(reject())
        };
    }
    if let Some(query) = request.uri().query()
        && let Some((_, sent)) =
            form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == CSRF_FIELD)
    {
        return if matches(&sent) {
            Ok(request)
        } else {
            Err(reject())
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(reject());
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        AppError::PayloadTooLarge(crate::messages::TOO_LARGE.into()).into_response()
    })?;
    let ok = form_urlencoded::parse(&bytes).any(|(k, v)| k == CSRF_FIELD && matches(&v));
    if !ok {
        return Err(reject());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn client_ip(request: &Request, config: &Config) -> IpAddr {
    if config.trust_proxy {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

pub fn session_expiry(config: &Config) -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::hours(config.session_hours)
}

/// A `Set-Cookie` value. `max_age` None means a browser-session cookie; zero deletes it.
pub fn cookie(name: &str, value: &str, max_age: Option<i64>, config: &Config) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(max_age) = max_age {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    if config.secure_cookies() {
        cookie.push_str("; Secure");
    }
    cookie
}

struct Cookies<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Cookies<'a> {
    fn parse(headers: &'a HeaderMap) -> Self {
        let pairs = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .collect();
        Self(pairs)
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Auth>().cloned().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the authentication layer is missing"))
        })
    }
}

/// The signed-in user; a page without one redirects to sign-in, the API answers 401.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: AuthUser,
    pub auth: Auth,
}

impl std::ops::Deref for CurrentUser {
    type Target = AuthUser;
    fn deref(&self) -> &AuthUser {
        &self.user
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let user = auth.user.clone().ok_or(AppError::Unauthenticated)?;
        Ok(Self { user, auth })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let auth = Auth::from_request_parts(parts, state).await?;
        Ok(auth.user.clone().map(|user| Self { user, auth }))
    }
}

/// A signed-in site admin; anyone else gets 403.
#[derive(Debug, Clone)]
pub struct SiteAdmin(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for SiteAdmin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if !user.is_admin {
            return Err(AppError::Forbidden);
        }
        Ok(Self(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_a_path_names_is_read_with_the_session() {
        let id = ProjectId::new();
        assert_eq!(project_in_path(&format!("/projects/{id}")), Some(id));
        assert_eq!(
            project_in_path(&format!("/projects/{id}/transcripts/x/code")),
            Some(id)
        );
        assert_eq!(
            project_in_path(&format!("/api/v1/projects/{id}/codings/y")),
            Some(id)
        );
        assert_eq!(project_in_path("/projects"), None);
        assert_eq!(project_in_path("/projects/new"), None);
        assert_eq!(project_in_path("/api/v1/projects/not-a-uuid/x"), None);
        assert_eq!(project_in_path(&format!("/admin/projects/{id}")), None);
        assert_eq!(project_in_path("/"), None);
    }
}
