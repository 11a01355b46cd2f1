//! Concord: collaborative qualitative coding of interview transcripts.

pub mod agreement;
pub mod assignments;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod codebook;
pub mod coding;
pub mod compare;
pub mod config;
pub mod db;
pub mod debriefings;
pub mod demo;
pub mod docx;
pub mod error;
pub mod exports;
pub mod import;
pub mod layers;
pub mod live;
pub mod memos;
pub mod messages;
pub mod participants;
pub mod projects;
pub mod quote_bank;
pub mod reconcile;
pub mod refi;
pub mod review;
pub mod saturation;
pub mod search;
pub mod state;
pub mod themes;
pub mod transcripts;
pub mod web;
pub mod writeup;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::AppError;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every feature's routes, with their paths.
pub fn routes(config: &config::Config) -> web::routes::Routes {
    web::routes::Routes::new()
        .merge(auth::routes())
        .merge(projects::routes())
        .merge(audit::routes())
        .merge(assignments::routes())
        .merge(coding::routes())
        .merge(compare::routes())
        .merge(reconcile::routes())
        .merge(codebook::routes())
        .merge(themes::routes())
        .merge(quote_bank::routes())
        .merge(review::routes())
        .merge(debriefings::routes())
        .merge(memos::routes())
        .merge(search::routes())
        .merge(exports::routes())
        .merge(refi::routes(config.max_upload_bytes))
        .merge(writeup::routes())
        .merge(participants::routes(config.max_upload_bytes))
        .merge(transcripts::routes(config.max_upload_bytes))
        .merge(web::routes::Routes::new().route("/api/v1/openapi.json", get(web::openapi::serve)))
}

pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let features = routes(&config)
        .into_router()
        .fallback(|| async { AppError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::session::authenticate,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));

    let static_files = web::assets::service(&config.static_dir, state.build_id.clone());

    Router::new()
        .route("/healthz", get(healthz))
        // For browsers that ask for it without reading the page's icon link.
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/static/favicon.svg") }),
        )
        .nest_service("/static", static_files)
        .merge(features)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    let path = request
                        .extensions()
                        .get::<axum::extract::MatchedPath>()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_else(|| request.uri().path().to_owned());
                    tracing::info_span!("request", method = %request.method(), path, request_id)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn(web::layers::security_headers))
                .layer(middleware::from_fn(web::layers::render_errors))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(config.request_timeout_secs),
                )),
        )
        .with_state(state)
}

/// 200 when the database answers, 503 when it does not, within a second.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let query = sqlx::query_scalar!("select 1 as \"one!\"").fetch_one(&state.db);
    match tokio::time::timeout(Duration::from_millis(800), query)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut))
    {
        Ok(_) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ok" })),
        ),
        Err(error) => {
            tracing::error!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "database unavailable" })),
            )
        }
    }
}
