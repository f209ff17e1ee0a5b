//! Hostile and careless input (issue 13): bounded cost, one error shape, no ambiguity, no 500.
//! Each case of the issue, and more of its class, through the real server on both stores.

use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::support::{
    Backend, SECRET, ServerConfig, TestApp, assert_problem, error_fields, now, on_both_backends,
    spawn_app_with, titles,
};

const SPEC: &str = include_str!("../../openapi.yaml");

on_both_backends!(
    ids_in_bodies_are_numbers_of_this_users_items,
    the_tag_filter_is_one_bounded_query,
    repeatable_parameters_take_at_most_20_values,
    text_parameters_follow_the_text_rules,
    timestamps_outside_years_1_to_9999_are_refused,
    a_series_ends_rather_than_leave_year_9999,
    accepted_timestamps_read_back_identically_and_sort_alike,
    strictness_holds_at_every_depth,
    repeated_json_keys_are_refused_naming_each,
    encodings_and_charsets_the_server_does_not_decode_are_415,
    repeated_and_unknown_query_parameters_are_422,
    every_route_refuses_parameters_it_does_not_take,
    the_clearing_route_ignores_nothing,
    cors_lets_browsers_send_and_read_every_declared_header,
    every_error_is_a_problem,
    tags_are_paged_like_tasks,
    tokens_with_critical_extensions_or_a_blank_sub_are_401,
    docs_are_served_with_a_content_security_policy,
    huge_bodies_get_bounded_answers,
);

async fn status_of(app: &TestApp, method: Method, path: &str) -> u16 {
    app.request(method, "alice", path)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

// ---------------------------------------------------------------------------------------------
// 1. Cost

async fn the_tag_filter_is_one_bounded_query(app: TestApp) {
    let tags: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    app.create_task("alice", json!({ "title": "all", "tags": tags }))
        .await;
    app.create_task("alice", json!({ "title": "most", "tags": &tags[..19] }))
        .await;
    app.create_task("bob", json!({ "title": "bob's", "tags": tags }))
        .await;
    let all: Vec<String> = tags
        .iter()
        .map(|t| format!("tag={}", t.to_uppercase()))
        .collect();
    let listed = app
        .list_tasks("alice", &format!("?{}", all.join("&")))
        .await;
    assert_eq!(
        titles(&listed),
        ["all"],
        "every tag must match, ignoring case"
    );
    let some: Vec<String> = tags[..5].iter().map(|t| format!("tag={t}")).collect();
    let listed = app
        .list_tasks("alice", &format!("?{}&tag=t0&tag=T1", some.join("&")))
        .await;
    assert_eq!(
        titles(&listed),
        ["most", "all"],
        "repeated values count once"
    );
    let page = app.list_page("alice", "?tag=t0&tag=t19&limit=1").await;
    assert_eq!((page.tasks.len(), page.total), (1, 1));

    if app.backend == Backend::Postgres {
        // The statement the store sends for a tag filter is served by the tag index.
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(app.database_url())
            .await
            .unwrap();
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut conn)
            .await
            .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(
            "EXPLAIN SELECT task_id FROM task_tags WHERE user_id = 'alice' AND \
             tag_key = ANY(ARRAY(SELECT json_array_elements_text(CAST('[\"t1\",\"t2\"]' AS json)))) \
             GROUP BY task_id HAVING count(*) = 2",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("task_tags_user_tag_idx"), "{plan}");
    }
}

async fn repeatable_parameters_take_at_most_20_values(app: TestApp) {
    for name in ["tag", "priority"] {
        let value = if name == "tag" { "x" } else { "high" };
        let twenty = vec![format!("{name}={value}"); 20].join("&");
        let response = app.try_list_tasks("alice", &format!("?{twenty}")).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{name}: 20 values are fine"
        );
        let many = vec![format!("{name}={value}"); 21].join("&");
        let problem =
            assert_problem(app.try_list_tasks("alice", &format!("?{many}")).await, 422).await;
        assert_eq!(error_fields(&problem), [name]);
    }
    // Hundreds of values (the issue's denial of service) are refused at once.
    let hundreds: Vec<String> = (0..200).map(|i| format!("tag=tag{i}")).collect();
    let problem = assert_problem(
        app.try_list_tasks("alice", &format!("?{}", hundreds.join("&")))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["tag"]);
}

async fn text_parameters_follow_the_text_rules(app: TestApp) {
    app.create_titled("alice", "milk").await;
    for (query, field) in [
        ("?q=a%00b", "q"),
        ("?tag=a%00b", "tag"),
        ("?tag=%20%20", "tag"),
        (&format!("?tag={}", "x".repeat(33)) as &str, "tag"),
        (&format!("?q={}", "é".repeat(201)) as &str, "q"),
    ] {
        let problem = assert_problem(app.try_list_tasks("alice", query).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    assert_eq!(app.list_tasks("alice", "?q=%20MILK%20").await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 3. Dates

async fn timestamps_outside_years_1_to_9999_are_refused(app: TestApp) {
    for (body, field) in [
        (
            json!({ "title": "t", "due_at": "0001-01-01T00:30:00+01:00" }),
            "due_at",
        ),
        (
            json!({ "title": "t", "due_at": "9999-12-31T23:00:00-05:00" }),
            "due_at",
        ),
        (
            json!({ "title": "t", "remind_at": "0001-01-01T00:00:00+00:01" }),
            "remind_at",
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T00:00:00.0000001Z" }),
            "due_at",
        ),
        (
            json!({ "title": "t", "due_at": "2030-01-01T00:00:00Z",
            "recurrence": { "frequency": "daily", "until": "9999-12-31T23:59:59-01:00" } }),
            "recurrence.until",
        ),
    ] {
        let problem = assert_problem(app.try_create_task("alice", body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let task = app.create_titled("alice", "t").await;
    let response = app
        .try_update_task(
            "alice",
            task.id,
            json!({ "due_at": "0000-12-31T23:00:00Z" }),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(response, 422).await),
        ["due_at"]
    );
    for (query, field) in [
        ("?due_before=0001-01-01T00:00:00%2B01:00", "due_before"),
        ("?due_after=9999-12-31T23:59:59-00:01", "due_after"),
        ("?due_after=2030-01-01T00:00:00.1234567Z", "due_after"),
    ] {
        let problem = assert_problem(app.try_list_tasks("alice", query).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    let response = app
        .try_list_reminders("alice", "?before=0001-01-01T00:00:00%2B01:00")
        .await;
    assert_eq!(
        error_fields(&assert_problem(response, 422).await),
        ["before"]
    );
    assert_eq!(
        app.list_tasks("alice", "").await,
        [task],
        "nothing else stored"
    );
}

async fn a_series_ends_rather_than_leave_year_9999(app: TestApp) {
    for due in ["9999-12-31T00:00:00Z", "9999-12-30T12:00:00-12:00"] {
        let task = app
            .create_task(
                "alice",
                json!({ "title": "last", "due_at": due, "recurrence": { "frequency": "daily" } }),
            )
            .await;
        let done = app.complete_task("alice", task.id).await;
        assert!(done.completed);
        assert_eq!(
            done.next_occurrence_id, None,
            "{due}: no occurrence in year 10000"
        );
    }
    // The API reads back everything it wrote.
    for task in app.list_tasks("alice", "?sort=due_date").await {
        assert_eq!(app.get_task("alice", task.id).await, task);
    }
}

async fn accepted_timestamps_read_back_identically_and_sort_alike(app: TestApp) {
    let cases = [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"),
        ("0001-01-01T00:30:00-01:00", "0001-01-01T01:30:00+00:00"),
        (
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:59:59.999999+00:00",
        ),
        (
            "2030-06-01T12:00:00.5+02:00",
            "2030-06-01T10:00:00.500+00:00",
        ),
        (
            "2030-06-01T10:00:00.000001Z",
            "2030-06-01T10:00:00.000001+00:00",
        ),
        ("2030-06-01T10:00:00Z", "2030-06-01T10:00:00+00:00"),
    ];
    for (sent, answered) in cases {
        let task = app
            .create_task("alice", json!({ "title": sent, "due_at": sent }))
            .await;
        assert_eq!(task.due_at.as_ref().unwrap().as_str(), answered, "{sent}");
        assert_eq!(app.get_task("alice", task.id).await, task);
    }
    let by_due = app.list_tasks("alice", "?sort=due_date").await;
    assert_eq!(
        titles(&by_due),
        [
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:30:00-01:00",
            "2030-06-01T10:00:00Z",
            "2030-06-01T10:00:00.000001Z",
            "2030-06-01T12:00:00.5+02:00",
            "9999-12-31T23:59:59.999999Z"
        ]
    );
    let before = app
        .list_tasks(
            "alice",
            "?due_before=2030-06-01T10:00:00.000001Z&sort=due_date",
        )
        .await;
    assert_eq!(before.len(), 3);
    let after = app
        .list_tasks("alice", "?due_after=2030-06-01T10:00:00.5Z&sort=due_date")
        .await;
    assert_eq!(
        titles(&after),
        ["2030-06-01T12:00:00.5+02:00", "9999-12-31T23:59:59.999999Z"]
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Strictness

async fn strictness_holds_at_every_depth(app: TestApp) {
    let body = json!({ "title": "t", "due_at": "2030-01-01T00:00:00Z",
        "recurrence": { "frequency": "daily", "intervall": 2, "untill": "2030-02-01T00:00:00Z" } });
    let problem = assert_problem(app.try_create_task("alice", body).await, 422).await;
    assert_eq!(
        error_fields(&problem),
        ["recurrence.intervall", "recurrence.untill"]
    );
    let task = app
        .create_task(
            "alice",
            json!({ "title": "t", "due_at": "2030-01-01T00:00:00Z" }),
        )
        .await;
    let response = app
        .try_update_task(
            "alice",
            task.id,
            json!({ "recurrence": { "frequency": "weekly", "Count": 3 } }),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(response, 422).await),
        ["recurrence.Count"]
    );
    assert_eq!(
        app.get_task("alice", task.id).await,
        task,
        "nothing changed"
    );
}

/// Ids in bodies (`list_id`, `parent_id`, `after`) are JSON numbers of this user's lists and
/// tasks: a string of digits, a fraction, zero, a negative, a number past 2^53 or another
/// user's id is a 422 on that field, and a task is never its own parent.
async fn ids_in_bodies_are_numbers_of_this_users_items(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let list = app.create_named_list("alice", "l").await;
    let bobs = app.create_titled("bob", "b").await;
    for field in ["list_id", "parent_id"] {
        for bad in [
            json!(list.id.to_string()),
            json!(1.5),
            json!(0),
            json!(-1),
            json!(9_007_199_254_740_993_i64),
            json!(true),
            json!({ "id": 1 }),
        ] {
            let body = json!({ "title": "x", field: bad });
            let problem =
                assert_problem(app.try_create_task("alice", body.clone()).await, 422).await;
            assert_eq!(error_fields(&problem), [field], "{body}");
            let body = json!({ field: bad });
            let problem = assert_problem(
                app.try_update_task("alice", task.id, body.clone()).await,
                422,
            )
            .await;
            assert_eq!(error_fields(&problem), [field], "{body}");
            let problem =
                assert_problem(app.try_move_task("alice", task.id, body.clone()).await, 422).await;
            assert_eq!(error_fields(&problem), [field], "{body}");
        }
    }
    for body in [
        json!({ "parent_id": task.id }),
        json!({ "parent_id": bobs.id }),
        json!({ "after": task.id }),
        json!({ "after": bobs.id }),
        json!({ "list_id": list.id, "parent_id": task.id }),
    ] {
        let problem =
            assert_problem(app.try_move_task("alice", task.id, body.clone()).await, 422).await;
        assert!(!error_fields(&problem).is_empty(), "{body}");
    }
    assert_eq!(
        app.get_task("alice", task.id).await,
        task,
        "nothing changed"
    );
    assert_eq!(
        app.get_task("bob", bobs.id).await,
        bobs,
        "nothing of Bob's changed"
    );
}

async fn post_raw(app: &TestApp, path: &str, content_type: &str, body: &str) -> reqwest::Response {
    app.request(Method::POST, "alice", path)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn repeated_json_keys_are_refused_naming_each(app: TestApp) {
    for (body, fields) in [
        (r#"{"title": "a", "title": "b"}"#, vec!["title"]),
        (
            r#"{"title": "a", "due_at": "2030-01-01T00:00:00Z", "recurrence": {"frequency": "daily", "count": 2, "count": 5}}"#,
            vec!["recurrence.count"],
        ),
        (r#"{"title": "a", "tags": ["x"], "tags": []}"#, vec!["tags"]),
    ] {
        let response = post_raw(&app, "/api/alice/tasks", "application/json", body).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(error_fields(&problem), fields, "{body}");
    }
    let task = app.create_titled("alice", "t").await;
    let path = format!("/api/alice/tasks/{}/complete", task.id);
    let response = app
        .request(Method::PATCH, "alice", &path)
        .header("content-type", "application/json")
        .body(r#"{"completed": true, "completed": false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_fields(&assert_problem(response, 422).await),
        ["completed"]
    );
    assert_eq!(
        app.list_tasks("alice", "").await,
        [task],
        "nothing stored or changed"
    );
}

async fn encodings_and_charsets_the_server_does_not_decode_are_415(app: TestApp) {
    for content_type in [
        "application/json; charset=iso-8859-1",
        "application/json; charset=utf-16",
        "application/problem+json",
        "application/json-seq",
        "not a media type",
    ] {
        let response = post_raw(&app, "/api/alice/tasks", content_type, r#"{"title":"x"}"#).await;
        assert_problem(response, 415).await;
    }
    for encoding in ["gzip", "br", "deflate, gzip", "x-unknown"] {
        let response = app
            .request(Method::POST, "alice", "/api/alice/tasks")
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .body(r#"{"title":"x"}"#)
            .send()
            .await
            .unwrap();
        assert_problem(response, 415).await;
    }
    assert!(app.list_tasks("alice", "").await.is_empty());
    for content_type in [
        "application/json; charset=UTF-8",
        "application/json;charset=utf-8",
    ] {
        let response = post_raw(&app, "/api/alice/tasks", content_type, r#"{"title":"x"}"#).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{content_type}");
    }
    let identity = app
        .request(Method::POST, "alice", "/api/alice/tasks")
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(r#"{"title":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), StatusCode::CREATED);
}

async fn repeated_and_unknown_query_parameters_are_422(app: TestApp) {
    for (query, field) in [
        ("?status=pending&status=completed", "status"),
        ("?sort=title&sort=created", "sort"),
        ("?limit=1&limit=2", "limit"),
        ("?q=a&q=b", "q"),
        ("?statuss=pending", "statuss"),
        ("?Status=pending", "Status"),
        ("?=x", ""),
        ("?q=%FF", "q"),
    ] {
        let problem = assert_problem(app.try_list_tasks("alice", query).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    let task = app.create_titled("alice", "t").await;
    let response = app
        .request(
            Method::GET,
            "alice",
            &format!("/api/alice/tasks/{}?fields=title", task.id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_fields(&assert_problem(response, 422).await),
        ["fields"]
    );
}

/// Every operation of the spec, and every other route, refuses a parameter it does not take,
/// before it acts.
async fn every_route_refuses_parameters_it_does_not_take(app: TestApp) {
    let task = app.create_titled("alice", "t").await;
    let spec: Value = serde_yaml::from_str(SPEC).unwrap();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let path = template
            .replace("{user_id}", "alice")
            .replace("{id}", &task.id.to_string())
            .replace("{list_id}", "1");
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut request = app.request(method.clone(), "alice", &format!("{path}?bogus=1"));
            if matches!(method, Method::POST | Method::PUT) {
                request = request.json(&json!({ "title": "changed" }));
            }
            let response = request.send().await.unwrap();
            let problem = assert_problem(response, 422).await;
            assert_eq!(error_fields(&problem), ["bogus"], "{method} {template}");
        }
    }
    for path in [
        "/openapi.json",
        "/openapi.yaml",
        "/metrics",
        "/docs/index.html",
    ] {
        assert_eq!(
            status_of(&app, Method::GET, &format!("{path}?bogus=1")).await,
            422,
            "{path}"
        );
    }
    assert_eq!(app.list_tasks("alice", "").await, [task], "nothing acted");
}

async fn the_clearing_route_ignores_nothing(app: TestApp) {
    let work = app
        .create_task("alice", json!({ "title": "w", "tags": ["work"] }))
        .await;
    let home = app
        .create_task("alice", json!({ "title": "h", "tags": ["home"] }))
        .await;
    app.complete_task("alice", work.id).await;
    app.complete_task("alice", home.id).await;
    for query in [
        "?status=completed&tag=work",
        "?status=completed&priority=high",
        "?status=completed&q=w",
    ] {
        let response = app.try_clear_completed("alice", query).await;
        assert_problem(response, 422).await;
    }
    assert_eq!(
        app.list_tasks("alice", "").await.len(),
        2,
        "nothing deleted"
    );
    assert_eq!(app.clear_completed("alice").await, 2);
}

// ---------------------------------------------------------------------------------------------
// 6. CORS

async fn cors_lets_browsers_send_and_read_every_declared_header(_app: TestApp) {
    let origin = "https://app.example.com";
    for backend in [_app.backend] {
        let Some(app) =
            spawn_app_with(backend, ServerConfig::default().var("CORS_ORIGINS", origin)).await
        else {
            return;
        };
        let spec: Value = serde_yaml::from_str(SPEC).unwrap();
        let mut request_headers = vec!["authorization".to_owned(), "content-type".to_owned()];
        let mut response_headers = vec!["x-request-id".to_owned()];
        for item in spec["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for param in op["parameters"].as_array().into_iter().flatten() {
                    if param["in"] == "header" {
                        request_headers.push(param["name"].as_str().unwrap().to_lowercase());
                    }
                }
                for response in op["responses"].as_object().unwrap().values() {
                    for name in response["headers"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| k)
                    {
                        response_headers.push(name.to_lowercase());
                    }
                }
            }
        }
        assert!(request_headers.contains(&"idempotency-key".to_owned()));
        for header in ["etag", "location", "link", "x-total-count", "retry-after"] {
            assert!(response_headers.contains(&header.to_owned()), "{header}");
        }
        let preflight = app
            .client
            .request(Method::OPTIONS, app.url("/api/alice/tasks"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "idempotency-key, content-type",
            )
            .send()
            .await
            .unwrap();
        let allowed = preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        let allowed: Vec<&str> = allowed.split(", ").collect();
        for header in &request_headers {
            assert!(
                allowed.contains(&header.as_str()),
                "{header} not in {allowed:?}"
            );
        }
        let answer = app
            .request(Method::GET, "alice", "/api/alice/tasks")
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        let exposed = answer.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        let exposed: Vec<&str> = exposed.split(", ").collect();
        for header in &response_headers {
            assert!(
                exposed.contains(&header.as_str()),
                "{header} not in {exposed:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Errors

async fn every_error_is_a_problem(app: TestApp) {
    // A path that is not UTF-8, and ids that are no ids.
    let problem = assert_problem(
        app.client
            .get(app.url("/api/%FF%FE/tasks"))
            .bearer_auth(app.token("alice"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_eq!(problem["type"], "urn:todo-api:problem:bad-request");
    assert!(
        problem["detail"].as_str().unwrap().contains("UTF-8"),
        "{problem}"
    );
    for id in ["abc", "1.5", "-", "1e3", "99999999999999999999"] {
        let response = app
            .request(Method::GET, "alice", &format!("/api/alice/tasks/{id}"))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422).await;
        assert_eq!(error_fields(&problem), ["id"], "{id}");
        let detail = problem["errors"][0]["detail"].as_str().unwrap();
        assert_eq!(
            detail, "must be a whole number",
            "{id}: no internal format named"
        );
    }
    let problem = assert_problem(app.try_list_tasks("alice", "?limit=ten").await, 422).await;
    assert_eq!(
        problem["errors"][0]["detail"],
        "must be a whole number from 1 to 1000"
    );
    let problem = assert_problem(app.try_list_tasks("alice", "?status=done").await, 422).await;
    assert_eq!(
        problem["errors"][0]["detail"],
        "must be one of: all, pending, completed"
    );
    // An over-long URI, an oversized header section, too many headers.
    let long = format!("/api/alice/tasks?q={}", "x".repeat(9000));
    let problem = assert_problem(
        app.request(Method::GET, "alice", &long)
            .send()
            .await
            .unwrap(),
        414,
    )
    .await;
    assert_eq!(problem["type"], "urn:todo-api:problem:uri-too-long");
    let response = app
        .request(Method::GET, "alice", "/api/alice/tasks")
        .header("x-padding", "y".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_problem(response, 431).await;
    let mut request = app.request(Method::GET, "alice", "/api/alice/tasks");
    for i in 0..120 {
        request = request.header(format!("x-h{i}"), "v");
    }
    assert_problem(request.send().await.unwrap(), 431).await;
    // Malformed or repeated headers.
    let response = app
        .client
        .get(app.url("/api/alice/tasks"))
        .header("authorization", "Basic YWxpY2U6cHc=")
        .send()
        .await
        .unwrap();
    assert_problem(response, 401).await;
    let response = app
        .client
        .get(app.url("/api/alice/tasks"))
        .header("authorization", format!("Bearer {}", app.token("alice")))
        .header("authorization", format!("Bearer {}", app.token("bob")))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
    let response = app
        .request(Method::POST, "alice", "/api/alice/tasks")
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400).await;
    assert!(app.list_tasks("alice", "").await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 9. Bounded responses

async fn tags_are_paged_like_tasks(app: TestApp) {
    for i in 0..5 {
        app.create_task(
            "alice",
            json!({ "title": "t", "tags": [format!("Tag{i}"), "common"] }),
        )
        .await;
    }
    let mut path = "/api/alice/tags?limit=2".to_owned();
    let mut seen = Vec::new();
    loop {
        let response = app
            .request(Method::GET, "alice", &path)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-total-count"], "6");
        let next = response.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            l.trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_owned()
        });
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(
            page.into_iter()
                .map(|t| t["tag"].as_str().unwrap().to_owned()),
        );
        match next {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(seen, ["common", "Tag0", "Tag1", "Tag2", "Tag3", "Tag4"]);
    let all = app.list_tags("alice").await;
    assert_eq!(all.len(), 6, "one page by default");
    for query in ["?limit=0", "?limit=1001", "?cursor=%%%", "?cursor=_w"] {
        let response = app
            .request(Method::GET, "alice", &format!("/api/alice/tags{query}"))
            .send()
            .await
            .unwrap();
        assert_problem(response, 422).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 10. Tokens and docs

fn hs256(header: Header, claims: &Value) -> String {
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

async fn tokens_with_critical_extensions_or_a_blank_sub_are_401(app: TestApp) {
    let claims = |sub: &str| json!({ "sub": sub, "exp": now() + 600 });
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["b64".into()]);
    let crit = hs256(header, &claims("alice"));
    let response = app
        .client
        .get(app.url("/api/alice/tasks"))
        .bearer_auth(crit)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 401).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("crit"),
        "{problem}"
    );
    for sub in ["", " ", "\t\u{3000}"] {
        let token = hs256(Header::new(Algorithm::HS256), &claims(sub));
        let path = format!("/api/{}/tasks", crate::support::encode(sub));
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_problem(response, 401).await;
    }
}

async fn docs_are_served_with_a_content_security_policy(app: TestApp) {
    for path in [
        "/docs",
        "/docs/",
        "/docs/index.html",
        "/docs/swagger-ui-bundle.js",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
    }
}

/// With `AUTH_ISSUER` and `AUTH_AUDIENCE` set, shared-secret tokens must carry them too.
#[tokio::test]
async fn issuer_and_audience_apply_to_shared_secret_tokens() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let config = ServerConfig::default()
            .var("AUTH_ISSUER", "https://auth.example.com")
            .var("AUTH_AUDIENCE", "todo-api,other");
        let Some(app) = spawn_app_with(backend, config).await else {
            continue;
        };
        let exp = now() + 600;
        for (claims, status) in [
            (json!({ "sub": "alice", "exp": exp }), 401),
            (
                json!({ "sub": "alice", "exp": exp, "iss": "https://auth.example.com" }),
                401,
            ),
            (
                json!({ "sub": "alice", "exp": exp, "aud": "todo-api" }),
                401,
            ),
            (
                json!({ "sub": "alice", "exp": exp, "iss": "https://evil.example.com", "aud": "todo-api" }),
                401,
            ),
            (
                json!({ "sub": "alice", "exp": exp, "iss": "https://auth.example.com", "aud": "nope" }),
                401,
            ),
            (
                json!({ "sub": "alice", "exp": exp, "iss": "https://auth.example.com", "aud": "other" }),
                200,
            ),
            (
                json!({ "sub": "alice", "exp": exp, "iss": "https://auth.example.com", "aud": ["x", "todo-api"] }),
                200,
            ),
        ] {
            let token = hs256(Header::new(Algorithm::HS256), &claims);
            let response = app
                .client
                .get(app.url("/api/alice/tasks"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), status, "{claims}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Quotas

#[tokio::test]
async fn quotas_hold_per_user_and_under_concurrency() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let config = ServerConfig::default()
            .vars(&[("MAX_TASKS_PER_USER", "5"), ("MAX_TAGS_PER_USER", "3")]);
        let Some(app) = spawn_app_with(backend, config).await else {
            continue;
        };
        // Concurrent creates never take a user past the quota.
        let creates =
            (0..12).map(|i| app.try_create_task("alice", json!({ "title": format!("t{i}") })));
        let mut created = 0;
        for response in futures_util::future::join_all(creates).await {
            match response.status().as_u16() {
                201 => created += 1,
                403 => {
                    let problem = assert_problem(response, 403).await;
                    assert_eq!(problem["type"], "urn:todo-api:problem:quota-exceeded");
                    assert!(
                        problem["detail"].as_str().unwrap().contains('5'),
                        "{problem}"
                    );
                }
                other => panic!("{backend:?}: {other}"),
            }
        }
        assert_eq!(created, 5, "{backend:?}");
        assert_eq!(app.list_tasks("alice", "").await.len(), 5);
        assert_eq!(
            app.try_create_task("bob", json!({ "title": "b" }))
                .await
                .status(),
            201,
            "per user"
        );
        let tasks = app.list_tasks("alice", "").await;
        app.delete_task("alice", tasks[0].id).await;
        // Tags: distinct keys, ignoring case, across the user's tasks.
        let tagged = app
            .create_task("alice", json!({ "title": "x", "tags": ["a", "B", "c"] }))
            .await;
        let response = app
            .try_update_task("alice", tasks[1].id, json!({ "tags": ["A", "b", "d"] }))
            .await;
        assert_eq!(
            assert_problem(response, 403).await["type"],
            "urn:todo-api:problem:quota-exceeded"
        );
        app.update_task("alice", tasks[1].id, json!({ "tags": ["A", "b", "C"] }))
            .await;
        let response = app
            .try_update_task("alice", tagged.id, json!({ "tags": ["d"] }))
            .await;
        assert_problem(response, 403).await;
        app.update_task("alice", tasks[1].id, json!({ "tags": [] }))
            .await;
        app.update_task("alice", tagged.id, json!({ "tags": ["d"] }))
            .await;
        let tags = app.list_tags("alice").await;
        assert_eq!(tags.len(), 1, "{tags:?}");
        // At the task quota, nothing creates a task: neither a create nor the next occurrence
        // of a recurring task (its completion is refused as a whole).
        let response = app
            .try_create_task("alice", json!({ "title": "over" }))
            .await;
        assert_problem(response, 403).await;
        let recurring = app
            .update_task(
                "alice",
                tasks[2].id,
                json!({ "due_at": "2030-01-01T00:00:00Z", "recurrence": { "frequency": "daily" } }),
            )
            .await;
        let response = app.try_complete_task("alice", recurring.id, None).await;
        assert_problem(response, 403).await;
        assert_eq!(
            app.get_task("alice", recurring.id).await,
            recurring,
            "nothing changed"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Connections

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or 30 s pass: a hang); returns what was read
/// and how long it took.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut read = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut read)).await;
    (
        String::from_utf8_lossy(&read).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn connections_that_stall_are_timed_out_while_others_are_served() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let config = ServerConfig::default().vars(&[
            ("HEADER_READ_TIMEOUT", "1s"),
            ("IDLE_TIMEOUT", "3s"),
            ("BODY_READ_TIMEOUT", "1s"),
        ]);
        let Some(app) = spawn_app_with(backend, config).await else {
            continue;
        };
        let closes = |what: &'static str, elapsed: Duration| {
            assert!(
                elapsed < Duration::from_secs(20),
                "{what}: held for {elapsed:?}"
            );
        };
        // Incomplete headers, a silent connection, an idle keep-alive one.
        let mut partial = connect(&app).await;
        partial
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let mut silent = connect(&app).await;
        let mut idle = connect(&app).await;
        idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        // Meanwhile everyone else is served.
        assert_eq!(app.health().await.status, "ok");
        app.create_titled("alice", "served").await;
        let (_, elapsed) = until_closed(&mut partial).await;
        closes("incomplete headers", elapsed);
        let (_, elapsed) = until_closed(&mut silent).await;
        closes("a silent connection", elapsed);
        let (answer, elapsed) = until_closed(&mut idle).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        closes("an idle keep-alive connection", elapsed);

        // A stalled body: 408, as a problem.
        let token = app.token("alice");
        let mut stalled = connect(&app).await;
        stalled
            .write_all(
                format!(
                    "POST /api/alice/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"ti"
                )
                .as_bytes(),
            )
            .await
            .unwrap();
        let (answer, elapsed) = until_closed(&mut stalled).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(
            answer.contains("urn:todo-api:problem:request-timeout"),
            "{answer}"
        );
        closes("a stalled body", elapsed);

        // A declared body over MAX_BODY_BYTES: 413 before a byte of it is sent.
        let mut huge = connect(&app).await;
        huge.write_all(
            format!(
                "POST /api/alice/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut answer = vec![0; 4096];
        let n = tokio::time::timeout(Duration::from_secs(20), huge.read(&mut answer))
            .await
            .expect("answered before the body is sent")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert_eq!(app.list_tasks("alice", "").await.len(), 1);
    }
}

/// A body of thousands of tags or unknown fields costs little and gets a bounded answer.
async fn huge_bodies_get_bounded_answers(app: TestApp) {
    let tags: Vec<String> = (0..5000).map(|i| format!("t{i}")).collect();
    let response = app
        .try_create_task("alice", json!({ "title": "t", "tags": tags }))
        .await;
    assert_eq!(error_fields(&assert_problem(response, 422).await), ["tags"]);
    let mut body = serde_json::Map::new();
    body.insert("title".into(), json!("t"));
    for i in 0..3000 {
        body.insert(format!("f{i}"), json!(1));
    }
    let response = app.try_create_task("alice", Value::Object(body)).await;
    let problem = assert_problem(response, 422).await;
    assert_eq!(error_fields(&problem).len(), 50);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .ends_with("(and 2950 more)"),
        "{problem}"
    );
    assert!(app.list_tasks("alice", "").await.is_empty());
}
