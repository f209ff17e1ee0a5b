//! The JSON Schemas clients see, from the argument and result types: what `schemars` writes,
//! made compact for a model to read (and for validators without 2020-12 support):
//!
//! - every subschema inlined: no `$ref`, which some model providers refuse;
//! - no root `$schema`, `title` or `description` (the Rust type's name and doc);
//! - a string choice as `enum: [...]` rather than a `oneOf` of documented `const`s, and an
//!   optional one as the same `enum` with `null`;
//! - no `"default": null` on optional arguments, and no formats JSON Schema does not define
//!   (`uint32`: the bounds say it; validators warn about unknown formats).

use rmcp::model::JsonObject;
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

/// Which side of a value a schema describes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Contract {
    /// What a tool accepts.
    Input,
    /// What a tool returns.
    Output,
}

/// The schema (JSON Schema 2020-12, MCP's default dialect) of `T`.
pub(crate) fn schema_of<T: JsonSchema>(contract: Contract) -> JsonObject {
    let settings = SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true);
    let settings = match contract {
        Contract::Input => settings.for_deserialize(),
        Contract::Output => settings.for_serialize(),
    };
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut object = match serde_json::to_value(schema) {
        Ok(Value::Object(object)) => object,
        _ => JsonObject::new(),
    };
    for key in ["$schema", "title", "description"] {
        object.remove(key);
    }
    simplify(&mut object);
    object
}

/// Applies the module's rules to `schema` and everything in it.
fn simplify(schema: &mut JsonObject) {
    for value in schema.values_mut() {
        match value {
            Value::Object(inner) => simplify(inner),
            Value::Array(items) => items
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .for_each(simplify),
            _ => {}
        }
    }
    if schema.get("format").is_some_and(|f| f != "date-time") {
        schema.remove("format");
    }
    if schema.get("default") == Some(&Value::Null) {
        schema.remove("default");
    }
    if let Some(choices) = schema.get("oneOf").and_then(string_choices) {
        schema.remove("oneOf");
        schema.insert("type".into(), json!("string"));
        schema.insert("enum".into(), Value::Array(choices));
    }
    let nullable_choice = schema
        .get("anyOf")
        .and_then(|any| match any.as_array()?.as_slice() {
            [Value::Object(choice), Value::Object(null)]
                if null.get("type") == Some(&json!("null")) =>
            {
                let mut choices = choice.get("enum")?.as_array()?.clone();
                choices.push(Value::Null);
                Some(choices)
            }
            _ => None,
        });
    if let Some(choices) = nullable_choice {
        schema.remove("anyOf");
        schema.insert("type".into(), json!(["string", "null"]));
        schema.insert("enum".into(), Value::Array(choices));
    }
}

/// The values of a `oneOf` whose every branch is one string `const`.
fn string_choices(one_of: &Value) -> Option<Vec<Value>> {
    one_of
        .as_array()?
        .iter()
        .map(|branch| branch.get("const").filter(|c| c.is_string()).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A choice.
    #[derive(JsonSchema, serde::Deserialize)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Choice {
        /// First.
        One,
        /// Second.
        Two,
    }

    #[derive(JsonSchema, serde::Deserialize)]
    #[allow(dead_code)]
    struct Args {
        /// Required.
        choice: Choice,
        /// Optional.
        #[serde(default)]
        maybe: Option<Choice>,
        /// A count.
        #[serde(default)]
        count: Option<u32>,
    }

    #[test]
    fn choices_become_enums_and_the_noise_goes() {
        let schema = Value::Object(schema_of::<Args>(Contract::Input));
        assert_eq!(
            schema["properties"]["choice"],
            json!({ "description": "Required.", "type": "string", "enum": ["one", "two"] })
        );
        assert_eq!(
            schema["properties"]["maybe"],
            json!({ "description": "Optional.", "type": ["string", "null"], "enum": ["one", "two", null] })
        );
        assert_eq!(
            schema["properties"]["count"],
            json!({ "description": "A count.", "type": ["integer", "null"], "minimum": 0 })
        );
        assert!(schema.get("$schema").is_none() && schema.get("title").is_none());
    }
}
