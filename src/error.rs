//! One error type for every handler and extractor. Its response carries an
//! [`ErrorInfo`] that the error layer renders as an HTML page or as
//! `application/problem+json`, so both always share one status.

use std::collections::BTreeMap;

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Messages per field, shown next to the form field or returned as `errors`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .get(field)
            .and_then(|m| m.first())
            .map(String::as_str)
    }

    /// `Ok(())` when nothing was added, else the errors as [`AppError::Invalid`].
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Also what a non-member sees of a project, so membership is not revealed.
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("sign-in required")]
    Unauthenticated,
    #[error("the form has expired or did not come from this site")]
    Csrf,
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A stale write: the body carries the current record.
    #[error("stale write")]
    Conflict(serde_json::Value),
    /// A request that cannot be carried out in the current state (e.g. setup twice).
    #[error("{0}")]
    State(String),
    /// A link that was used, revoked or has expired.
    #[error("{0}")]
    Gone(String),
    #[error("{detail}")]
    BadRequest { status: StatusCode, detail: String },
    /// 413, with what was too large and the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many attempts")]
    Throttled { retry_after_secs: u64 },
    /// PostgreSQL cannot be reached (down, restarting, or the pool is exhausted).
    #[error("database unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Self::Invalid(errors)
    }

    pub fn stale(current: &impl Serialize) -> Self {
        Self::Conflict(serde_json::to_value(current).unwrap_or(serde_json::Value::Null))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            status: StatusCode::BAD_REQUEST,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::State(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::BadRequest { status, .. } => *status,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What the violation of a named constraint tells whoever sent the write.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// 422 on a field.
    Field(&'static str, &'static str),
    /// 409: the write does not fit the record's state.
    State(&'static str),
}

/// Every constraint the schema refuses a user's write with, and what the user
/// is told, in one place. A violation of any other constraint is a bug (500).
const CONSTRAINTS: &[(&str, Refusal)] = &[
    (
        "users_email_key",
        Refusal::Field("email", crate::messages::EMAIL_TAKEN),
    ),
    (
        "transcripts_text_frozen",
        Refusal::Field(
            "text",
            "Coding has started on this transcript, so its text is frozen: every coding must keep pointing at the same words.",
        ),
    ),
    (
        "variables_project_name_key",
        Refusal::Field("name", "The project has a variable of this name already."),
    ),
    (
        "participants_project_label_key",
        Refusal::Field(
            "label",
            "The project has a participant with this label already.",
        ),
    ),
    (
        "agreed_codes_project_name_key",
        Refusal::Field(
            "name",
            "The agreed codebook has a code of this name already.",
        ),
    ),
    (
        "quote_selections_span_key",
        Refusal::Field("coding_id", "This quote is selected already."),
    ),
    (
        "codes_codebook_name_key",
        Refusal::Field("name", "Your codebook has a code of this name already."),
    ),
    (
        "decisions_first_key",
        Refusal::State(crate::messages::DECIDED_MEANWHILE),
    ),
    (
        "decisions_supersedes_key",
        Refusal::State(crate::messages::DECIDED_MEANWHILE),
    ),
    (
        // A coding written while its assignment is withdrawn, or the other way round.
        "codings_layer_assigned",
        Refusal::State(
            "The coder's assignment to this transcript changed at the same moment: reload the page and try again.",
        ),
    ),
    (
        "review_rounds_number_key",
        Refusal::State(
            "Another review round was started at the same moment: reload the page and try again.",
        ),
    ),
];

/// The names in [`CONSTRAINTS`] (a test checks that the schema has each).
pub fn refusing_constraints() -> impl Iterator<Item = &'static str> {
    CONSTRAINTS.iter().map(|(name, _)| *name)
}

/// The refusal a violated named constraint stands for, if it is one of
/// [`CONSTRAINTS`].
pub fn refusal(error: &sqlx::Error) -> Option<AppError> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    let name = db.constraint()?;
    let (_, refusal) = CONSTRAINTS.iter().find(|(n, _)| *n == name)?;
    Some(match *refusal {
        Refusal::Field(field, message) => AppError::field(field, message),
        Refusal::State(message) => AppError::State(message.to_owned()),
    })
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if let Some(refused) = refusal(&error) {
            return refused;
        }
        if database_unreachable(&error) {
            tracing::warn!(%error, "database unavailable");
            return Self::Unavailable;
        }
        Self::Internal(anyhow::Error::new(error).context("database"))
    }
}

/// Errors that say the server is gone or not taking connections, as opposed to
/// a query it refused: the request may succeed later, so they are a 503.
pub fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // Class 08 is "connection exception"; 57P01-57P03 are admin shutdown,
        // crash shutdown and "cannot connect now" (starting up or recovering).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("rendering a template"))
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection {
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => rejection.status(),
        };
        Self::BadRequest {
            status,
            detail: rejection.body_text(),
        }
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        let status = match rejection {
            FormRejection::FailedToDeserializeForm(_)
            | FormRejection::FailedToDeserializeFormBody(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => rejection.status(),
        };
        Self::BadRequest {
            status,
            detail: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest {
            status: StatusCode::BAD_REQUEST,
            detail: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        // A malformed id in a URL names nothing that exists.
        Self::NotFound
    }
}

/// What the error layer needs to render an error, in either format.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorInfo {
    #[serde(skip)]
    pub status: StatusCode,
    pub title: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
}

impl ErrorInfo {
    pub fn from_status(status: StatusCode) -> Self {
        let detail = match status {
            StatusCode::NOT_FOUND => "There is nothing here, or you have no access to it.",
            StatusCode::METHOD_NOT_ALLOWED => "This address does not accept that method.",
            StatusCode::PAYLOAD_TOO_LARGE => crate::messages::TOO_LARGE,
            StatusCode::REQUEST_TIMEOUT => "The request took too long.",
            StatusCode::SERVICE_UNAVAILABLE => {
                "The database is unavailable. Try again in a moment."
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "The request's content type is not accepted here."
            }
            s if s.is_server_error() => "Something went wrong on our side.",
            _ => "The request could not be handled.",
        };
        Self {
            status,
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            detail: detail.to_owned(),
            errors: None,
            current: None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // A database error that reached us through `anyhow` (with context) is
        // still an outage, not a bug.
        let unreachable = matches!(&self, Self::Internal(error) if error
            .chain()
            .any(|e| e.downcast_ref::<sqlx::Error>().is_some_and(database_unreachable)));
        if unreachable {
            tracing::warn!(error = ?self, "database unavailable");
            return Self::Unavailable.render();
        }
        self.render()
    }
}

impl AppError {
    fn render(self) -> Response {
        let status = self.status();
        let mut info = ErrorInfo::from_status(status);
        match &self {
            Self::NotFound | Self::Unavailable | Self::Internal(_) => {}
            Self::Forbidden => {
                info.detail = "Your role in this project does not allow that.".into()
            }
            Self::Unauthenticated => info.detail = "Please sign in.".into(),
            Self::Csrf => {
                info.detail = "The form has expired or did not come from this site. \
                               Reload the page and try again."
                    .into()
            }
            Self::Invalid(errors) => {
                info.detail = "Some fields need attention.".into();
                info.errors = Some(errors.clone());
            }
            Self::Conflict(current) => {
                info.detail = "Someone else changed this in the meantime; \
                               here is the current version."
                    .into();
                info.current = Some(current.clone());
            }
            Self::State(detail)
            | Self::Gone(detail)
            | Self::PayloadTooLarge(detail)
            | Self::BadRequest { detail, .. } => info.detail = detail.clone(),
            Self::Throttled { retry_after_secs } => {
                info.detail = crate::messages::throttled(*retry_after_secs)
            }
        }
        if let Self::Internal(error) = &self {
            tracing::error!(error = ?error, "internal error");
        }
        let mut response = (status, info.detail.clone()).into_response();
        match self {
            Self::Throttled { retry_after_secs } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Self::Unavailable => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1));
            }
            _ => {}
        }
        response.extensions_mut().insert(info);
        response
    }
}
