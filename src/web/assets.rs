//! Static files under `/static`.
//!
//! Pages link them as `/static/{build_id}/js/…`: the build is part of the path,
//! so a module's relative imports (`./layout.js`, `../common.js`) resolve under
//! the same build and a browser never runs a new `main.js` with old cached
//! modules. Those URLs are cached for a year. Plain `/static/…` URLs (the error
//! page has no build id at hand) and URLs of another build (a page rendered by
//! another instance, during a rolling upgrade) are served too, but must be
//! revalidated, so a stale copy never sticks under them.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

#[derive(Clone)]
struct Assets {
    files: ServeDir,
    build_id: Arc<str>,
}

/// The service to nest at `/static`.
pub fn service(dir: &Path, build_id: Arc<str>) -> Router {
    Router::new().fallback(serve).with_state(Assets {
        files: ServeDir::new(dir),
        build_id,
    })
}

/// Whether a path segment is a build id (`0.1.0-67a1b2c3`, see `AppState::new`):
/// it starts with the crate version's digit, which no folder of `static/` does.
fn is_build_id(segment: &str) -> bool {
    segment.starts_with(|c: char| c.is_ascii_digit())
        && segment.contains('-')
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
}

/// The path without its build segment, and whether that segment is this build.
fn split_build<'a>(path: &'a str, build_id: &str) -> (&'a str, bool) {
    let Some(rest) = path.strip_prefix('/') else {
        return (path, false);
    };
    match rest.split_once('/') {
        Some((segment, _)) if is_build_id(segment) => (&rest[segment.len()..], segment == build_id),
        _ => (path, false),
    }
}

async fn serve(State(assets): State<Assets>, mut request: Request) -> Response {
    let uri = request.uri().clone();
    let (path, current) = split_build(uri.path(), &assets.build_id);
    let rewritten = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    if let Ok(rewritten) = rewritten.parse::<Uri>() {
        *request.uri_mut() = rewritten;
    }
    let mut response = match assets.files.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    };
    let status = response.status();
    if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            if current { IMMUTABLE } else { REVALIDATE },
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_build_segment_is_taken_off() {
        let build = "0.1.0-67a1b2c3";
        assert_eq!(
            split_build("/0.1.0-67a1b2c3/js/coding/main.js", build),
            ("/js/coding/main.js", true)
        );
        assert_eq!(
            split_build("/0.0.9-1f/js/common.js", build),
            ("/js/common.js", false)
        );
        assert_eq!(
            split_build("/js/common.js", build),
            ("/js/common.js", false)
        );
        assert_eq!(split_build("/css/app.css", build), ("/css/app.css", false));
        assert_eq!(
            split_build("/0.1.0-67a1b2c3", build),
            ("/0.1.0-67a1b2c3", false)
        );
        assert!(!is_build_id("vendor"));
        assert!(!is_build_id("1..%2f"));
    }
}
