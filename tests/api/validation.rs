//! Bad input: a precise problem, never a 500, and nothing stored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Task, TestApp, assert_problem, error_fields, on_both_backends};

const SPEC: &str = include_str!("../../openapi.yaml");

on_both_backends!(
    title_length_counts_characters_after_trimming,
    invalid_create_bodies_are_422_naming_each_field,
    description_limit_and_type,
    malformed_json_is_400,
    wrong_or_missing_content_type_is_415,
    oversized_body_is_413,
    bad_parameters_are_422_naming_the_parameter,
    unknown_routes_and_methods_are_problems,
    white_space_is_what_javascript_trims,
    nul_characters_are_422_on_every_store,
    unknown_fields_are_422_naming_each,
    a_405_lists_the_allowed_methods,
    every_path_of_the_spec_allows_exactly_its_methods,
);

/// Creates a task from `body`: the status, and the task or (for a 422) the problem.
async fn create_status(app: &TestApp, body: Value) -> (u16, Value) {
    let response = app.try_create_task("alice", body).await;
    let status = response.status().as_u16();
    if status == 422 {
        (status, assert_problem(response, 422).await)
    } else {
        (status, response.json().await.unwrap())
    }
}

async fn title_length_counts_characters_after_trimming(app: TestApp) {
    let ascii_200 = "a".repeat(200);
    let (status, task) = create_status(&app, json!({ "title": ascii_200 })).await;
    assert_eq!(status, 201);
    assert_eq!(task["title"].as_str().unwrap().chars().count(), 200);

    // 200 characters, 400 bytes.
    let accented_200 = "é".repeat(200);
    assert_eq!(
        create_status(&app, json!({ "title": accented_200 }))
            .await
            .0,
        201
    );
    // 200 characters, 800 bytes (4-byte emoji).
    let emoji_200 = "🦀".repeat(200);
    let (status, task) = create_status(&app, json!({ "title": emoji_200 })).await;
    assert_eq!(status, 201);
    assert_eq!(task["title"], emoji_200);
    // Surrounding white space does not count.
    let padded = format!("   {}   ", "b".repeat(200));
    assert_eq!(create_status(&app, json!({ "title": padded })).await.0, 201);

    for title in ["a".repeat(201), "é".repeat(201), "🦀".repeat(201)] {
        let (status, problem) = create_status(&app, json!({ "title": title })).await;
        assert_eq!(status, 422);
        assert_eq!(error_fields(&problem), ["title"]);
    }

    let count_before = app.list_tasks("alice", "").await.len();
    for title in ["", "   ", "\t\n "] {
        let (status, problem) = create_status(&app, json!({ "title": title })).await;
        assert_eq!(status, 422, "{title:?}");
        assert_eq!(error_fields(&problem), ["title"]);
    }
    assert_eq!(
        app.list_tasks("alice", "").await.len(),
        count_before,
        "nothing stored"
    );
}

async fn invalid_create_bodies_are_422_naming_each_field(app: TestApp) {
    let cases = [
        (json!({ "title": 5 }), vec!["title"]),
        (json!({ "title": true }), vec!["title"]),
        (json!({ "title": ["a"] }), vec!["title"]),
        (json!({ "title": null }), vec!["title"]),
        (json!({}), vec!["title"]),
        (json!({ "description": "no title" }), vec!["title"]),
        (
            json!({ "title": 5, "description": 7 }),
            vec!["title", "description"],
        ),
        (
            json!({ "title": "", "description": "x".repeat(1001) }),
            vec!["title", "description"],
        ),
        (json!(["title"]), vec!["body"]),
        (json!("title"), vec!["body"]),
    ];
    for (body, fields) in cases {
        let (status, problem) = create_status(&app, body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error_fields(&problem), fields, "{body}");
        assert_eq!(problem["type"], "urn:todo-api:problem:validation");
    }
    assert!(
        app.list_tasks("alice", "").await.is_empty(),
        "nothing stored"
    );
}

async fn description_limit_and_type(app: TestApp) {
    let (status, task) = create_status(
        &app,
        json!({ "title": "t", "description": "ü".repeat(1000) }),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(task["description"].as_str().unwrap().chars().count(), 1000);

    let task: Task = serde_json::from_value(task).unwrap();
    for (body, field) in [
        (json!({ "description": "ü".repeat(1001) }), "description"),
        (json!({ "description": 12 }), "description"),
        (json!({ "title": "   " }), "title"),
        (json!({ "title": 12 }), "title"),
        (json!({ "title": "x".repeat(201) }), "title"),
    ] {
        let response = app.try_update_task("alice", task.id, body.clone()).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let unchanged = app.get_task("alice", task.id).await;
    assert_eq!(unchanged, task, "a rejected update changes nothing");
}

async fn malformed_json_is_400(app: TestApp) {
    for body in [r#"{"title": "unclosed"#, "{title: 'js'}", "", "nul"] {
        let response = app
            .request(Method::POST, "alice", "/api/alice/tasks")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 400).await;
        assert_eq!(
            problem["type"], "urn:todo-api:problem:malformed-json",
            "{body:?}"
        );
    }
    let task = app.create_titled("alice", "t").await;
    let response = app
        .request(
            Method::PATCH,
            "alice",
            &format!("/api/alice/tasks/{}/complete", task.id),
        )
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
}

async fn wrong_or_missing_content_type_is_415(app: TestApp) {
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app
            .request(Method::POST, "alice", "/api/alice/tasks")
            .body(r#"{"title":"x"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        assert_problem(request.send().await.unwrap(), 415).await;
    }
    // A charset parameter is fine.
    let response = app
        .request(Method::POST, "alice", "/api/alice/tasks")
        .header("content-type", "application/json; charset=utf-8")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn oversized_body_is_413(app: TestApp) {
    let huge = json!({ "title": "x", "description": "y".repeat(70 * 1024) });
    let problem = assert_problem(app.try_create_task("alice", huge).await, 413).await;
    assert_eq!(problem["type"], "urn:todo-api:problem:payload-too-large");

    // Without a Content-Length (chunked), the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(br#"{"title":"x","description":""#.to_vec()),
        Ok(vec![b'y'; 70 * 1024]),
        Ok(br#""}"#.to_vec()),
    ];
    let response = app
        .request(Method::POST, "alice", "/api/alice/tasks")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
    assert!(
        app.list_tasks("alice", "").await.is_empty(),
        "nothing stored"
    );
}

async fn bad_parameters_are_422_naming_the_parameter(app: TestApp) {
    let response = app.try_list_tasks("alice", "?status=done").await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem), ["status"]);

    for path in [
        "/api/alice/tasks/abc",
        "/api/alice/tasks/1.5",
        "/api/alice/tasks/99999999999999999999",
    ] {
        let response = app
            .request(Method::GET, "alice", path)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422).await;
        assert_eq!(error_fields(&problem), ["id"], "{path}");
    }
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let response = app
        .client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
    let response = app
        .request(Method::PUT, "alice", "/api/alice/tasks")
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .unwrap();
    assert_problem(response, 405).await;
}

async fn white_space_is_what_javascript_trims(app: TestApp) {
    // ECMAScript white space (what `\s` means in the spec's pattern, and what `trim()` removes
    // in the browser) is trimmed: U+FEFF and U+3000 included.
    let (status, task) =
        create_status(&app, json!({ "title": "\u{feff}\u{3000} Tea \t\u{a0}" })).await;
    assert_eq!(status, 201);
    assert_eq!(task["title"], "Tea");
    for title in ["\u{feff}", "\u{2028}\u{3000}"] {
        let (status, problem) = create_status(&app, json!({ "title": title })).await;
        assert_eq!(status, 422, "{title:?}");
        assert_eq!(error_fields(&problem), ["title"]);
    }
    // U+0085 is no ECMAScript white space, so it stays (Rust's `trim` would remove it).
    let (status, task) = create_status(&app, json!({ "title": "x\u{85}" })).await;
    assert_eq!(status, 201);
    assert_eq!(task["title"], "x\u{85}");
    // 200 characters between white space is the longest title.
    let padded = format!("\u{feff}{}\u{3000}", "t".repeat(200));
    assert_eq!(create_status(&app, json!({ "title": padded })).await.0, 201);
}

async fn nul_characters_are_422_on_every_store(app: TestApp) {
    // PostgreSQL cannot store U+0000 in text: it is refused on both stores alike, never a 500.
    for (body, field) in [
        (json!({ "title": "a\u{0}b" }), "title"),
        (json!({ "title": "\u{0}" }), "title"),
        (
            json!({ "title": "ok", "description": "x\u{0}" }),
            "description",
        ),
    ] {
        let (status, problem) = create_status(&app, body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let task = app.create_titled("alice", "t").await;
    let response = app
        .try_update_task("alice", task.id, json!({ "description": "\u{0}" }))
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem), ["description"]);
    assert_eq!(
        app.list_tasks("alice", "").await,
        [task],
        "nothing else stored"
    );
}

async fn unknown_fields_are_422_naming_each(app: TestApp) {
    // A typo is an error, not a silently ignored field.
    let (status, problem) =
        create_status(&app, json!({ "title": "Tea", "descripton": "Green" })).await;
    assert_eq!(status, 422);
    assert_eq!(error_fields(&problem), ["descripton"]);
    assert!(
        problem["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("`title`, `description`"),
        "the error tells the fields there are: {problem}"
    );
    assert!(
        app.list_tasks("alice", "").await.is_empty(),
        "nothing stored"
    );

    let task = app.create_titled("alice", "Tea").await;
    let response = app
        .try_update_task("alice", task.id, json!({ "titel": "Coffee" }))
        .await;
    let problem = assert_problem(response, 422).await;
    assert!(
        error_fields(&problem).contains(&"titel".to_owned()),
        "{problem}"
    );

    let response = app
        .try_complete_task(
            "alice",
            task.id,
            Some(json!({ "completed": true, "done": true })),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem), ["done"]);

    let unchanged = app.get_task("alice", task.id).await;
    assert_eq!(unchanged, task, "rejected bodies change nothing");
}

async fn a_405_lists_the_allowed_methods(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let task_path = format!("/api/alice/tasks/{}", task.id);
    for (method, path, allow) in [
        (
            Method::PUT,
            "/api/alice/tasks".to_owned(),
            "GET, HEAD, POST, DELETE",
        ),
        (Method::POST, task_path.clone(), "GET, HEAD, PUT, DELETE"),
        (Method::GET, format!("{task_path}/complete"), "PATCH"),
        (Method::DELETE, "/health".to_owned(), "GET, HEAD"),
        (Method::POST, "/openapi.json".to_owned(), "GET, HEAD"),
        (Method::PUT, "/openapi.yaml".to_owned(), "GET, HEAD"),
        (Method::POST, "/docs".to_owned(), "GET, HEAD"),
        (Method::DELETE, "/docs/index.html".to_owned(), "GET, HEAD"),
    ] {
        let response = app
            .request(method.clone(), "alice", &path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let problem = assert_problem(response, 405).await;
        assert_eq!(problem["type"], "urn:todo-api:problem:method-not-allowed");
    }
    // What Allow promises holds: HEAD is answered wherever GET is.
    for path in [
        "/api/alice/tasks",
        task_path.as_str(),
        "/health",
        "/docs/index.html",
    ] {
        let response = app
            .request(Method::HEAD, "alice", path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "HEAD {path}");
    }
}

async fn every_path_of_the_spec_allows_exactly_its_methods(app: TestApp) {
    let spec: Value = serde_yaml::from_str(SPEC).unwrap();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let path = template.replace("{user_id}", "alice").replace("{id}", "1");
        let mut declared: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        if declared.iter().any(|m| m == "GET") {
            declared.push("HEAD".into());
        }
        declared.sort();
        let response = app
            .request(Method::TRACE, "alice", &path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let mut allowed: Vec<String> = response.headers()["allow"]
            .to_str()
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        allowed.sort();
        assert_eq!(allowed, declared, "{template}");
    }
}
