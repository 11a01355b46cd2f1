use concord::db::ids::UserId;
use concord::projects::model::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, TestClient, TestProject, html, select_texts};

/// Every project route that exists, as (name, method, kind). Routes are called
/// in this order, so state-changing ones restore what later ones need.
#[derive(Clone, Copy, Debug)]
enum Route {
    Dashboard,
    SettingsPage,
    SaveSettings,
    Archive,
    Unarchive,
    AddMember,
    ChangeRole,
    RemoveMember,
    AuditPage,
    ApiGet,
    ApiPatch,
    ApiArchive,
    ApiUnarchive,
    ApiMembers,
    ApiAddMember,
    ApiChangeRole,
    ApiRemoveMember,
    ApiAudit,
}

const ROUTES: [Route; 18] = [
    Route::Dashboard,
    Route::SettingsPage,
    Route::SaveSettings,
    Route::Archive,
    Route::Unarchive,
    Route::AddMember,
    Route::ChangeRole,
    Route::RemoveMember,
    Route::AuditPage,
    Route::ApiGet,
    Route::ApiPatch,
    Route::ApiArchive,
    Route::ApiUnarchive,
    Route::ApiMembers,
    Route::ApiAddMember,
    Route::ApiChangeRole,
    Route::ApiRemoveMember,
    Route::ApiAudit,
];

impl Route {
    /// What an owner gets; everyone else gets this for reads open to all
    /// members, 403 otherwise.
    fn owner_status(self) -> StatusCode {
        match self {
            Route::Dashboard
            | Route::SettingsPage
            | Route::AuditPage
            | Route::ApiGet
            | Route::ApiPatch
            | Route::ApiArchive
            | Route::ApiUnarchive
            | Route::ApiMembers
            | Route::ApiChangeRole
            | Route::ApiAudit => StatusCode::OK,
            Route::ApiAddMember => StatusCode::CREATED,
            Route::ApiRemoveMember => StatusCode::NO_CONTENT,
            _ => StatusCode::SEE_OTHER,
        }
    }

    fn open_to_all_members(self) -> bool {
        matches!(self, Route::Dashboard | Route::ApiGet | Route::ApiMembers)
    }
}

async fn version_of(project: &TestProject<'_>) -> i64 {
    let body: Value = project
        .owner
        .get(&project.api(""))
        .await
        .json()
        .await
        .unwrap();
    body["version"].as_i64().unwrap()
}

async fn member_version(project: &TestProject<'_>, user: UserId) -> i64 {
    let members: Value = project
        .owner
        .get(&project.api("/members"))
        .await
        .json()
        .await
        .unwrap();
    members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.to_string())
        .map(|m| m["version"].as_i64().unwrap())
        .unwrap_or(1)
}

async fn call(
    client: &TestClient,
    route: Route,
    project: &TestProject<'_>,
    target: (UserId, &str),
) -> StatusCode {
    let (target_id, target_email) = target;
    let version = version_of(project).await.to_string();
    let role_version = member_version(project, target_id).await.to_string();
    let member_path = format!("/members/{target_id}");
    let response =
        match route {
            Route::Dashboard => client.get(&project.path("")).await,
            Route::SettingsPage => client.get(&project.path("/settings")).await,
            Route::SaveSettings => {
                client
                    .post_form(
                        &project.path("/settings"),
                        &[
                            ("name", "Renamed"),
                            ("description", ""),
                            ("version", &version),
                        ],
                    )
                    .await
            }
            Route::Archive => client.post_form(&project.path("/archive"), &[]).await,
            Route::Unarchive => client.post_form(&project.path("/unarchive"), &[]).await,
            Route::AddMember => {
                client
                    .post_form(
                        &project.path("/members"),
                        &[("email", target_email), ("role", "coder")],
                    )
                    .await
            }
            Route::ChangeRole => {
                client
                    .post_form(
                        &project.path(&format!("{member_path}/role")),
                        &[("role", "reviewer"), ("version", &role_version)],
                    )
                    .await
            }
            Route::RemoveMember => {
                client
                    .post_form(&project.path(&format!("{member_path}/remove")), &[])
                    .await
            }
            Route::AuditPage => client.get(&project.path("/audit")).await,
            Route::ApiGet => client.get(&project.api("")).await,
            Route::ApiPatch => client
                .patch_json(
                    &project.api(""),
                    &json!({ "name": "Renamed again", "version": version.parse::<i64>().unwrap() }),
                )
                .await,
            Route::ApiArchive => client.post_json(&project.api("/archive"), &json!({})).await,
            Route::ApiUnarchive => {
                client
                    .post_json(&project.api("/unarchive"), &json!({}))
                    .await
            }
            Route::ApiMembers => client.get(&project.api("/members")).await,
            Route::ApiAddMember => {
                client
                    .post_json(
                        &project.api("/members"),
                        &json!({ "email": target_email, "role": "coder" }),
                    )
                    .await
            }
            Route::ApiChangeRole => {
                client
                    .send_json(
                        Method::PATCH,
                        &project.api(&member_path),
                        &json!({ "role": "lead", "version": role_version.parse::<i64>().unwrap() }),
                    )
                    .await
            }
            Route::ApiRemoveMember => client.delete(&project.api(&member_path)).await,
            Route::ApiAudit => client.get(&project.api("/audit")).await,
        };
    response.status()
}

#[tokio::test]
async fn each_role_gets_what_it_may_on_every_project_route() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let lead = project.member(Role::Lead).await;
    let coder = project.member(Role::Coder).await;
    let reviewer = project.member(Role::Reviewer).await;
    let target = app.signed_in("target@example.org", false).await;

    for route in ROUTES {
        for (role, client) in [
            (Role::Lead, &lead),
            (Role::Coder, &coder),
            (Role::Reviewer, &reviewer),
        ] {
            let expected = if route.open_to_all_members() {
                route.owner_status()
            } else {
                StatusCode::FORBIDDEN
            };
            let status = call(client, route, &project, (target.id, &target.email)).await;
            assert_eq!(status, expected, "{role:?} on {route:?}");
        }
        let status = call(&project.owner, route, &project, (target.id, &target.email)).await;
        assert_eq!(status, route.owner_status(), "Owner on {route:?}");
    }
}

#[tokio::test]
async fn non_members_get_404_for_every_project_route() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let target = project.member(Role::Coder).await;
    let outsider = app.signed_in("outsider@example.org", true).await;
    for route in ROUTES {
        let status = call(&outsider, route, &project, (target.id, &target.email)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "outsider on {route:?}");
    }
    // Unknown and malformed project ids are simply not found.
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(
        project
            .owner
            .get(&format!("/projects/{unknown}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        project.owner.get("/projects/not-a-uuid").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        project
            .owner
            .get("/api/v1/projects/not-a-uuid")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let name: String = sqlx::query_scalar("select name from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "Pain study", "nothing changed");
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_or_get_401() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let visitor = app.client();
    let page = visitor.get(&project.path("")).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login?next=")
    );
    assert_eq!(
        visitor.get(&project.api("")).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn ids_of_another_project_are_not_found_and_change_nothing() {
    let app = TestApp::spawn().await;
    let first = app.project().await;
    let second = app.project().await;
    let their_coder = second.member(Role::Coder).await;
    let path = first.api(&format!("/members/{}", their_coder.id));
    let response = first
        .owner
        .patch_json(&path, &json!({ "role": "lead", "version": 1 }))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        first.owner.delete(&path).await.status(),
        StatusCode::NOT_FOUND
    );
    let role: String = sqlx::query_scalar("select role from project_members where user_id = $1")
        .bind(their_coder.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "coder");
}

#[tokio::test]
async fn stale_project_update_gets_409_with_the_current_record() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let first = project
        .owner
        .patch_json(&project.api(""), &json!({ "name": "First", "version": 1 }))
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let stale = project
        .owner
        .patch_json(&project.api(""), &json!({ "name": "Second", "version": 1 }))
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let body: Value = stale.json().await.unwrap();
    assert_eq!(body["current"]["name"], "First");
    assert_eq!(body["current"]["version"], 2);

    let page = project
        .owner
        .post_form(
            &project.path("/settings"),
            &[("name", "Third"), ("version", "1")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::CONFLICT);
    let page = html(page).await;
    assert_eq!(select_texts(&page, "[role=alert]").len(), 1);
    let name: String = sqlx::query_scalar("select name from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "First");
}

#[tokio::test]
async fn a_project_always_keeps_an_owner() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let me = project.owner.id;
    let demote = project
        .owner
        .patch_json(
            &project.api(&format!("/members/{me}")),
            &json!({ "role": "lead", "version": 1 }),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert_eq!(
        project
            .owner
            .delete(&project.api(&format!("/members/{me}")))
            .await
            .status(),
        StatusCode::CONFLICT
    );

    let second = project.member(Role::Coder).await;
    let promote = project
        .owner
        .patch_json(
            &project.api(&format!("/members/{}", second.id)),
            &json!({ "role": "owner", "version": 1 }),
        )
        .await;
    assert_eq!(promote.status(), StatusCode::OK);
    assert_eq!(
        project
            .owner
            .delete(&project.api(&format!("/members/{me}")))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        project.owner.get(&project.path("")).await.status(),
        StatusCode::NOT_FOUND,
        "gone once removed"
    );
}

#[tokio::test]
async fn archived_projects_are_read_only_until_unarchived() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let extra = app.signed_in("extra@example.org", false).await;
    project
        .owner
        .post_form(&project.path("/archive"), &[])
        .await;
    let rename = project
        .owner
        .patch_json(&project.api(""), &json!({ "name": "X", "version": 2 }))
        .await;
    assert_eq!(rename.status(), StatusCode::CONFLICT);
    let add = project
        .owner
        .post_json(
            &project.api("/members"),
            &json!({ "email": extra.email, "role": "coder" }),
        )
        .await;
    assert_eq!(add.status(), StatusCode::CONFLICT);
    assert_eq!(
        project.owner.get(&project.path("")).await.status(),
        StatusCode::OK,
        "still readable"
    );
    let home = html(project.owner.get("/").await).await;
    assert_eq!(select_texts(&home, "tr.project.archived").len(), 1);

    project
        .owner
        .post_form(&project.path("/unarchive"), &[])
        .await;
    let add = project
        .owner
        .post_json(
            &project.api("/members"),
            &json!({ "email": extra.email, "role": "coder" }),
        )
        .await;
    assert_eq!(add.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn home_lists_only_the_users_projects_and_the_dashboard_lists_members() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let _other = app.project().await;
    let coder = project.member(Role::Coder).await;
    let home = html(coder.get("/").await).await;
    assert_eq!(
        select_texts(&home, "#projects tr.project td a"),
        ["Pain study"]
    );
    let dashboard = html(coder.get(&project.path("")).await).await;
    let roles = select_texts(&dashboard, "#members td.role");
    assert_eq!(roles, ["Owner", "Coder"]);
    assert!(
        select_texts(&dashboard, "#add-member-form").is_empty(),
        "only owners manage members"
    );
}

#[tokio::test]
async fn adding_a_member_needs_an_existing_account_and_a_known_role() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let unknown = project
        .owner
        .post_json(
            &project.api("/members"),
            &json!({ "email": "ghost@example.org", "role": "coder" }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = unknown.json().await.unwrap();
    assert!(body["errors"]["email"].is_array());
    let user = app.signed_in("real@example.org", false).await;
    let bad_role = project
        .owner
        .post_json(
            &project.api("/members"),
            &json!({ "email": user.email, "role": "admin" }),
        )
        .await;
    assert_eq!(bad_role.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = project
        .owner
        .post_form(
            &project.path("/members"),
            &[("email", "ghost@example.org"), ("role", "coder")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(select_texts(&html(page).await, ".field-error").len(), 1);
    let members: i64 = sqlx::query_scalar("select count(*) from project_members")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(members, 1);
}

#[tokio::test]
async fn the_schema_refuses_rows_that_point_into_another_project() {
    let app = TestApp::spawn().await;
    let ours = app.project().await;
    let theirs = app.project().await;
    let our_transcript = ours.import_text("P01.txt", "P01: Ours.").await;
    let their_transcript = theirs.import_text("P02.txt", "P02: Theirs.").await;
    let coder = ours.member(Role::Coder).await;
    let code = uuid::Uuid::new_v4();
    let made = coder
        .post_json(&ours.api("/codes"), &json!({ "id": code, "name": "ours" }))
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let insert = |transcript: String| {
        sqlx::query(
            "insert into codings (id, project_id, transcript_id, coder_id, code_id, start_offset, end_offset)
             values ($1, $2, $3::uuid, $4, $5, 0, 3)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(ours.id.0)
        .bind(transcript)
        .bind(coder.id.0)
        .bind(code)
        .execute(&app.pool)
    };
    let refused = insert(their_transcript).await.unwrap_err();
    assert!(
        refused.to_string().contains("codings_layer_assigned"),
        "{refused}"
    );
    // A coding needs its layer: the coder assigned to the transcript.
    let unassigned = insert(our_transcript.clone()).await.unwrap_err();
    assert!(
        unassigned.to_string().contains("codings_layer_assigned"),
        "{unassigned}"
    );
    sqlx::query(
        "insert into assignments (id, project_id, transcript_id, user_id, state)
         values ($1, $2, $3::uuid, $4, 'assigned')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(ours.id.0)
    .bind(our_transcript.clone())
    .bind(coder.id.0)
    .execute(&app.pool)
    .await
    .expect("an assignment of our own transcript");
    insert(our_transcript.clone())
        .await
        .expect("a coding of our own transcript");
    // Nor can the assignment go while a coding is on it.
    let withdrawn = sqlx::query(
        "delete from assignments where project_id = $1 and transcript_id = $2::uuid and user_id = $3",
    )
    .bind(ours.id.0)
    .bind(our_transcript)
    .bind(coder.id.0)
    .execute(&app.pool)
    .await
    .unwrap_err();
    assert!(
        withdrawn.to_string().contains("codings_layer_assigned"),
        "{withdrawn}"
    );
    let assignment = sqlx::query(
        "insert into assignments (id, project_id, transcript_id, user_id, state)
         values ($1, $2, $3::uuid, $4, 'assigned')",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(ours.id.0)
    .bind(theirs.import_text("P03.txt", "P03: Also theirs.").await)
    .bind(coder.id.0)
    .execute(&app.pool)
    .await
    .unwrap_err();
    assert!(
        assignment
            .to_string()
            .contains("assignments_transcript_same_project"),
        "{assignment}"
    );
}
