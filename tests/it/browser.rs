//! Real-browser tests: headless Chromium through chromedriver (see harness/browser.rs).

use crate::harness::browser::Browser;
use crate::harness::{PASSWORD, TestApp};

#[tokio::test]
async fn a_new_install_is_set_up_and_signed_into_in_the_browser() {
    let app = TestApp::spawn().await;
    let browser = Browser::open(&app).await;

    browser.visit("/").await;
    assert_eq!(
        browser.texts("h1").await,
        ["Welcome to Concord"],
        "a new install opens on setup"
    );
    browser
        .submit(
            "#setup-form",
            &[
                ("email", "ana@example.org"),
                ("display_name", "Ana Admin"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;

    browser.element("#new-project-form").await;
    assert_eq!(browser.path().await, "/");
    assert_eq!(
        browser.texts(".topbar nav a").await,
        ["Projects", "Users", "Ana Admin"],
        "signed in as the new site admin"
    );
    assert!(browser.texts("#projects tr.project").await.is_empty());

    browser
        .submit(
            "#new-project-form",
            &[
                ("name", "Pain study"),
                ("description", "Interviews with ward nurses"),
            ],
        )
        .await;
    browser.element(".project-header").await;
    assert!(browser.path().await.starts_with("/projects/"));
    assert_eq!(browser.texts(".project-header h1").await, ["Pain study"]);
    assert_eq!(
        browser.texts("p.description").await,
        ["Interviews with ward nurses"]
    );
    assert_eq!(
        browser.texts("#members tbody td:first-child").await,
        ["Ana Admin"]
    );

    browser.sign_out().await;
    browser.visit("/").await;
    browser.element("#login-form").await;
    assert_eq!(browser.path().await, "/login", "signed out for good");

    browser.sign_in("ana@example.org", PASSWORD).await;
    assert_eq!(
        browser.texts("#projects tr.project td:first-child a").await,
        ["Pain study"]
    );

    let (admins,): (i64,) = sqlx::query_as("select count(*) from users where is_admin")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(admins, 1);
}
