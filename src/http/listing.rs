//! Listing parameters: validation into a [`ListQuery`], the opaque keyset cursor (written by
//! [`crate::http::cursor`]), and the `Link: <…>; rel="next"` URL.

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::domain::listing::{ListQuery, Order, Position, SortKey, search_keyword};
use crate::domain::{Priority, StatusFilter, Tag};
use crate::http::body::fingerprint;
use crate::http::cursor::{open, seal};
use crate::http::error::{ApiError, FieldError};

/// The page size when none is asked for.
const DEFAULT_LIMIT: u32 = 500;
/// The largest page size.
pub(crate) const MAX_LIMIT: u32 = 1000;
/// Characters left as they are in a URL component (RFC 3986 unreserved).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment or query value.
pub(crate) fn encode_component(raw: &str) -> String {
    utf8_percent_encode(raw, UNRESERVED).to_string()
}

/// The listing parameters as received.
#[derive(Debug, Default)]
pub(crate) struct ListParams {
    /// `status`.
    pub(crate) status: StatusFilter,
    /// `priority` (repeatable).
    pub(crate) priority: Vec<Priority>,
    /// `tag` (repeatable).
    pub(crate) tag: Vec<String>,
    /// `q`.
    pub(crate) q: Option<String>,
    /// `due_before`.
    pub(crate) due_before: Option<DateTime<Utc>>,
    /// `due_after`.
    pub(crate) due_after: Option<DateTime<Utc>>,
    /// `overdue`.
    pub(crate) overdue: bool,
    /// `sort`.
    pub(crate) sort: Option<SortKey>,
    /// `order`.
    pub(crate) order: Option<Order>,
    /// `limit`.
    pub(crate) limit: Option<u32>,
    /// `cursor`.
    pub(crate) cursor: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// The fingerprint of the query the cursor belongs to.
    q: String,
    /// Where the page ended.
    p: Position,
}

impl ListParams {
    /// `(name, value)` pairs of every parameter that shapes the result, in a fixed order
    /// (the limit and cursor excepted).
    fn shape(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("status", enum_name(&self.status))];
        pairs.extend(self.priority.iter().map(|p| ("priority", enum_name(p))));
        pairs.extend(self.tag.iter().map(|t| ("tag", t.clone())));
        if let Some(q) = &self.q {
            pairs.push(("q", q.clone()));
        }
        if let Some(at) = self.due_before {
            pairs.push(("due_before", at.to_rfc3339()));
        }
        if let Some(at) = self.due_after {
            pairs.push(("due_after", at.to_rfc3339()));
        }
        if self.overdue {
            pairs.push(("overdue", "true".into()));
        }
        if let Some(sort) = &self.sort {
            pairs.push(("sort", enum_name(sort)));
        }
        if let Some(order) = &self.order {
            pairs.push(("order", enum_name(order)));
        }
        pairs
    }

    fn fingerprint(&self) -> String {
        let shape: Vec<String> = self
            .shape()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        fingerprint(shape.join("&").as_bytes())
    }

    /// Validates the parameters into a store query.
    pub(crate) fn to_query(&self) -> Result<ListQuery, ApiError> {
        let mut errors = Vec::new();
        let search = search_keyword(self.q.as_deref()).unwrap_or_else(|why| {
            errors.push(("q", why));
            None
        });
        let mut tag_keys = Vec::new();
        for raw in &self.tag {
            match Tag::parse(raw) {
                Ok(parsed) => tag_keys.push(parsed.key()),
                Err(why) => errors.push(("tag", why.to_owned())),
            }
        }
        let after = match &self.cursor {
            None => None,
            Some(raw) => match open::<Cursor>(raw) {
                Some(cursor) if cursor.q == self.fingerprint() => Some(cursor.p),
                Some(_) => {
                    errors.push((
                        "cursor",
                        "belongs to another query: keep the other parameters as they were".into(),
                    ));
                    None
                }
                None => {
                    errors.push(("cursor", "is not a cursor this server issued".into()));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::Validation(
                errors
                    .into_iter()
                    .map(|(field, detail)| FieldError::new(field, detail))
                    .collect(),
            ));
        }
        tag_keys.dedup();
        Ok(ListQuery {
            status: self.status,
            priorities: self.priority.clone(),
            tag_keys,
            search,
            due_before: self.due_before,
            due_after: self.due_after,
            overdue: self.overdue,
            now: crate::domain::now(),
            sort: self.sort.unwrap_or_default(),
            order: self.order,
            limit: self.limit.unwrap_or(DEFAULT_LIMIT),
            after,
        })
    }

    /// The URL of the page after `position`.
    pub(crate) fn next_url(&self, path: &str, position: Position) -> String {
        let cursor = Cursor {
            q: self.fingerprint(),
            p: position,
        };
        let cursor = seal(&cursor);
        let mut pairs = self.shape();
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        pairs.push(("cursor", cursor));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect();
        format!("{path}?{}", query.join("&"))
    }
}

/// The wire name of a poem-openapi enum value.
fn enum_name<T: poem_openapi::types::ToJSON>(value: &T) -> String {
    match value.to_json() {
        Some(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
