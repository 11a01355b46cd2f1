//! The OpenAPI description covers exactly the `/api/v1` routes the router serves.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::TestApp;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn api_paths() -> Vec<&'static str> {
    let config = concord::config::Config::for_tests("postgres://unused/unused".into());
    let mut paths: Vec<&'static str> = concord::routes(&config)
        .paths()
        .iter()
        .copied()
        .filter(|p| p.starts_with("/api/v1/"))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// A concrete URL for a routed path: every parameter a fresh id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') {
                Uuid::new_v4().to_string()
            } else {
                s.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_api_route_is_described_and_every_description_is_served() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let token = client.csrf_token().await;
    let mut served = BTreeSet::new();
    for path in api_paths() {
        if path.ends_with("/events") {
            served.insert(("GET".to_owned(), path.to_owned()));
            continue;
        }
        let url = concrete(path);
        for method in METHODS {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let mut request = client.http.request(m.clone(), client.url(&url));
            if m != Method::GET {
                request = request.header("x-csrf-token", &token).json(&json!({}));
            }
            let status = request.send().await.expect("request").status();
            if status != StatusCode::METHOD_NOT_ALLOWED {
                served.insert((method.to_owned(), path.to_owned()));
            }
        }
    }

    let response = client
        .http
        .get(client.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            assert!(
                operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no summary"
            );
            described.insert((method.to_uppercase(), path.clone()));
        }
        // Each path parameter is declared.
        let declared: Vec<&str> = item["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            assert!(
                declared.contains(&segment.trim_matches(['{', '}'])),
                "{path}"
            );
        }
    }
    let missing: Vec<_> = served.difference(&described).collect();
    assert!(
        missing.is_empty(),
        "served under /api/v1 but not in the OpenAPI description (add them to OPERATIONS in src/web/openapi.rs): {missing:#?}"
    );
    let stale: Vec<_> = described.difference(&served).collect();
    assert!(stale.is_empty(), "described but not served: {stale:#?}");
    assert!(served.len() > 100, "{} operations", served.len());
}
