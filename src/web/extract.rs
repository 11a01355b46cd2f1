//! axum's extractors, wrapped so that bad input is answered in our error format.
//!
//! `Json`, `Form` and `Query` also refuse a NUL character (`\u0000`, `%00`) in
//! any text, naming the field: PostgreSQL cannot store it in `text`, so without
//! this check every route would fail with a 500 at its first query.

use axum::extract::{FromRequest, FromRequestParts, RawForm, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub(crate) const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000)";

#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            // axum's own extractor says why (415), in its words.
            return match axum::Json::<serde::de::IgnoredAny>::from_request(req, state).await {
                Err(rejection) => Err(rejection.into()),
                Ok(_) => Err(AppError::BadRequest {
                    status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    detail: "Expected request with `Content-Type: application/json`".into(),
                }),
            };
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| AppError::BadRequest {
                status: rejection.status(),
                detail: rejection.body_text(),
            })?;
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        // A NUL can only be written as an escape in JSON text; most bodies have none.
        if bytes.windows(6).any(|w| w == b"\\u0000")
            && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let Some(field) = json_field_with_nul(&json, String::new())
        {
            return Err(AppError::field(&field, NUL_MESSAGE));
        }
        Ok(Json(value))
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The same test as axum's `Json`: `application/json` or `application/*+json`.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(essence) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let essence = essence.trim().to_ascii_lowercase();
    match essence.split_once('/') {
        Some((kind, subtype)) => {
            kind == "application" && (subtype == "json" || subtype.ends_with("+json"))
        }
        None => false,
    }
}

/// The path (`name`, `values.Role`, `codings[2].memo`) of the first string or
/// object key holding a NUL.
fn json_field_with_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(path_or_body(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| json_field_with_nul(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                Some(join(&key.replace('\0', "")))
            } else {
                json_field_with_nul(item, join(key))
            }
        }),
        _ => None,
    }
}

fn path_or_body(path: String) -> String {
    if path.is_empty() { "body".into() } else { path }
}

/// The first name in `name=value&…` whose name or value holds a NUL.
fn form_field_with_nul(encoded: &[u8]) -> Option<String> {
    if !encoded.contains(&0) && !encoded.windows(3).any(|w| w == b"%00") {
        return None;
    }
    form_urlencoded::parse(encoded)
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| path_or_body(name.replace('\0', "")))
}

/// The value of form field `name` (the first, if sent twice), or "" when absent.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let RawForm(bytes) = RawForm::from_request(req, state)
            .await
            .map_err(|rejection| AppError::BadRequest {
                status: rejection.status(),
                detail: rejection.body_text(),
            })?;
        // As axum's Form does it, which has no way to take the bytes once read.
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(&bytes));
        let value = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            AppError::BadRequest {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: format!("Failed to deserialize form: {error}"),
            }
        })?;
        if let Some(field) = form_field_with_nul(&bytes) {
            return Err(AppError::field(&field, NUL_MESSAGE));
        }
        Ok(Form(value))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        if let Some(field) = form_field_with_nul(parts.uri.query().unwrap_or("").as_bytes()) {
            return Err(AppError::field(&field, NUL_MESSAGE));
        }
        Ok(Query(value))
    }
}

#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// The base of absolute links made for this request (invitations, resets):
/// `--public-url`, else the host the request was sent to, else `--bind`.
#[derive(Debug, Clone)]
pub struct PublicBase(pub String);

impl FromRequestParts<crate::state::AppState> for PublicBase {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        Ok(Self(state.config.base_url_for(host)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_is_found_with_its_path() {
        assert_eq!(
            json_field_with_nul(&json!({"name": "ok"}), String::new()),
            None
        );
        assert_eq!(
            json_field_with_nul(&json!({"name": "a\u{0}b"}), String::new()).as_deref(),
            Some("name")
        );
        assert_eq!(
            json_field_with_nul(
                &json!({"values": {"Role": "x"}, "codings": [{"memo": "ok"}, {"memo": "\u{0}"}]}),
                String::new()
            )
            .as_deref(),
            Some("codings[1].memo")
        );
        assert_eq!(
            json_field_with_nul(&json!({"values": {"Ro\u{0}le": "x"}}), String::new()).as_deref(),
            Some("values.Role")
        );
        assert_eq!(
            json_field_with_nul(&json!("\u{0}"), String::new()).as_deref(),
            Some("body")
        );
    }

    #[test]
    fn nul_in_a_form_names_its_field() {
        assert_eq!(form_field_with_nul(b"name=x&memo=y"), None);
        assert_eq!(
            form_field_with_nul(b"name=x&memo=a%00b").as_deref(),
            Some("memo")
        );
        assert_eq!(form_field_with_nul(b"na%00me=x").as_deref(), Some("name"));
        // "%2500" is the text "%00", not a NUL.
        assert_eq!(form_field_with_nul(b"name=%2500"), None);
    }

    #[test]
    fn json_content_types_match_axums() {
        let with = |ct: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("application/problem+json"));
        assert!(!with("text/json"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
