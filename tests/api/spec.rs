//! The committed `openapi.yaml` is what the server produces, and it describes every operation.

use serde_json::{Value, json};

const COMMITTED: &str = include_str!("../../openapi.yaml");

#[test]
fn committed_spec_is_up_to_date() {
    let generated = todo_api::http::spec_yaml();
    assert!(
        generated == COMMITTED,
        "openapi.yaml is stale: regenerate it with `cargo run -- openapi > openapi.yaml`"
    );
}

#[test]
fn every_operation_is_documented_and_declares_its_errors() {
    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    assert_eq!(
        spec["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["bearerAuth"]["bearerFormat"],
        "JWT"
    );
    assert!(spec["info"]["license"]["name"].is_string());
    assert!(!spec["servers"].as_array().unwrap().is_empty());

    let mut operation_ids = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            operation_ids.push(id.to_owned());
            assert!(op["summary"].is_string(), "{id}: no summary");
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{id}: one tag"
            );
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/api/") {
                assert_eq!(
                    op["security"][0]["bearerAuth"],
                    Value::Array(vec![]),
                    "{id}"
                );
                for status in ["401", "403", "422", "500", "503"] {
                    let response = &responses[status];
                    assert!(
                        response["content"]["application/problem+json"]["schema"]["$ref"]
                            == "#/components/schemas/Problem",
                        "{id}: {status} is not a declared problem"
                    );
                }
                assert!(
                    responses["401"]["headers"]["WWW-Authenticate"].is_object(),
                    "{id}"
                );
                if path.ends_with("{id}")
                    || path.ends_with("{list_id}")
                    || path.ends_with("complete")
                    || path.ends_with("move")
                {
                    assert!(responses.contains_key("404"), "{id}: no 404");
                    if method != "get" {
                        assert!(responses.contains_key("412"), "{id}: no 412");
                    }
                }
                if op.get("requestBody").is_some() {
                    for status in ["400", "413", "415"] {
                        assert!(responses.contains_key(status), "{id}: no {status}");
                    }
                }
            }
        }
    }
    operation_ids.sort();
    assert_eq!(
        operation_ids,
        [
            "clearCompletedTasks",
            "completeTask",
            "createList",
            "createTask",
            "deleteList",
            "deleteTask",
            "getHealth",
            "getList",
            "getReadiness",
            "getTask",
            "listChanges",
            "listLists",
            "listReminders",
            "listTags",
            "listTasks",
            "moveList",
            "moveTask",
            "streamEvents",
            "updateList",
            "updateTask"
        ]
    );
}

#[test]
fn request_bodies_are_closed_and_say_what_the_server_checks() {
    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    let schemas = &spec["components"]["schemas"];
    for name in [
        "CreateTask",
        "UpdateTask",
        "CompleteTask",
        "MoveTask",
        "CreateList",
        "UpdateList",
        "MoveList",
    ] {
        assert_eq!(
            schemas[name]["additionalProperties"],
            Value::Bool(false),
            "{name}: unknown fields are refused"
        );
    }
    assert_eq!(schemas["UpdateTask"]["minProperties"], 1);
    for name in ["CreateTask", "UpdateTask"] {
        let properties = &schemas[name]["properties"];
        assert_eq!(
            properties["title"]["pattern"],
            todo_api::rules::TaskTitle::PATTERN,
            "{name}.title"
        );
        assert!(
            properties["title"].get("maxLength").is_none(),
            "{name}: trimmed first"
        );
        assert_eq!(
            properties["description"]["pattern"],
            todo_api::rules::TaskDescription::PATTERN,
            "{name}.description"
        );
        assert_eq!(properties["description"]["maxLength"], 1000);
        assert_eq!(
            properties["tags"]["items"]["pattern"],
            todo_api::rules::Tag::PATTERN,
            "{name}.tags"
        );
        let recurrence = &properties["recurrence"];
        assert_eq!(
            (&recurrence["type"], &recurrence["nullable"]),
            (&json!("object"), &json!(true)),
            "{name}.recurrence: `nullable` needs a `type` beside it"
        );
        assert_eq!(
            recurrence["allOf"],
            json!([{ "$ref": "#/components/schemas/Recurrence" }]),
            "{name}.recurrence: one reference, no annotation-only item"
        );
    }
    let interval = &schemas["Recurrence"]["properties"]["interval"];
    assert_eq!(interval["default"], 1, "interval may be omitted");
    assert!(
        !schemas["Recurrence"]["required"]
            .as_array()
            .unwrap()
            .contains(&json!("interval"))
    );
}

#[test]
fn parameters_say_what_the_server_accepts() {
    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    let parameter = |path: &str, method: &str, name: &str| -> Value {
        spec["paths"][path][method]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{method} {path}: no parameter {name}"))
            .clone()
    };
    let status = parameter("/api/{user_id}/tasks", "delete", "status");
    assert_eq!(status["required"], true);
    assert_eq!(
        spec["components"]["schemas"]["ClearStatus"]["enum"],
        json!(["completed"]),
        "clearing takes status=completed only"
    );
    let cursor = parameter("/api/{user_id}/tasks", "get", "cursor");
    assert_eq!(cursor["schema"]["pattern"], "^[A-Za-z0-9_-]+$");
    let q = parameter("/api/{user_id}/tasks", "get", "q");
    assert_eq!(q["schema"]["maxLength"], 200);
}

#[test]
fn public_operations_say_so() {
    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    for path in ["/health", "/ready"] {
        assert_eq!(
            spec["paths"][path]["get"]["security"],
            Value::Array(vec![]),
            "{path} is public on purpose"
        );
    }
}

/// The typed `Task` the tests read answers into (strictly: every field required, no other) has
/// exactly the fields of the spec's `Task`, so the contract tests check the documented shape.
#[test]
fn the_tests_task_type_has_exactly_the_fields_of_the_spec() {
    use crate::support::{Priority, Task, Timestamp};

    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    let schema = &spec["components"]["schemas"]["Task"];
    let mut declared: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    declared.sort_unstable();
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(
        required, declared,
        "the spec requires every field of a Task"
    );

    let now = Timestamp("2030-01-01T00:00:00+00:00".into());
    let task = Task {
        id: 1,
        user_id: "alice".into(),
        title: "t".into(),
        description: None,
        completed: false,
        completed_at: None,
        priority: Priority::Medium,
        tags: vec![],
        due_at: None,
        remind_at: None,
        recurrence: None,
        next_occurrence_id: None,
        list_id: None,
        parent_id: None,
        position: "a0".into(),
        subtask_count: 0,
        completed_subtask_count: 0,
        created_at: now.clone(),
        updated_at: now,
    };
    let typed = serde_json::to_value(&task).unwrap();
    let mut fields: Vec<&str> = typed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, declared);
    // And it reads back what it wrote: `null`s included, nothing else accepted.
    assert_eq!(serde_json::from_value::<Task>(typed.clone()).unwrap(), task);
    let mut missing = typed.clone();
    missing.as_object_mut().unwrap().remove("description");
    assert!(serde_json::from_value::<Task>(missing).is_err());
    let mut extra = typed;
    extra["unknown"] = json!(1);
    assert!(serde_json::from_value::<Task>(extra).is_err());
}

/// The change feed and the event stream are in the spec precisely enough for a typed client:
/// the change and every event's payload are schemas, discriminated by their `type` and
/// `event`, and both operations declare the 410 of an expired cursor.
#[test]
fn the_feed_and_the_stream_are_typed() {
    let spec: Value = serde_yaml::from_str(COMMITTED).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mapping = |name: &str, property: &str| -> Value {
        assert_eq!(
            schemas[name]["discriminator"]["propertyName"], property,
            "{name} is told apart by `{property}`"
        );
        schemas[name]["discriminator"]["mapping"].clone()
    };
    assert_eq!(
        mapping("Change", "type"),
        json!({
            "upsert": "#/components/schemas/Change_UpsertChange",
            "delete": "#/components/schemas/Change_DeleteChange",
            "list_upsert": "#/components/schemas/Change_ListUpsertChange",
            "list_delete": "#/components/schemas/Change_ListDeleteChange"
        })
    );
    assert_eq!(
        mapping("StreamEvent", "event"),
        json!({
            "ready": "#/components/schemas/StreamEvent_ReadyEvent",
            "change": "#/components/schemas/StreamEvent_ChangeEvent",
            "reauth": "#/components/schemas/StreamEvent_ReauthEvent",
            "resync": "#/components/schemas/StreamEvent_ResyncEvent"
        })
    );
    // A change event's data is a `Change` itself (not a subtype of it, which `allOf` would say).
    assert_eq!(
        schemas["ChangeEvent"]["properties"]["data"],
        json!({ "$ref": "#/components/schemas/Change" })
    );
    for event in ["ReadyEvent", "ReauthEvent", "ResyncEvent"] {
        assert_eq!(
            schemas[event]["properties"]["data"]["allOf"],
            json!([{ "$ref": "#/components/schemas/StreamCursor" }]),
            "{event}"
        );
    }
    assert_eq!(
        schemas["ChangePage"]["required"],
        json!(["changes", "cursor", "has_more"])
    );

    let changes = &spec["paths"]["/api/{user_id}/changes"]["get"];
    assert_eq!(
        changes["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ChangePage"
    );
    let events = &spec["paths"]["/api/{user_id}/events"]["get"];
    assert_eq!(
        events["responses"]["200"]["content"]["text/event-stream"]["schema"]["items"]["$ref"],
        "#/components/schemas/StreamEvent"
    );
    for operation in [changes, events] {
        assert!(
            operation["responses"]["410"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("cursor-expired")),
            "{operation}"
        );
    }
    let names: Vec<&str> = events["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["user_id", "since", "Last-Event-ID"]);
}
