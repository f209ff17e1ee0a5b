//! [`Json`]: a JSON response declared as plain `application/json` in the spec. (poem-openapi's
//! own `Json` declares `application/json; charset=utf-8`, which openapi-fetch does not treat as
//! JSON, so the generated client would lose the response types.)
//!
//! The spec comes from the types' poem-openapi [`ToJSON`] side; the bytes are written by their
//! serde [`Serialize`] side through [`json_response`]. Unit tests check that both sides write
//! the same JSON.

use poem::error::ResponseError as _;
use poem::{IntoResponse, Response};
use poem_openapi::ApiResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use serde::Serialize;

use crate::http::error::{ApiError, json_response};

/// A JSON response body.
pub(crate) struct Json<T>(pub(crate) T);

impl<T: Type> Payload for Json<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ToJSON + Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        json_response(&self.0, Self::CONTENT_TYPE).unwrap_or_else(|err| {
            ApiError::Internal(anyhow::Error::new(err).context("encoding a response body"))
                .as_response()
        })
    }
}

impl<T: ToJSON + Serialize> ApiResponse for Json<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "OK",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

/// Timestamps as poem-openapi writes them (`DateTime::to_rfc3339`: `…+00:00`), for
/// `#[serde(serialize_with = …)]`.
pub(crate) mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    use crate::http::nullable::Nullable;

    /// A timestamp.
    pub(crate) fn serialize<S: Serializer>(
        at: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&at.to_rfc3339())
    }

    /// A timestamp or `null`.
    pub(crate) fn nullable<S: Serializer>(
        at: &Nullable<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        option(&at.0, serializer)
    }

    /// A timestamp or `null` (skip `None` with `skip_serializing_if` where the field is optional).
    pub(crate) fn option<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Every response body type writes, through serde, the JSON its poem-openapi side (the one
    //! the spec describes) would write.

    use chrono::{DateTime, TimeZone as _, Utc};
    use poem_openapi::types::ToJSON;
    use serde::Serialize;

    use crate::domain::{Frequency, Priority};
    use crate::http::api::health::{Health, JwksReadiness, Readiness};
    use crate::http::error::{FieldError, Problem};
    use crate::http::nullable::Nullable;
    use crate::http::schemas::feed::{
        ChangePageView, ChangeView, DeleteChange, ListDeleteChange, ListUpsertChange, StreamCursor,
        UpsertChange,
    };
    use crate::http::schemas::views::RecurrenceView;
    use crate::http::schemas::{DeletedCount, ListView, TagCount, TaskView};

    fn assert_same_json<T: ToJSON + Serialize>(value: &T) {
        let serde = serde_json::to_value(value).expect("encodes");
        assert_eq!(Some(serde), value.to_json());
    }

    fn at(micros: i64) -> DateTime<Utc> {
        Utc.timestamp_micros(micros)
            .single()
            .expect("a valid instant")
    }

    fn when<T>(full: bool, value: T) -> Option<T> {
        full.then_some(value)
    }

    fn task(full: bool) -> TaskView {
        TaskView {
            id: 9_007_199_254_740_991,
            user_id: "user \"1\" ✓".into(),
            title: "Pay the rent\n\u{1}".into(),
            description: Nullable(when(full, "Before the 1st".to_owned())),
            completed: full,
            completed_at: Nullable(when(full, at(1_800_000_000_123_456))),
            priority: if full { Priority::High } else { Priority::Low },
            tags: if full {
                vec!["home".into(), "Bills".into()]
            } else {
                vec![]
            },
            due_at: Nullable(when(full, at(1_800_000_000_000_000))),
            remind_at: Nullable(when(full, at(1_799_999_999_999_999))),
            recurrence: Nullable(when(
                full,
                RecurrenceView {
                    frequency: Frequency::Monthly,
                    interval: 3,
                    until: Some(at(1_900_000_000_500_000)),
                    count: None,
                },
            )),
            next_occurrence_id: Nullable(when(full, 42)),
            list_id: Nullable(when(full, 3)),
            parent_id: Nullable(when(full, 8)),
            position: "a0V".into(),
            subtask_count: 2,
            completed_subtask_count: 1,
            created_at: at(1_700_000_000_000_001),
            updated_at: at(1_700_000_000_000_000),
        }
    }

    fn list(full: bool) -> ListView {
        ListView {
            id: 5,
            name: "Work \"2\"".into(),
            color: Nullable(when(full, "#1e90ff".to_owned())),
            position: "a0".into(),
            task_count: 3,
            pending_count: 1,
            created_at: at(1_700_000_000_000_001),
            updated_at: at(1_700_000_000_000_002),
        }
    }

    #[test]
    fn lists_encode_as_the_spec_says() {
        assert_same_json(&vec![list(true), list(false)]);
    }

    #[test]
    fn tasks_encode_as_the_spec_says() {
        assert_same_json(&task(true));
        assert_same_json(&task(false));
        assert_same_json(&vec![task(true), task(false)]);
        assert_same_json(&RecurrenceView {
            frequency: Frequency::Daily,
            interval: 1,
            until: None,
            count: Some(10),
        });
        for priority in [Priority::Low, Priority::Medium, Priority::High] {
            assert_same_json(&priority);
        }
        for frequency in [
            Frequency::Daily,
            Frequency::Weekly,
            Frequency::Monthly,
            Frequency::Yearly,
        ] {
            assert_same_json(&frequency);
        }
    }

    #[test]
    fn changes_encode_as_the_spec_says() {
        let changes = vec![
            ChangeView::Upsert(UpsertChange { task: task(true) }),
            ChangeView::Delete(DeleteChange { id: 7 }),
            ChangeView::ListUpsert(ListUpsertChange { list: list(true) }),
            ChangeView::ListDelete(ListDeleteChange { id: 5 }),
        ];
        for change in &changes {
            assert_same_json(change);
        }
        let json = serde_json::to_value(&changes[1]).unwrap_or_default();
        assert_eq!(json, serde_json::json!({"type": "delete", "id": 7}));
        let json = serde_json::to_value(&changes[3]).unwrap_or_default();
        assert_eq!(json, serde_json::json!({"type": "list_delete", "id": 5}));
        assert_same_json(&ChangePageView {
            changes,
            cursor: "abc".into(),
            has_more: true,
        });
        assert_same_json(&StreamCursor {
            cursor: "abc".into(),
        });
    }

    #[test]
    fn other_bodies_encode_as_the_spec_says() {
        assert_same_json(&vec![TagCount {
            tag: "home".into(),
            count: 3,
        }]);
        assert_same_json(&DeletedCount { deleted: 2 });
        assert_same_json(&Health {
            status: "ok".into(),
        });
        for jwks in [JwksReadiness::Loaded, JwksReadiness::Disabled] {
            assert_same_json(&Readiness {
                status: "ready".into(),
                database: "ok".into(),
                jwks,
            });
        }
        let mut problem = Problem {
            r#type: "urn:todo-api:problem:validation".into(),
            title: "Unprocessable Content".into(),
            status: 422,
            detail: "the body has invalid fields".into(),
            errors: None,
        };
        assert_same_json(&problem);
        problem.errors = Some(vec![FieldError::new("title", "must not be empty")]);
        assert_same_json(&problem);
    }
}
