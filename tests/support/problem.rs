//! RFC 9457 problems: what every error answer must look like.

use reqwest::Response;
use serde_json::Value;

/// Asserts a problem+json response with `status`, and returns its body.
pub(crate) async fn assert_problem(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("the body is read");
    assert_eq!(actual, status, "unexpected status: {text}");
    assert_eq!(content_type, "application/problem+json", "{text}");
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("a problem is JSON ({e}): {text}"));
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:todo-api:problem:")),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// The field names a 422 problem lists.
pub(crate) fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("a validation problem lists its errors")
        .iter()
        .map(|e| {
            e["field"]
                .as_str()
                .expect("each error names its field")
                .to_owned()
        })
        .collect()
}

/// Asserts a 503 problem with a `Retry-After` (the database or the keys are unavailable), and
/// returns its body.
pub(crate) async fn assert_unavailable(response: Response) -> Value {
    assert!(
        response.headers().contains_key("retry-after"),
        "a 503 says when to retry: {:?}",
        response.headers()
    );
    assert_problem(response, 503).await
}
