//! The one place project membership is resolved (DESIGN.md invariant 6).

use axum::extract::FromRef;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use super::model::{Project, Role};
use super::store;
use crate::auth::session::CurrentUser;
use crate::db::ids::{ProjectId, UserId};
use crate::error::AppError;
use crate::state::AppState;

/// The caller's membership of the project named by `{project_id}` in the path.
/// A non-member, or an id that names no project, gets 404.
#[derive(Debug, Clone)]
pub struct Member {
    pub user: CurrentUser,
    pub project_id: ProjectId,
    pub project: Project,
    pub role: Role,
}

impl Member {
    /// Owners hold every right, so they pass every check.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        require_role(self.role, roles)
    }

    /// The same membership read again (an open event stream asks when told its
    /// viewer's rights changed): `None` once the member was removed or the
    /// account disabled.
    pub async fn reload(
        conn: &mut sqlx::PgConnection,
        member: &Member,
    ) -> Result<Option<Member>, AppError> {
        if store::user_is_disabled(conn, member.user.id).await? {
            return Ok(None);
        }
        Ok(
            store::find_membership(conn, member.project_id, member.user.id)
                .await?
                .map(|(project, role)| Member {
                    user: member.user.clone(),
                    project_id: member.project_id,
                    project,
                    role,
                }),
        )
    }

    /// Archived projects are read-only until unarchived.
    pub fn require_active(&self) -> Result<(), AppError> {
        require_active(&self.project)
    }
}

/// Owners hold every right, so they pass every check.
fn require_role(role: Role, roles: &[Role]) -> Result<(), AppError> {
    if role == Role::Owner || roles.contains(&role) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Archived projects are read-only until unarchived.
fn require_active(project: &Project) -> Result<(), AppError> {
    if project.archived_at.is_some() {
        return Err(AppError::State(
            "This project is archived; unarchive it to make changes.".into(),
        ));
    }
    Ok(())
}

/// A member acting on their project, as services take it beside a
/// connection: who, on which project, in which role. Handlers make it from the
/// request's [`Member`], commands from [`Actor::of_user`]; nothing of the
/// request (its CSRF token, its client address) comes along.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub project: Project,
    pub role: Role,
}

impl Actor {
    /// A user acting on a project outside any request (the command line, the
    /// demo, benchmarks).
    pub async fn of_user(
        conn: &mut sqlx::PgConnection,
        project_id: ProjectId,
        user: crate::db::ids::UserId,
    ) -> Result<Actor, AppError> {
        let (project, role) = store::find_membership(conn, project_id, user)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Actor {
            user_id: user,
            project_id,
            project,
            role,
        })
    }

    /// Owners hold every right, so they pass every check.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        require_role(self.role, roles)
    }

    /// Archived projects are read-only until unarchived.
    pub fn require_active(&self) -> Result<(), AppError> {
        require_active(&self.project)
    }
}

impl Member {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user.id,
            project_id: self.project_id,
            project: self.project.clone(),
            role: self.role,
        }
    }
}

impl<S> FromRequestParts<S> for Member
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        let project_id: ProjectId = params
            .iter()
            .find(|(name, _)| *name == "project_id")
            .and_then(|(_, value)| value.parse().ok())
            .ok_or(AppError::NotFound)?;
        // Read with the session when the path named this project; else now.
        let preloaded = user
            .auth
            .membership
            .as_ref()
            .filter(|m| m.project_id == project_id)
            .map(|m| m.found.clone());
        let found = match preloaded {
            Some(found) => found,
            None => {
                let state = AppState::from_ref(state);
                let mut conn = state.db.acquire().await?;
                store::find_membership(&mut conn, project_id, user.id).await?
            }
        };
        let (project, role) = found.ok_or(AppError::NotFound)?;
        Ok(Self {
            user,
            project_id,
            project,
            role,
        })
    }
}
