use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, html, select_texts};

#[tokio::test]
async fn each_change_writes_its_audit_event_and_a_failed_change_writes_none() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    assert_eq!(
        app.audit_count(Some(project.id)).await,
        1,
        "project.created"
    );

    let renamed = project
        .owner
        .patch_json(
            &project.api(""),
            &json!({ "name": "Renamed", "version": 1 }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(app.audit_count(Some(project.id)).await, 2);

    let failures = [
        project
            .owner
            .patch_json(&project.api(""), &json!({ "name": "Stale", "version": 1 }))
            .await
            .status(),
        project
            .owner
            .patch_json(&project.api(""), &json!({ "name": "  ", "version": 2 }))
            .await
            .status(),
        project
            .owner
            .post_json(
                &project.api("/members"),
                &json!({ "email": "ghost@example.org", "role": "coder" }),
            )
            .await
            .status(),
    ];
    assert_eq!(
        failures,
        [
            StatusCode::CONFLICT,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY
        ]
    );
    assert_eq!(
        app.audit_count(Some(project.id)).await,
        2,
        "failed changes leave no trace"
    );

    let log: Value = project
        .owner
        .get(&project.api("/audit"))
        .await
        .json()
        .await
        .unwrap();
    let newest = &log["events"][0];
    assert_eq!(newest["action"], "project.updated");
    assert_eq!(newest["before"]["name"], "Pain study");
    assert_eq!(newest["after"]["name"], "Renamed");
    assert_eq!(newest["actor_id"], project.owner.id.to_string());
}

#[tokio::test]
async fn audit_log_page_is_newest_first_and_paged() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    for version in 1..=55 {
        let response = project
            .owner
            .patch_json(
                &project.api(""),
                &json!({ "name": format!("Name {version}"), "version": version }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let first = html(project.owner.get(&project.path("/audit")).await).await;
    let actions = select_texts(&first, "#audit tr.event td.action");
    assert_eq!(actions.len(), 50);
    assert!(actions.iter().all(|a| a == "project.updated"));
    assert_eq!(select_texts(&first, "a[rel=next]"), ["Older"]);
    let second = html(project.owner.get(&project.path("/audit?page=2")).await).await;
    let actions = select_texts(&second, "#audit tr.event td.action");
    assert_eq!(actions.len(), 6);
    assert_eq!(actions.last().unwrap(), "project.created");
    assert!(select_texts(&second, "a[rel=next]").is_empty());

    let bad_page = project.owner.get(&project.api("/audit?page=0")).await;
    assert_eq!(bad_page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let coder = project.member(Role::Coder).await;
    assert_eq!(
        coder.get(&project.path("/audit")).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn audit_events_cannot_be_changed_or_deleted() {
    let app = TestApp::spawn().await;
    let _project = app.project().await;
    let update = sqlx::query("update audit_events set action = 'forged'")
        .execute(&app.pool)
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("delete from audit_events")
        .execute(&app.pool)
        .await;
    assert!(delete.is_err());
    let count: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action <> 'forged'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(count >= 2);
}
