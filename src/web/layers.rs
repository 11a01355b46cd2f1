//! Layers shared by every route: error rendering and security headers.

use askama::Template;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::ErrorInfo;
use crate::web::paths;

#[derive(Template)]
#[template(path = "errors/page.html")]
struct ErrorPage<'a> {
    info: &'a ErrorInfo,
    status: u16,
    request_id: &'a str,
}

/// Renders errors as `application/problem+json` under `/api/`, and as an HTML page
/// elsewhere. A page that needs a signed-in user redirects to the sign-in page.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let is_get = request.method() == Method::GET;
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let info = match response.extensions().get::<ErrorInfo>() {
        Some(info) => info.clone(),
        None => {
            // Only bodies that are not ours already (axum's and tower-http's plain text).
            let content_type = response.headers().get(header::CONTENT_TYPE);
            let plain = content_type
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.starts_with("text/plain"));
            if !plain {
                return response;
            }
            ErrorInfo::from_status(status)
        }
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if is_api {
        let mut body = serde_json::to_value(&info).unwrap_or_default();
        if let Some(object) = body.as_object_mut() {
            object.insert("type".into(), "about:blank".into());
            object.insert("status".into(), status.as_u16().into());
            object.insert("request_id".into(), request_id.into());
        }
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        return Response::from_parts(parts, Body::from(body.to_string()));
    }
    if status == StatusCode::UNAUTHORIZED && is_get {
        return Redirect::to(&paths::login_with_next(&target)).into_response();
    }
    let page = ErrorPage {
        info: &info,
        status: status.as_u16(),
        request_id: &request_id,
    };
    let html = page.render().unwrap_or_else(|_| info.detail.clone());
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, Body::from(html))
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Invitation and reset links carry tokens in their path: never leak them.
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in set {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
