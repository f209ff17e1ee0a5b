//! Listing parameters: validation into a [`ListQuery`], the opaque keyset cursor (written by
//! [`crate::http::cursor`]), and the `Link: <…>; rel="next"` URL.

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::domain::listing::{Keyword, ListQuery, MAX_FILTER_VALUES, Order, Position, SortKey};
use crate::domain::{Priority, StatusFilter, Tag, Timestamp};
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
    /// `list_id`: a list's id or `inbox`.
    pub(crate) list_id: Option<String>,
    /// `parent_id`: a task's id or `none`.
    pub(crate) parent_id: Option<String>,
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
        if let Some(list) = &self.list_id {
            pairs.push(("list_id", list.clone()));
        }
        if let Some(parent) = &self.parent_id {
            pairs.push(("parent_id", parent.clone()));
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
        let search = match self.q.as_deref().map(Keyword::parse) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(keyword))) => Some(keyword.as_str().to_owned()),
            Some(Err(why)) => {
                errors.push(("q", why.to_owned()));
                None
            }
        };
        for (name, count) in [("priority", self.priority.len()), ("tag", self.tag.len())] {
            if count > MAX_FILTER_VALUES {
                errors.push((
                    name,
                    format!("takes at most {MAX_FILTER_VALUES} values, not {count}"),
                ));
            }
        }
        let mut tag_keys: Vec<String> = Vec::new();
        for raw in self.tag.iter().take(MAX_FILTER_VALUES + 1) {
            match Tag::parse(raw) {
                Ok(parsed) if !tag_keys.contains(&parsed.key()) => tag_keys.push(parsed.key()),
                Ok(_) => {}
                Err(why) => errors.push(("tag", why.to_owned())),
            }
        }
        let mut priorities: Vec<Priority> = Vec::new();
        for priority in &self.priority {
            if !priorities.contains(priority) {
                priorities.push(*priority);
            }
        }
        for (name, at) in [
            ("due_before", self.due_before),
            ("due_after", self.due_after),
        ] {
            if let Some(Err(why)) = at.map(Timestamp::check_utc) {
                errors.push((name, why.to_owned()));
            }
        }
        let list = self
            .list_id
            .as_deref()
            .map(|raw| id_or(raw, "inbox"))
            .transpose()
            .unwrap_or_else(|why| {
                errors.push(("list_id", format!("must be a list's id or `inbox` ({why})")));
                None
            });
        let parent = self
            .parent_id
            .as_deref()
            .map(|raw| id_or(raw, "none"))
            .transpose()
            .unwrap_or_else(|why| {
                errors.push((
                    "parent_id",
                    format!("must be a task's id or `none` ({why})"),
                ));
                None
            });
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
        Ok(ListQuery {
            status: self.status,
            priorities,
            tag_keys,
            search,
            due_before: self.due_before,
            due_after: self.due_after,
            overdue: self.overdue,
            list,
            parent,
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

/// `Some(id)` for an id, `None` for the word that means "none of them" (`inbox`, `none`).
fn id_or(raw: &str, word: &str) -> Result<Option<i64>, String> {
    if raw == word {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(id) if (1..crate::http::body::MAX_ID).contains(&id) => Ok(Some(id)),
        _ => Err(format!("`{raw}` is neither")),
    }
}

/// The wire name of a poem-openapi enum value.
fn enum_name<T: poem_openapi::types::ToJSON>(value: &T) -> String {
    match value.to_json() {
        Some(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The cursor of the tag page after `key` (opaque).
pub(crate) fn encode_tag_cursor(key: &str) -> String {
    seal(&key)
}

/// The tag key a cursor of [`encode_tag_cursor`] holds.
pub(crate) fn decode_tag_cursor(raw: &str) -> Result<String, ApiError> {
    open::<String>(raw)
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this server issued"))
}
