use crate::helpers::spawn_app;

#[tokio::test]
async fn health_check_answers_200_json_with_a_database_round_trip() {
    let app = spawn_app().await;

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["status"], "ok");
    assert!(body["database"]["latency_ms"].as_f64().is_some());
}

#[tokio::test]
async fn migrations_are_idempotent_and_seed_demo_runs_twice_without_duplicates() {
    let app = spawn_app().await;

    app.hearth.store().migrate().await.unwrap();
    let first = app.hearth.seed_demo().await.unwrap();
    let second = app.hearth.seed_demo().await.unwrap();

    assert_eq!(first.users_created, 3);
    assert_eq!(first.rooms_created, 2);
    assert_eq!(second.users_created, 0);
    assert_eq!(second.rooms_created, 0);
    let people = app.hearth.directory(None, None).await.unwrap();
    let names: Vec<_> = people.iter().map(|p| p.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}
