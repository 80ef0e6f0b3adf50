//! Monitor names are unique in an account: a taken name is a 409 that names it, while a
//! name left to its default (the host) is made unique.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{expect_error, spawn_app};

#[tokio::test]
async fn a_taken_name_is_a_conflict_that_names_it() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    app.create_monitor(&token, json!({"url": "https://a.example/", "name": "api"}))
        .await;
    let other = app
        .create_monitor(&token, json!({"url": "https://b.example/", "name": "web"}))
        .await;
    let again = app
        .send(
            Method::POST,
            "/api/v1/monitors",
            &token,
            Some(json!({"url": "https://c.example/", "name": "api"})),
        )
        .await;
    let message = expect_error(again, StatusCode::CONFLICT, "name_taken").await;
    assert!(message.contains("`api`"), "{message}");
    let patch = app
        .send(
            Method::PATCH,
            &format!("/api/v1/monitors/{}", other["id"]),
            &token,
            Some(json!({"name": "api"})),
        )
        .await;
    let message = expect_error(patch, StatusCode::CONFLICT, "name_taken").await;
    assert!(message.contains("`api`"), "{message}");
    // Another account may use it.
    let someone = app.new_user().await;
    app.create_monitor(
        &someone,
        json!({"url": "https://a.example/", "name": "api"}),
    )
    .await;
}

#[tokio::test]
async fn default_names_are_made_unique() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    let mut names = Vec::new();
    for _ in 0..8 {
        let monitor = app
            .create_monitor(&token, json!({"url": "https://same.example/"}))
            .await;
        names.push(monitor["name"].as_str().expect("name").to_owned());
    }
    assert_eq!(names[0], "same.example");
    assert_eq!(names[1], "same.example (2)");
    assert_eq!(names[4], "same.example (5)");
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    assert_eq!(names[7], "same.example (8)");
    // A number taken by hand is skipped.
    app.create_monitor(
        &token,
        json!({"url": "https://same.example/", "name": "same.example (9)"}),
    )
    .await;
    let next = app
        .create_monitor(&token, json!({"url": "https://same.example/"}))
        .await;
    assert_eq!(next["name"], "same.example (10)");
}

#[tokio::test]
async fn default_names_made_at_once_are_unique() {
    let app = spawn_app().await;
    let token = app.new_user().await;
    // Creations running together are committed in one transaction; each must still find
    // a name of its own.
    let made = futures_util::future::join_all(
        (0..16).map(|_| app.create_monitor(&token, json!({"url": "https://together.example/"}))),
    )
    .await;
    let mut names: Vec<String> = made
        .iter()
        .map(|m| m["name"].as_str().expect("name").to_owned())
        .collect();
    assert!(names.iter().any(|n| n == "together.example"), "{names:?}");
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 16, "{names:?}");
}
