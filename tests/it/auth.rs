use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp, html, location, select_texts};

#[tokio::test]
async fn fresh_install_shows_setup_page_and_creates_the_first_admin() {
    let app = TestApp::spawn().await;
    let visitor = app.client();
    let page = visitor.get("/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = html(page).await;
    assert_eq!(select_texts(&page, "h1"), ["Welcome to Concord"]);
    assert_eq!(
        select_texts(&page, "form#setup-form button"),
        ["Create admin account"]
    );

    let response = visitor
        .post_form(
            "/setup",
            &[
                ("email", "ana@example.org"),
                ("display_name", "Ana"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let me: Value = visitor.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["email"], "ana@example.org");
    assert_eq!(me["is_admin"], true);
    assert_eq!(app.audit_count(None).await, 1, "setup is on the record");

    // Once an account exists, setup is closed for everyone else.
    let other = app.client();
    assert_eq!(location(&other.get("/").await), "/login");
    let again = other
        .post_form(
            "/setup",
            &[
                ("email", "eve@example.org"),
                ("display_name", "Eve"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let count: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn setup_with_bad_fields_shows_the_form_again_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let visitor = app.client();
    let response = visitor
        .post_form(
            "/setup",
            &[
                ("email", "not-an-email"),
                ("display_name", " "),
                ("password", "short"),
                ("password_confirm", "other"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(response).await;
    let errors = select_texts(&page, ".field-error");
    assert_eq!(errors.len(), 4, "{errors:?}");
    let count: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn sign_in_succeeds_with_the_right_password_and_never_says_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    app.create_user("ben@example.org", "Ben", false).await;
    let client = app.client();

    let wrong_password = client.sign_in("ben@example.org", "not the password").await;
    let unknown_account = client
        .sign_in("nobody@example.org", "not the password")
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_account.status(), StatusCode::UNAUTHORIZED);
    let a = select_texts(&html(wrong_password).await, "[role=alert]");
    let b = select_texts(&html(unknown_account).await, "[role=alert]");
    assert_eq!(a, b, "the same message for both");
    assert_eq!(
        client.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let ok = client.sign_in("BEN@example.org", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("concord_session="));
    let cookie = cookie.expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
    let me: Value = client.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["display_name"], "Ben");
}

#[tokio::test]
async fn session_cookie_is_secure_when_served_over_https() {
    let app =
        TestApp::spawn_with(|c| c.public_url = Some("https://concord.example.org".into())).await;
    app.create_user("ben@example.org", "Ben", false).await;
    let response = app.client().sign_in("ben@example.org", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("concord_session="))
        .unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn sign_in_is_throttled_per_account_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    app.create_user("ben@example.org", "Ben", false).await;
    let client = app.client();
    for _ in 0..app.config.login_max_failures_account {
        assert_eq!(
            client
                .sign_in("ben@example.org", "wrong password!")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = client.sign_in("ben@example.org", PASSWORD).await;
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = blocked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60);
    assert_eq!(
        client.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Another account from the same address is not locked by Ben's failures.
    app.create_user("cleo@example.org", "Cleo", false).await;
    assert_eq!(
        client.sign_in("cleo@example.org", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_in_is_throttled_per_address_across_accounts() {
    let app = TestApp::spawn_with(|c| c.login_max_failures_address = 3).await;
    app.create_user("ben@example.org", "Ben", false).await;
    let client = app.client();
    for i in 0..3 {
        let response = client
            .sign_in(&format!("guess{i}@example.org"), "wrong password!")
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        client.sign_in("ben@example.org", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let cookie: String = sqlx::query_scalar("select encode(token_hash, 'hex') from sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!cookie.is_empty());
    let response = ben.post_form("/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ben.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn expired_session_is_refused_and_pages_redirect_to_sign_in() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    assert_eq!(ben.get("/").await.status(), StatusCode::OK);
    sqlx::query("update sessions set expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        ben.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = ben.get("/account").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/login?next=%2Faccount");
}

#[tokio::test]
async fn requests_without_the_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;

    let no_token = ben
        .http
        .post(ben.url("/projects"))
        .form(&[("name", "Sneaky")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let wrong_token = ben
        .http
        .post(ben.url("/projects"))
        .form(&[("name", "Sneaky"), ("_csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), StatusCode::FORBIDDEN);
    let json_without_header = ben
        .http
        .post(ben.url("/api/v1/projects"))
        .json(&json!({ "name": "Sneaky" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_without_header.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json_without_header.headers()["content-type"],
        "application/problem+json"
    );
    let projects: i64 = sqlx::query_scalar("select count(*) from projects")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(projects, 0);

    // Sign-in forms are protected too (login CSRF), by the pre-session cookie.
    let anonymous = app.client();
    let forged = anonymous
        .http
        .post(anonymous.url("/login"))
        .form(&[("email", "ben@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let ok = ben.post_form("/projects", &[("name", "Real")]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn invite_link_creates_an_account_once_and_only_before_it_expires() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let response = admin
        .post_form("/admin/invites", &[("email", "dana@example.org")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = html(response).await;
    let link = select_texts(&page, "#shown-link")
        .pop()
        .expect("the link is shown to the admin");
    let path = link
        .strip_prefix(&app.url(""))
        .expect("absolute link")
        .to_owned();
    assert!(path.starts_with("/invite/"));

    let dana = app.client();
    let form = dana.get(&path).await;
    assert_eq!(form.status(), StatusCode::OK);
    assert!(select_texts(&html(form).await, "strong").contains(&"dana@example.org".to_owned()));
    let accepted = dana
        .post_form(
            &path,
            &[
                ("display_name", "Dana"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let me: Value = dana.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["email"], "dana@example.org");
    assert_eq!(me["is_admin"], false);

    let reused = app
        .client()
        .post_form(
            &path,
            &[
                ("display_name", "Mallory"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reused.status(), StatusCode::GONE);
    assert_eq!(app.client().get(&path).await.status(), StatusCode::GONE);

    let second: Value = admin
        .post_json("/api/v1/invites", &json!({ "email": "eli@example.org" }))
        .await
        .json()
        .await
        .unwrap();
    let path = second["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.url(""))
        .unwrap()
        .to_owned();
    sqlx::query(
        "update account_tokens set expires_at = now() - interval '1 minute' where used_at is null",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let expired = app
        .client()
        .post_form(
            &path,
            &[
                ("display_name", "Eli"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(expired.status(), StatusCode::GONE);
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 2, "admin and Dana only");
}

#[tokio::test]
async fn only_admins_invite_and_manage_users() {
    let app = TestApp::spawn().await;
    let _admin = app.admin().await;
    let ben = app.signed_in("ben@example.org", false).await;
    assert_eq!(
        ben.get("/admin/users").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ben.post_form("/admin/invites", &[("email", "x@example.org")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ben.post_json("/api/v1/invites", &json!({ "email": "x@example.org" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ben.get("/api/v1/users").await.status(),
        StatusCode::FORBIDDEN
    );
    let invites: i64 = sqlx::query_scalar("select count(*) from account_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(invites, 0);
}

#[tokio::test]
async fn disabled_users_lose_their_sessions_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let response = admin
        .post_form(&format!("/admin/users/{}/disable", ben.id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ben.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client()
            .sign_in("ben@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let self_disable = admin
        .post_form(&format!("/admin/users/{}/disable", admin.id), &[])
        .await;
    assert_eq!(self_disable.status(), StatusCode::CONFLICT);

    admin
        .post_form(&format!("/admin/users/{}/enable", ben.id), &[])
        .await;
    assert_eq!(
        app.client()
            .sign_in("ben@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn password_reset_link_sets_a_new_password_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let body: Value = admin
        .post_json(&format!("/api/v1/users/{}/reset", ben.id), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let path = body["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.url(""))
        .unwrap()
        .to_owned();
    assert!(path.starts_with("/reset/"));
    let new_password = "a brand new passphrase";
    let done = app
        .client()
        .post_form(
            &path,
            &[
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ben.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "old sessions end"
    );
    assert_eq!(
        app.client()
            .sign_in("ben@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.client()
            .sign_in("ben@example.org", new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let again = app
        .client()
        .post_form(
            &path,
            &[
                ("password", "yet another passphrase"),
                ("password_confirm", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
}

#[tokio::test]
async fn users_change_their_own_password_only_with_the_current_one() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let other_session = app.client();
    other_session.sign_in("ben@example.org", PASSWORD).await;

    let new_password = "another long passphrase";
    let wrong = ben
        .post_form(
            "/account/password",
            &[
                ("current_password", "nope nope nope"),
                ("new_password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ok = ben
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(
        ben.get("/api/v1/me").await.status(),
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        other_session.get("/api/v1/me").await.status(),
        StatusCode::UNAUTHORIZED,
        "others end"
    );
    assert_eq!(
        app.client()
            .sign_in("ben@example.org", new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn api_tokens_authenticate_without_cookies_until_revoked() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let created = ben
        .post_json("/api/v1/tokens", &json!({ "name": "export script" }))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_ne!(stored, secret.as_bytes(), "only the hash is stored");

    let script = reqwest::Client::new();
    let me: Value = script
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ben@example.org");
    // No CSRF token is needed: a bearer token is never sent by a browser on its own.
    let project = script
        .post(app.url("/api/v1/projects"))
        .bearer_auth(&secret)
        .json(&json!({ "name": "Scripted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(project.status(), StatusCode::CREATED);

    let bad = script
        .get(app.url("/api/v1/me"))
        .bearer_auth("cnc_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    let id = created["id"].as_str().unwrap();
    assert_eq!(
        ben.delete(&format!("/api/v1/tokens/{id}")).await.status(),
        StatusCode::OK
    );
    let revoked = script
        .get(app.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);

    // Another user cannot revoke Ben's token.
    let cleo = app.signed_in("cleo@example.org", false).await;
    assert_eq!(
        cleo.delete(&format!("/api/v1/tokens/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn account_page_shows_a_new_token_once() {
    let app = TestApp::spawn().await;
    let ben = app.signed_in("ben@example.org", false).await;
    let response = ben
        .post_form("/account/tokens", &[("name", "laptop")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = html(response).await;
    let secret = select_texts(&page, "#new-token").pop().unwrap();
    assert!(secret.starts_with("cnc_"));
    let later = html(ben.get("/account").await).await;
    assert!(select_texts(&later, "#new-token").is_empty());
    assert_eq!(select_texts(&later, "tr.token td:first-child"), ["laptop"]);
}

#[tokio::test]
async fn parallel_wrong_passwords_for_one_account_cannot_all_be_checked_against_the_limit() {
    let app = TestApp::spawn().await;
    app.create_user("ben@example.org", "Ben", false).await;
    let client = app.client();
    let token = client.csrf_token().await;
    let attempts = (0..24).map(|_| {
        client
            .http
            .post(client.url("/api/v1/session"))
            .header("x-csrf-token", &token)
            .json(&json!({ "email": "ben@example.org", "password": "wrong password!" }))
            .send()
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let limit = app.config.login_max_failures_account as usize;
    assert_eq!((checked, throttled), (limit, 24 - limit), "{statuses:?}");
    let recorded: i64 = sqlx::query_scalar(
        "select count(*) from login_failures where throttle_key = 'account:ben@example.org'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded, limit as i64);

    // A right password is counted while it is checked, then taken back.
    app.create_user("cleo@example.org", "Cleo", false).await;
    assert_eq!(
        app.client()
            .sign_in("cleo@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let address: i64 = sqlx::query_scalar(
        "select count(*) from login_failures where throttle_key like 'address:%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(address, limit as i64, "only the wrong passwords count");
}

/// The admin's own new project; answers its id.
async fn own_project(admin: &crate::harness::TestUser, name: &str) -> String {
    let created: Value = admin
        .post_json("/api/v1/projects", &json!({ "name": name }))
        .await
        .json()
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_invitation_names_a_project_and_role_and_accepting_it_makes_the_member() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let project = own_project(&admin, "Pain study").await;
    let response = admin
        .post_json(
            "/api/v1/invites",
            &json!({ "email": "dana@example.org", "project_id": project, "role": "coder" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let invite: Value = response.json().await.unwrap();
    let token = invite["token"].as_str().expect("the token as a field");
    assert!(!token.is_empty());
    assert!(
        invite["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/invite/{token}")),
        "{invite}"
    );
    assert_eq!(invite["project_id"], project.as_str());
    assert_eq!(invite["role"], "coder");

    let dana = app.client();
    let page = html(dana.get(&format!("/invite/{token}")).await).await;
    assert!(
        select_texts(&page, "#invite-project")
            .join(" ")
            .contains("Pain study"),
        "the invited person sees where they are going"
    );
    let accepted = dana
        .post_json(
            &format!("/api/v1/invites/{token}/accept"),
            &json!({ "display_name": "Dana", "password": PASSWORD }),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let members: Value = admin
        .get(&format!("/api/v1/projects/{project}/members"))
        .await
        .json()
        .await
        .unwrap();
    let dana_row = members
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "dana@example.org")
        .expect("Dana is a member")
        .clone();
    assert_eq!(dana_row["role"], "coder");
    let added: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'member.added' and project_id = $1::uuid",
    )
    .bind(&project)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(added, 1, "the membership is on the project's record");
    let projects: Value = dana.get("/api/v1/projects").await.json().await.unwrap();
    assert_eq!(projects.as_array().unwrap().len(), 1, "{projects}");

    // The form on the Users page offers the admin's own projects and the roles.
    let page = html(admin.get("/admin/users").await).await;
    assert_eq!(
        select_texts(&page, "#invite-form select[name=project_id] option"),
        ["No project", "Pain study"]
    );
    let shown = admin
        .post_form(
            "/admin/invites",
            &[
                ("email", "eli@example.org"),
                ("project_id", &project),
                ("role", "reviewer"),
            ],
        )
        .await;
    assert_eq!(shown.status(), StatusCode::OK);
    let page = html(shown).await;
    assert!(!select_texts(&page, "#shown-link").is_empty());

    // Only projects the admin owns, and real roles; a refused invitation leaves no link.
    let other = app.project().await;
    let before: i64 = sqlx::query_scalar("select count(*) from account_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for (body, field) in [
        (
            json!({ "email": "fay@example.org", "project_id": other.id, "role": "coder" }),
            "project_id",
        ),
        (
            json!({ "email": "fay@example.org", "project_id": project, "role": "boss" }),
            "role",
        ),
        (
            json!({ "email": "fay@example.org", "project_id": project }),
            "role",
        ),
        (
            json!({ "email": "fay@example.org", "project_id": "nonsense", "role": "coder" }),
            "project_id",
        ),
    ] {
        let refused = admin.post_json("/api/v1/invites", &body).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let problem: Value = refused.json().await.unwrap();
        assert!(problem["errors"][field].is_array(), "{body}: {problem}");
    }
    let after: i64 = sqlx::query_scalar("select count(*) from account_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn pending_invitations_are_listed_and_a_withdrawn_one_no_longer_works() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let mut tokens = Vec::new();
    for email in ["gil@example.org", "hal@example.org", "ivy@example.org"] {
        let invite: Value = admin
            .post_json("/api/v1/invites", &json!({ "email": email }))
            .await
            .json()
            .await
            .unwrap();
        tokens.push(invite["token"].as_str().unwrap().to_owned());
    }
    // Ivy accepts: hers is no longer pending.
    let accepted = app
        .client()
        .post_json(
            &format!("/api/v1/invites/{}/accept", tokens[2]),
            &json!({ "display_name": "Ivy", "password": PASSWORD }),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::CREATED);

    let pending: Value = admin.get("/api/v1/invites").await.json().await.unwrap();
    let emails: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["hal@example.org", "gil@example.org"],
        "newest first"
    );
    let page = html(admin.get("/admin/users").await).await;
    let rows = select_texts(&page, "#pending-invites tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].contains("hal@example.org"));

    // Withdraw Gil's on the page and Hal's through the API.
    let gil = pending[1]["id"].as_str().unwrap();
    let withdrawn = admin
        .post_form(&format!("/admin/invites/{gil}/withdraw"), &[])
        .await;
    assert_eq!(withdrawn.status(), StatusCode::SEE_OTHER);
    let hal = pending[0]["id"].as_str().unwrap();
    let withdrawn = admin.delete(&format!("/api/v1/invites/{hal}")).await;
    assert_eq!(withdrawn.status(), StatusCode::NO_CONTENT);
    let again = admin.delete(&format!("/api/v1/invites/{hal}")).await;
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "nothing pending to withdraw"
    );
    let pending: Value = admin.get("/api/v1/invites").await.json().await.unwrap();
    assert_eq!(pending, json!([]));
    for token in &tokens[..2] {
        assert_eq!(
            app.client().get(&format!("/invite/{token}")).await.status(),
            StatusCode::GONE
        );
        let refused = app
            .client()
            .post_json(
                &format!("/api/v1/invites/{token}/accept"),
                &json!({ "display_name": "Mallory", "password": PASSWORD }),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::GONE);
    }
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'invite.withdrawn'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 2);

    let someone = app.signed_in("joe@example.org", false).await;
    assert_eq!(
        someone.get("/api/v1/invites").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        someone
            .delete(&format!("/api/v1/invites/{gil}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn without_a_public_url_links_use_the_address_the_server_is_reached_at() {
    use clap::Parser;
    // The settings a bare `concord --bind 127.0.0.1:0` starts with.
    let app = TestApp::spawn_with(|config| {
        let database_url = config.database_url.clone();
        *config = concord::cli::Cli::try_parse_from(["concord", "--bind", "127.0.0.1:0"])
            .expect("the command line")
            .config;
        config.database_url = database_url;
    })
    .await;
    let admin = app.admin().await;
    let invite: Value = admin
        .post_json("/api/v1/invites", &json!({ "email": "kim@example.org" }))
        .await
        .json()
        .await
        .unwrap();
    let url = invite["url"].as_str().unwrap();
    assert!(url.starts_with(&app.url("/invite/")), "{url}");
    let reset: Value = admin
        .post_json(&format!("/api/v1/users/{}/reset", admin.id), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let url = reset["url"].as_str().unwrap();
    assert!(url.starts_with(&app.url("/reset/")), "{url}");
    let reset_token = reset["token"].as_str().expect("the token as a field");
    assert!(url.ends_with(&format!("/reset/{reset_token}")), "{url}");

    // Reached under another name (a proxy, a LAN address): that name.
    let token = admin.csrf_token().await;
    let named: Value = admin
        .http
        .post(app.url("/api/v1/invites"))
        .header("host", "concord.lan:3000")
        .header("x-csrf-token", token)
        .json(&json!({ "email": "lee@example.org" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = named["url"].as_str().unwrap();
    assert!(url.starts_with("http://concord.lan:3000/invite/"), "{url}");
}

#[tokio::test]
async fn every_page_names_a_favicon_that_is_served() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (client, path) in [(app.client(), "/login"), (admin.client.clone(), "/")] {
        let page = html(client.get(path).await).await;
        let selector = scraper::Selector::parse("head link[rel=icon]").unwrap();
        let icon = page
            .select(&selector)
            .next()
            .unwrap_or_else(|| panic!("{path} names no icon"));
        assert_eq!(icon.value().attr("type"), Some("image/svg+xml"));
        let href = icon.value().attr("href").unwrap();
        let served = client.get(href).await;
        assert_eq!(served.status(), StatusCode::OK, "{href}");
        assert_eq!(served.headers()["content-type"], "image/svg+xml");
        let svg = served.text().await.unwrap();
        assert!(svg.contains("<svg") && svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    }
    // Browsers that ask for /favicon.ico on their own are sent to it.
    let response = app.client().get("/favicon.ico").await;
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert!(location(&response).starts_with("/static/favicon.svg"));
}
