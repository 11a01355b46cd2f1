//! HTML handlers: the memos page (every memo, one kind, or those on one agreed
//! code or theme with the debriefings that discussed it), and its forms.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::api::ListParams;
use super::service::{self, Access, MemoInput};
use super::store::Memo;
use crate::debriefings::service::{DiscussedIn, date_label};
use crate::error::AppError;
use crate::projects::member::Member;
use crate::state::AppState;
use crate::web::Layout;
use crate::web::extract::{Form, Path, Query, field};

/// The agreed code or theme a page of memos is about.
pub struct Target {
    pub kind: &'static str,
    pub id: uuid::Uuid,
    pub name: String,
    pub definition: String,
    /// "Discussed in the debriefing of 12 March 2026", or empty.
    pub discussed: String,
    pub sessions: Vec<(uuid::Uuid, String)>,
}

#[derive(Template)]
#[template(path = "memos/list.html")]
pub struct MemoListPage {
    layout: Layout,
    member: Member,
    memos: Vec<Memo>,
    kind: String,
    target: Option<Target>,
    /// Why the analytic memos are closed to this member, if they are.
    closed: Option<String>,
    today: String,
}

impl MemoListPage {
    fn date(&self, d: &str) -> String {
        date_label(d)
    }

    fn mine(&self, m: &Memo) -> bool {
        m.author_id == self.member.user.id
    }

    fn kind_label(&self, m: &Memo) -> String {
        match (m.kind.as_str(), &m.target_name) {
            ("journal", _) => format!("Journal of {}", m.author),
            ("code", Some(n)) => format!("On the code {n}"),
            ("node", Some(n)) => format!("On the theme {n}"),
            _ => "On the project".into(),
        }
    }

    fn target_link(&self, m: &Memo) -> String {
        match (m.kind.as_str(), m.target_id) {
            ("code", Some(id)) => format!("?code={id}"),
            ("node", Some(id)) => format!("?node={id}"),
            _ => String::new(),
        }
    }
}

async fn target(
    conn: &mut sqlx::PgConnection,
    member: &Member,
    filter: &super::store::Filter,
    kind: &str,
) -> Result<Option<Target>, AppError> {
    let Some(id) = filter.target else {
        return Ok(None);
    };
    let reader = crate::themes::service::Reader::of(conn, &member.actor()).await?;
    let discussed = crate::debriefings::service::discussed(conn, reader).await?;
    let (kind, name, definition, sessions) = if kind == "node" {
        let nodes = crate::themes::store::list_nodes(conn, member.project_id, reader.proof).await?;
        let n = nodes
            .into_iter()
            .find(|n| n.id.0 == id)
            .ok_or_else(|| AppError::field("node", crate::messages::NO_SUCH_THEME))?;
        (
            "node",
            n.name,
            n.definition,
            discussed.nodes.get(&id).cloned(),
        )
    } else {
        let codes = crate::codebook::store::list_agreed(conn, member.project_id).await?;
        let c = codes
            .into_iter()
            .find(|c| c.id.0 == id)
            .ok_or_else(|| AppError::field("code", crate::messages::NO_SUCH_AGREED_CODE))?;
        (
            "code",
            c.name,
            c.definition,
            discussed.codes.get(&id).cloned(),
        )
    };
    let sessions = sessions.unwrap_or_default();
    Ok(Some(Target {
        kind,
        id,
        name,
        definition,
        discussed: DiscussedIn::sentence(&sessions),
        sessions,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    member: Member,
    layout: Layout,
    Query(params): Query<ListParams>,
) -> Result<Html<String>, AppError> {
    let filter = params.filter()?;
    let mut conn = state.db.acquire().await?;
    let access = Access::of(&mut conn, &member.actor()).await?;
    let closed = (!access.visible.analytic).then(|| {
        "Memos on the project, codes and themes open once you have submitted every transcript you are coding; your journal is yours meanwhile.".to_owned()
    });
    let target_kind = if params.node.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        "node"
    } else {
        "code"
    };
    let (memos, target) = if closed.is_some() && filter.kind.as_deref() != Some("journal") {
        let journal = super::store::Filter {
            kind: Some("journal".into()),
            ..Default::default()
        };
        (service::list(&mut conn, &access, journal).await?, None)
    } else {
        let target = target(&mut conn, &member, &filter, target_kind).await?;
        (
            service::list(&mut conn, &access, filter.clone()).await?,
            target,
        )
    };
    let kind = filter.kind.clone().unwrap_or_default();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    Ok(Html(
        MemoListPage {
            layout,
            member,
            memos,
            kind,
            target,
            closed,
            today,
        }
        .render()?,
    ))
}

fn input(fields: &[(String, String)]) -> Result<MemoInput, AppError> {
    let target = field(fields, "target_id");
    Ok(MemoInput {
        kind: field(fields, "kind").to_owned(),
        target_id: if target.is_empty() {
            None
        } else {
            Some(
                target
                    .parse()
                    .map_err(|_| AppError::field("target_id", "Not an id."))?,
            )
        },
        written_on: Some(field(fields, "written_on").to_owned()),
        title: field(fields, "title").to_owned(),
        body: field(fields, "body").to_owned(),
        version: field(fields, "version").parse().ok(),
    })
}

fn back(member: &Member, fields: &[(String, String)], id: uuid::Uuid) -> Response {
    let back = field(fields, "back");
    let query = if back.starts_with('?') && !back.contains('#') {
        back
    } else {
        ""
    };
    Redirect::to(&format!(
        "/projects/{}/memos{query}#memo-{id}",
        member.project_id
    ))
    .into_response()
}

pub async fn create(
    State(state): State<AppState>,
    member: Member,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = input(&fields)?;
    let mut tx = state.begin().await?;
    let access = Access::of(&mut tx, &member.actor()).await?;
    let made = service::create(&mut tx, &access, input).await?;
    tx.commit().await?;
    Ok(back(&member, &fields, made.id))
}

pub async fn update(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let input = input(&fields)?;
    let mut tx = state.begin().await?;
    let access = Access::of(&mut tx, &member.actor()).await?;
    service::update(&mut tx, &access, id, input).await?;
    tx.commit().await?;
    Ok(back(&member, &fields, id))
}

pub async fn delete(
    State(state): State<AppState>,
    member: Member,
    Path((_, id)): Path<(String, uuid::Uuid)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let mut tx = state.begin().await?;
    let access = Access::of(&mut tx, &member.actor()).await?;
    service::delete(&mut tx, &access, id).await?;
    tx.commit().await?;
    Ok(back(&member, &fields, id))
}
