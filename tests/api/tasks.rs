//! The happy path of every operation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, on_both_backends, ts};

on_both_backends!(
    create_returns_201_the_task_and_its_location,
    a_client_cannot_set_server_fields,
    list_is_newest_first_and_filters_by_status,
    update_changes_only_the_fields_sent,
    update_that_changes_nothing_is_422,
    complete_toggles_without_a_body_and_sets_with_one,
    delete_returns_204_and_the_task_is_gone,
    deleted_ids_are_never_reused,
);

fn task_path(user: &str, task: &Value) -> String {
    format!("/api/{user}/tasks/{}", task["id"])
}

async fn create_returns_201_the_task_and_its_location(app: TestApp) {
    let response = app
        .post_task(
            "alice",
            json!({ "title": "  Buy milk  ", "description": "2 litres" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = response.json().await.unwrap();

    assert!(task["id"].as_i64().unwrap() > 0);
    assert_eq!(task["user_id"], "alice");
    assert_eq!(task["title"], "Buy milk", "the title is trimmed");
    assert_eq!(task["description"], "2 litres");
    assert_eq!(task["completed"], false);
    assert_eq!(task["created_at"], task["updated_at"]);
    let created = chrono::DateTime::parse_from_rfc3339(task["created_at"].as_str().unwrap())
        .expect("created_at is RFC 3339");
    assert_eq!(created.offset().local_minus_utc(), 0, "timestamps are UTC");
    assert!((chrono::Utc::now() - created.to_utc()).num_seconds().abs() < 60);
    assert_eq!(location, task_path("alice", &task));

    let fetched: Value = app.get_json("alice", &location).await;
    assert_eq!(fetched, task);

    let without_description = app.create_task("alice", "No description").await;
    assert_eq!(without_description["description"], Value::Null);
    assert!(
        without_description
            .as_object()
            .unwrap()
            .contains_key("description")
    );
}

async fn a_client_cannot_set_server_fields(app: TestApp) {
    // Server fields are not fields of the request bodies: a body that sends them is refused,
    // naming each, and nothing is stored or changed.
    let response = app
        .post_task(
            "alice",
            json!({
                "title": "Mine",
                "id": 424242,
                "user_id": "mallory",
                "completed": true,
                "created_at": "2000-01-01T00:00:00Z",
                "updated_at": "2000-01-01T00:00:00Z"
            }),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    let mut fields = crate::helpers::error_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        ["completed", "created_at", "id", "updated_at", "user_id"]
    );
    assert!(
        app.list_tasks("alice", "").await.is_empty(),
        "nothing stored"
    );

    let task = app.create_task("alice", "Mine").await;
    let response = app
        .request(Method::PUT, "alice", &task_path("alice", &task))
        .json(&json!({ "title": "Renamed", "id": 1, "user_id": "mallory", "created_at": "2000-01-01T00:00:00Z" }))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    let mut fields = crate::helpers::error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["created_at", "id", "user_id"]);
    let unchanged: Value = app
        .request(Method::GET, "alice", &task_path("alice", &task))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, task);
    assert!(app.list_tasks("mallory", "").await.is_empty());
}

async fn list_is_newest_first_and_filters_by_status(app: TestApp) {
    assert!(app.list_tasks("alice", "").await.is_empty());
    let first = app.create_task("alice", "first").await;
    let second = app.create_task("alice", "second").await;
    let third = app.create_task("alice", "third").await;
    let response = app
        .request(
            Method::PATCH,
            "alice",
            &format!("{}/complete", task_path("alice", &second)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let ids = |tasks: Vec<Value>| tasks.iter().map(|t| t["id"].clone()).collect::<Vec<_>>();
    let all = vec![
        third["id"].clone(),
        second["id"].clone(),
        first["id"].clone(),
    ];
    assert_eq!(ids(app.list_tasks("alice", "").await), all);
    assert_eq!(ids(app.list_tasks("alice", "?status=all").await), all);
    assert_eq!(
        ids(app.list_tasks("alice", "?status=pending").await),
        vec![third["id"].clone(), first["id"].clone()]
    );
    assert_eq!(
        ids(app.list_tasks("alice", "?status=completed").await),
        vec![second["id"].clone()]
    );
}

async fn update_changes_only_the_fields_sent(app: TestApp) {
    let response = app
        .post_task(
            "alice",
            json!({ "title": "Title", "description": "Description" }),
        )
        .await;
    let task: Value = response.json().await.unwrap();
    let path = task_path("alice", &task);
    let put = |body: Value| {
        let request = app.request(Method::PUT, "alice", &path).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    let renamed = put(json!({ "title": "  New title " })).await;
    assert_eq!(renamed["title"], "New title");
    assert_eq!(
        renamed["description"], "Description",
        "an omitted field is unchanged"
    );
    assert_eq!(
        renamed["created_at"], task["created_at"],
        "created_at never moves"
    );
    assert!(
        ts(&renamed["updated_at"]) > ts(&task["updated_at"]),
        "updated_at moves on a change"
    );

    let described = put(json!({ "description": "Other" })).await;
    assert_eq!(described["title"], "New title");
    assert_eq!(described["description"], "Other");

    let cleared = put(json!({ "description": null })).await;
    assert_eq!(cleared["description"], Value::Null, "explicit null clears");
    assert_eq!(cleared["title"], "New title");

    let both = put(json!({ "title": "Both", "description": "Set" })).await;
    assert_eq!(
        (both["title"].as_str(), both["description"].as_str()),
        (Some("Both"), Some("Set"))
    );

    let fetched: Value = app.get_json("alice", &path).await;
    assert_eq!(fetched, both);
}

async fn update_that_changes_nothing_is_422(app: TestApp) {
    let task = app.create_task("alice", "Title").await;
    for body in [json!({}), json!({ "id": 7, "completed": true })] {
        let response = app
            .request(Method::PUT, "alice", &task_path("alice", &task))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 422).await;
    }
    let response = app
        .request(Method::PUT, "alice", &task_path("alice", &task))
        .json(&json!({ "title": null }))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    assert_eq!(crate::helpers::error_fields(&problem), ["title"]);
}

async fn complete_toggles_without_a_body_and_sets_with_one(app: TestApp) {
    let task = app.create_task("alice", "Toggle me").await;
    let path = format!("{}/complete", task_path("alice", &task));
    let patch = |body: Option<Value>| {
        let mut request = app.request(Method::PATCH, "alice", &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };

    let toggled = patch(None).await;
    assert_eq!(toggled["completed"], true);
    assert!(ts(&toggled["updated_at"]) > ts(&task["updated_at"]));
    assert_eq!(patch(None).await["completed"], false);

    let set = patch(Some(json!({ "completed": true }))).await;
    assert_eq!(set["completed"], true);
    let again = patch(Some(json!({ "completed": true }))).await;
    assert_eq!(again["completed"], true, "setting is idempotent");
    assert_eq!(
        again["updated_at"], set["updated_at"],
        "no change, no new updated_at"
    );
    assert_eq!(
        patch(Some(json!({ "completed": false }))).await["completed"],
        false
    );

    // A JSON content type with an empty body still toggles.
    let response = app
        .request(Method::PATCH, "alice", &path)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["completed"], true);

    let response = app
        .request(Method::PATCH, "alice", &path)
        .json(&json!({ "completed": "yes" }))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    assert_eq!(crate::helpers::error_fields(&problem), ["completed"]);
}

async fn delete_returns_204_and_the_task_is_gone(app: TestApp) {
    let task = app.create_task("alice", "Delete me").await;
    let keep = app.create_task("alice", "Keep me").await;
    let path = task_path("alice", &task);

    let response = app
        .request(Method::DELETE, "alice", &path)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());

    for method in [Method::GET, Method::DELETE] {
        let response = app.request(method, "alice", &path).send().await.unwrap();
        assert_problem(response, 404).await;
    }
    let remaining = app.list_tasks("alice", "").await;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0]["id"], keep["id"]);
}

async fn deleted_ids_are_never_reused(app: TestApp) {
    let task = app.create_task("alice", "Old").await;
    let response = app
        .request(Method::DELETE, "alice", &task_path("alice", &task))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let next = app.create_task("alice", "New").await;
    assert!(next["id"].as_i64() > task["id"].as_i64());
}
