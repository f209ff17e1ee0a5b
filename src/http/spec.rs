//! The OpenAPI document as served (`/openapi.json`, `/openapi.yaml`) and committed
//! (`openapi.yaml`): what poem-openapi generates from the operations, plus what its
//! attributes cannot state or state badly.
//!
//! - Request bodies take no other fields than they declare (`additionalProperties: false`):
//!   [`crate::http::body`] rejects unknown fields.
//! - An operation without a security requirement is public on purpose (`security: []`), rather
//!   than silently unprotected.
//! - A field that refers to another schema is `allOf: [{$ref}]` with its description beside the
//!   `allOf`, not repeated in a second `allOf` item (which the TypeScript client turns into
//!   `& unknown`). A nullable one also states the referenced schema's `type` next to
//!   `nullable: true`: OpenAPI 3.0 ignores `nullable` without a `type`, so linters reject it.

use poem::endpoint::make_sync;
use poem::{Endpoint, Response};
use serde_yaml::{Mapping, Value};

use super::api_service;

/// The document, generated once.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    json: String,
    yaml: String,
}

impl Spec {
    /// Generates the document from the operations.
    pub(crate) fn generate() -> Self {
        let mut document: Value = serde_yaml::from_str(&api_service().spec_yaml())
            .unwrap_or_else(|err| panic!("poem-openapi wrote a spec that is not YAML: {err}"));
        close_request_bodies(&mut document);
        tidy_references(&mut document);
        mark_public_operations(&mut document);
        Self {
            json: serde_json::to_string_pretty(&document)
                .unwrap_or_else(|err| panic!("the spec cannot be written as JSON: {err}")),
            yaml: serde_yaml::to_string(&document)
                .unwrap_or_else(|err| panic!("the spec cannot be written as YAML: {err}")),
        }
    }

    /// The document as YAML: what `openapi.yaml` holds.
    pub(crate) fn yaml(&self) -> &str {
        &self.yaml
    }

    /// Serves the JSON document.
    pub(crate) fn json_endpoint(&self) -> impl Endpoint + 'static {
        serve(self.json.clone(), "application/json")
    }

    /// Serves the YAML document.
    pub(crate) fn yaml_endpoint(&self) -> impl Endpoint + 'static {
        serve(self.yaml.clone(), "application/yaml")
    }
}

fn serve(body: String, content_type: &'static str) -> impl Endpoint + 'static {
    make_sync(move |_| {
        Response::builder()
            .content_type(content_type)
            .body(body.clone())
    })
}

fn mapping<'a>(value: &'a mut Value, key: &str) -> Option<&'a mut Mapping> {
    value.get_mut(key).and_then(Value::as_mapping_mut)
}

/// The operations of every path, mutably.
fn operations(document: &mut Value) -> impl Iterator<Item = &mut Value> {
    mapping(document, "paths")
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_mapping_mut)
        .flat_map(|item| item.values_mut())
}

/// `additionalProperties: false` on every schema a request body refers to.
fn close_request_bodies(document: &mut Value) {
    let mut bodies: Vec<String> = operations(document)
        .filter_map(|operation| operation.get("requestBody")?.get("content")?.as_mapping())
        .flat_map(|content| content.values())
        .filter_map(|media| media.get("schema")?.get("$ref")?.as_str())
        .filter_map(|reference| reference.strip_prefix("#/components/schemas/"))
        .map(str::to_owned)
        .collect();
    bodies.sort();
    bodies.dedup();
    let Some(schemas) = document
        .get_mut("components")
        .and_then(|components| mapping(components, "schemas"))
    else {
        return;
    };
    for name in bodies {
        if let Some(schema) = schemas
            .get_mut(name.as_str())
            .and_then(Value::as_mapping_mut)
        {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

/// `security: []` on every operation that declares no security requirement.
fn mark_public_operations(document: &mut Value) {
    for operation in operations(document).filter_map(Value::as_mapping_mut) {
        if !operation.contains_key("security") {
            operation.insert("security".into(), Value::Sequence(Vec::new()));
        }
    }
}

/// The `type` of every component schema that has one, by reference (`#/components/schemas/…`).
fn component_types(document: &Value) -> Vec<(String, Value)> {
    document
        .get("components")
        .and_then(|components| components.get("schemas"))
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            let name = name.as_str()?;
            let kind = schema.get("type")?.clone();
            Some((format!("#/components/schemas/{name}"), kind))
        })
        .collect()
}

/// Rewrites every `allOf: [{$ref}, {description, nullable?}]` (how poem-openapi describes a
/// field of a named schema) to `allOf: [{$ref}]`, moving `nullable: true` beside it together
/// with the referenced schema's `type`.
fn tidy_references(document: &mut Value) {
    let types = component_types(document);
    tidy_references_in(document, &types);
}

fn tidy_references_in(value: &mut Value, types: &[(String, Value)]) {
    match value {
        Value::Mapping(schema) => {
            tidy_reference(schema, types);
            for (_, child) in schema.iter_mut() {
                tidy_references_in(child, types);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                tidy_references_in(item, types);
            }
        }
        _ => {}
    }
}

/// Annotations that poem-openapi repeats in a second `allOf` item.
const ANNOTATIONS: [&str; 2] = ["description", "nullable"];

fn tidy_reference(schema: &mut Mapping, types: &[(String, Value)]) {
    let Some(Value::Sequence(all_of)) = schema.get_mut("allOf") else {
        return;
    };
    let Some(reference) = all_of
        .first()
        .and_then(|first| first.get("$ref"))
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    let annotations_only = |item: &Value| {
        item.as_mapping().is_some_and(|item| {
            item.keys()
                .all(|key| key.as_str().is_some_and(|key| ANNOTATIONS.contains(&key)))
        })
    };
    if all_of.len() < 2 || !all_of[1..].iter().all(annotations_only) {
        return;
    }
    let nullable = all_of[1..]
        .iter()
        .any(|item| item.get("nullable") == Some(&Value::Bool(true)));
    all_of.truncate(1);
    let nullable = nullable || schema.get("nullable") == Some(&Value::Bool(true));
    if !nullable {
        return;
    }
    schema.insert("nullable".into(), Value::Bool(true));
    if let Some((_, kind)) = types.iter().find(|(name, _)| *name == reference) {
        // `type` first, as poem-openapi writes it.
        let rest = std::mem::take(schema);
        schema.insert("type".into(), kind.clone());
        schema.extend(rest);
    }
}
