//! `/api/v1` twins of the memo pages.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::service::{self, Access, MemoInput};
use super::store::{Filter, Memo};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::extract::{Json, Path, Query};

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    pub kind: Option<String>,
    pub node: Option<String>,
    pub code: Option<String>,
    pub author: Option<String>,
}

impl ListParams {
    pub fn filter(&self) -> Result<Filter, AppError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let kind = given(&self.kind);
        if let Some(k) = &kind
            && !["project", "code", "node", "journal"].contains(&k.as_str())
        {
            return Err(AppError::field(
                "kind",
                "Choose project, code, node or journal.",
            ));
        }
        let target = match (given(&self.node), given(&self.code)) {
            (Some(_), Some(_)) => {
                return Err(AppError::field(
                    "node",
                    "Ask for a theme's or a code's memos, not both.",
                ));
            }
            (Some(id), None) => Some(("node", id)),
            (None, Some(id)) => Some(("code", id)),
            (None, None) => None,
        };
        let target = match target {
            Some((field, id)) => Some(
                id.parse::<uuid::Uuid>()
                    .map_err(|_| AppError::field(field, "Not an id."))?,
            ),
            None => None,
        };
        Ok(Filter {
            kind,
            target,
            author: service::author(self.author.as_deref())?,
            ..Filter::default()
        })
    }
}

pub async fn list(
    State(state): State<AppState>,
    member: Member,
    Query(params): Query<ListParams>,
) -> Result<Json<Vec<Memo>>, AppError> {
    let filter = params.filter()?;
    let mut conn = state.db.acquire().await?;
    let access = Access::of(&mut conn, &member.actor()).await?;
    Ok(Json(service::list(&mut conn, &access, filter).await?))
}

pub async fn create(
    State(state): State<AppState>,
    member: Member,
    Json(body): Json<MemoInput>,
) -> Result<(StatusCode, Json<Memo>), AppError> {
    let mut tx = state.begin().await?;
    let access = Access::of(&mut tx, &member.actor()).await?;
    let made = service::create(&mut tx, &access, body).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(made)))
}

pub async fn show(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
) -> Result<Json<Memo>, AppError> {
    let mut conn = state.db.acquire().await?;
    let access = Access::of(&mut conn, &member.actor()).await?;
    Ok(Json(service::get(&mut conn, &access, id).await?))
}

pub async fn update(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
    Json(body): Json<MemoInput>,
) -> Result<Json<Memo>, AppError> {
    let mut tx = state.begin().await?;
    let access = Access::of(&mut tx, &member.actor()).await?;
    let changed = service::update(&mut tx, &access, id, body).await?;
    tx.commit().await?;
    Ok(Json(changed))
}

pub async fn delete(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
) -> Result<StatusCode, AppError> {
    let mut tx = state.begin().await?;
    let access = Access::of(&mut tx, &member.actor()).await?;
    service::delete(&mut tx, &access, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
