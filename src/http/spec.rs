//! The OpenAPI document as served (`/openapi.json`, `/openapi.yaml`) and committed
//! (`openapi.yaml`): what poem-openapi generates from the operations, plus two facts its
//! attributes cannot state.
//!
//! - Request bodies take no other fields than they declare (`additionalProperties: false`):
//!   [`crate::http::body`] rejects unknown fields.
//! - An operation without a security requirement is public on purpose (`security: []`), rather
//!   than silently unprotected.

use poem::endpoint::make_sync;
use poem::{Endpoint, Response};
use serde_yaml::{Mapping, Value};

use super::api_service;

/// The document, generated once.
#[derive(Clone, Debug)]
pub struct Spec {
    json: String,
    yaml: String,
}

impl Spec {
    /// Generates the document from the operations.
    pub fn generate() -> Self {
        let mut document: Value = serde_yaml::from_str(&api_service().spec_yaml())
            .unwrap_or_else(|err| panic!("poem-openapi wrote a spec that is not YAML: {err}"));
        close_request_bodies(&mut document);
        mark_public_operations(&mut document);
        Self {
            json: serde_json::to_string_pretty(&document)
                .unwrap_or_else(|err| panic!("the spec cannot be written as JSON: {err}")),
            yaml: serde_yaml::to_string(&document)
                .unwrap_or_else(|err| panic!("the spec cannot be written as YAML: {err}")),
        }
    }

    /// The document as YAML: what `openapi.yaml` holds.
    pub fn yaml(&self) -> &str {
        &self.yaml
    }

    /// The document as JSON.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Serves the JSON document.
    pub fn json_endpoint(&self) -> impl Endpoint + 'static {
        serve(self.json.clone(), "application/json")
    }

    /// Serves the YAML document.
    pub fn yaml_endpoint(&self) -> impl Endpoint + 'static {
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
