//! Static files: every URL a page loads names the build, so a browser that
//! caches them for a year never mixes two builds' modules after an upgrade.

use std::collections::BTreeSet;

use concord::projects::model::Role;
use reqwest::{StatusCode, Url};
use scraper::Selector;
use serde_json::json;

use crate::harness::{TestApp, TestClient, html};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The relative imports (`from "./x.js"`, `import "../y.js"`) of a module.
fn relative_imports(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["from \"", "import \""] {
        let mut rest = source;
        while let Some(at) = rest.find(marker) {
            rest = &rest[at + marker.len()..];
            let Some(end) = rest.find('"') else { break };
            let target = &rest[..end];
            if target.starts_with("./") || target.starts_with("../") {
                found.push(target.to_owned());
            }
        }
    }
    found
}

fn cache_control(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Every script and stylesheet URL of the page at `path`.
async fn asset_urls(client: &TestClient, path: &str) -> Vec<String> {
    let response = client.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let page = html(response).await;
    let mut urls = Vec::new();
    for (css, attribute) in [("script[src]", "src"), ("link[rel=stylesheet]", "href")] {
        let selector = Selector::parse(css).expect("selector");
        urls.extend(
            page.select(&selector)
                .filter_map(|e| e.value().attr(attribute))
                .map(str::to_owned),
        );
    }
    urls
}

/// `/static/{build}/…`: the build's segment, or a panic naming the URL.
fn build_of(url: &str) -> String {
    let rest = url
        .strip_prefix("/static/")
        .unwrap_or_else(|| panic!("{url} is not a static URL"));
    let (build, file) = rest
        .split_once('/')
        .unwrap_or_else(|| panic!("{url} has no build segment"));
    assert!(
        !["js", "css", "vendor"].contains(&build) && !file.is_empty() && !url.contains('?'),
        "{url} does not carry the build in its path"
    );
    build.to_owned()
}

#[tokio::test]
async fn a_pages_module_and_every_module_it_imports_carry_the_build_and_are_cached_for_good() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let transcript = project
        .import_text("p01.txt", "Interviewer: Hello?\nP01: Hello.")
        .await;
    let coder = project.member(Role::Coder).await;
    let assign = json!({ "transcript_ids": [transcript], "user_ids": [coder.id] });
    assert_eq!(
        project
            .owner
            .post_json(&project.api("/assignments"), &assign)
            .await
            .status(),
        StatusCode::CREATED
    );

    let coding_page = project.path(&format!("/transcripts/{transcript}/code"));
    let urls = asset_urls(&coder, &coding_page).await;
    let entry = urls
        .iter()
        .find(|u| u.ends_with("/js/coding/main.js"))
        .unwrap_or_else(|| panic!("no coding module among {urls:?}"))
        .clone();
    let build = build_of(&entry);
    for url in &urls {
        assert_eq!(build_of(url), build, "{url}");
    }
    // Every other page names the same build for everything it loads.
    for path in [
        "/login".to_owned(),
        project.path(""),
        project.path("/alignment"),
    ] {
        let client = if path == "/login" {
            app.client()
        } else {
            project.owner.client.clone()
        };
        for url in asset_urls(&client, &path).await {
            assert_eq!(build_of(&url), build, "{url} on {path}");
        }
    }

    // Follow the imports from the entry module, as the browser does.
    let base = Url::parse(&app.url("/")).expect("base URL");
    let mut queue = vec![base.join(&entry).expect("entry URL")];
    let mut seen = BTreeSet::new();
    while let Some(url) = queue.pop() {
        if !seen.insert(url.path().to_owned()) {
            continue;
        }
        assert_eq!(
            build_of(url.path()),
            build,
            "{} lost the build it was imported under",
            url.path()
        );
        let response = coder.http.get(url.clone()).send().await.expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "{}", url.path());
        assert_eq!(cache_control(&response), IMMUTABLE, "{}", url.path());
        let source = response.text().await.expect("module source");
        for import in relative_imports(&source) {
            queue.push(url.join(&import).expect("import URL"));
        }
    }
    for module in ["/js/common.js", "/js/offsets.js", "/js/coding/queue.js"] {
        assert!(
            seen.contains(&format!("/static/{build}{module}")),
            "{module} was not reached from the entry module: {seen:?}"
        );
    }
}

#[tokio::test]
async fn unversioned_and_other_builds_static_urls_still_work_but_are_not_cached_for_good() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in ["/static/js/common.js", "/static/0.0.1-5f0a/js/common.js"] {
        let response = client.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cache = cache_control(&response);
        assert!(
            !cache.contains("immutable") && cache.contains("no-cache"),
            "{path}: {cache}"
        );
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("export function el"),
            "{path}"
        );
    }
    for path in ["/static/js/nothing.js", "/static/0.0.1-5f0a/js/nothing.js"] {
        assert_eq!(
            client.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
