//! JSON parsed as `serde_json` parses it, plus the keys it would silently drop: an object that
//! names a key twice (serde_json keeps the last) means two things at once, so the body parser
//! ([`crate::http::body`]) refuses it, naming each repeated key by its path.
//!
//! Home-made: serde_json has no duplicate-key check, and the crates that add one
//! (`serde_json_strict` and the like) are unmaintained; the visitor below is the whole of it.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses one JSON document; returns it (the last value of each repeated key kept) with the
/// paths of the repeated keys, e.g. `recurrence.count`, in the order found.
pub(crate) fn parse(bytes: &[u8]) -> Result<(Value, Vec<String>), serde_json::Error> {
    let repeated = RefCell::new(Vec::new());
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = Seed {
        path: String::new(),
        repeated: &repeated,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    let mut repeated = repeated.into_inner();
    let mut seen = Vec::new();
    repeated.retain(|path| {
        let first = !seen.contains(path);
        seen.push(path.clone());
        first
    });
    Ok((value, repeated))
}

/// Reads one value at `path`, recording repeated keys in `repeated`.
struct Seed<'a> {
    path: String,
    repeated: &'a RefCell<Vec<String>>,
}

impl Seed<'_> {
    fn child(&self, segment: &str) -> Self {
        Seed {
            path: if self.path.is_empty() {
                segment.to_owned()
            } else {
                format!("{}.{segment}", self.path)
            },
            repeated: self.repeated,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&items.len().to_string()))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.child(&key))?;
            if object.insert(key.clone(), value).is_some() {
                self.repeated.borrow_mut().push(self.child(&key).path);
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_are_named_by_path_at_every_depth() {
        let (value, repeated) =
            parse(br#"{"a": 1, "a": 2, "r": {"n": 1, "n": 2, "n": 3}, "l": [{"x": 1, "x": 1}]}"#)
                .expect("valid JSON");
        assert_eq!(value["a"], 2, "serde_json's answer: the last one");
        assert_eq!(repeated, ["a", "r.n", "l.0.x"]);
        let (_, none) = parse(br#"{"a": {"a": 1}, "b": [1, 1]}"#).expect("valid JSON");
        assert!(none.is_empty());
        assert!(parse(b"{\"a\": 1} x").is_err(), "trailing characters");
        assert!(parse(&[b'['; 200]).is_err(), "the recursion limit holds");
    }
}
