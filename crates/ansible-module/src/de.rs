//! A lenient serde deserializer over the JSON of an Ansible args file.
//!
//! Ansible hands binary modules whatever the task said: `-a 'port=5432 create=yes'` arrives as
//! strings. Ansible's own argument spec converts such values for Python modules; this
//! deserializer does the same conversions for ours, so module structs hold plain Rust types.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Why the parameters could not be read, worded the way Ansible words it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    path: Vec<String>,
    kind: ParamErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
enum ParamErrorKind {
    Missing(String),
    Convert {
        got: &'static str,
        want: &'static str,
        detail: String,
    },
    Choice {
        got: String,
        choices: Vec<String>,
    },
    Other(String),
}

impl ParamError {
    fn new(kind: ParamErrorKind) -> Self {
        ParamError { path: Vec::new(), kind }
    }

    fn convert(got: &Value, want: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ParamErrorKind::Convert {
            got: type_name(got),
            want,
            detail: detail.into(),
        })
    }

    fn within(mut self, segment: String) -> Self {
        self.path.insert(0, segment);
        self
    }

    /// The argument the error is about (`rules[0].method`), empty at the top level.
    pub fn argument(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if seg.starts_with('[') || out.is_empty() {
                out.push_str(seg);
            } else {
                out.push('.');
                out.push_str(seg);
            }
        }
        out
    }

    fn found_in(&self) -> String {
        // Ansible names the enclosing parameter of a suboption: "... found in rules".
        match self.path.len() {
            0 | 1 => String::new(),
            _ => {
                let parent = ParamError {
                    path: self.path[..self.path.len() - 1].to_vec(),
                    kind: ParamErrorKind::Other(String::new()),
                };
                format!(" found in {}", parent.argument())
            }
        }
    }

    fn leaf(&self) -> String {
        self.path.iter().rev().find(|s| !s.starts_with('[')).cloned().unwrap_or_default()
    }
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ParamErrorKind::Missing(name) => {
                let mut p = self.path.clone();
                p.push(name.clone());
                let at = ParamError {
                    path: p,
                    kind: ParamErrorKind::Other(String::new()),
                };
                write!(f, "missing required arguments: {}{}", name, at.found_in())
            }
            ParamErrorKind::Convert { got, want, detail } => {
                write!(
                    f,
                    "argument '{}' is of type {} and we were unable to convert to {}",
                    self.argument(),
                    got,
                    want
                )?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            ParamErrorKind::Choice { got, choices } => {
                write!(
                    f,
                    "value of {} must be one of: {}, got: {}{}",
                    self.leaf(),
                    choices.join(", "),
                    got,
                    self.found_in()
                )
            }
            ParamErrorKind::Other(msg) if self.path.is_empty() => f.write_str(msg),
            ParamErrorKind::Other(msg) => write!(f, "argument '{}': {}", self.argument(), msg),
        }
    }
}

impl std::error::Error for ParamError {}

impl de::Error for ParamError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(ParamErrorKind::Other(msg.to_string()))
    }
    fn missing_field(field: &'static str) -> Self {
        Self::new(ParamErrorKind::Missing(field.to_string()))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(ParamErrorKind::Choice {
            got: variant.to_string(),
            choices: expected.iter().map(|s| s.to_string()).collect(),
        })
    }
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Self::new(ParamErrorKind::Other(format!("invalid type: {unexp}, expected {exp}")))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Ansible's boolean spellings (`module_utils.parsing.convert_bool`).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "1" | "true" | "t" | "y" | "1.0" => Some(true),
        "no" | "off" | "0" | "false" | "f" | "n" | "0.0" | "" => Some(false),
        _ => None,
    }
}

/// Deserializes a value with Ansible's conversions.
pub struct Lenient<'a>(pub &'a Value);

/// Reads `T` from `value` with Ansible's conversions.
pub fn from_value<T: de::DeserializeOwned>(value: &Value) -> Result<T, ParamError> {
    T::deserialize(Lenient(value))
}

macro_rules! int_method {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
            let n: Option<$ty> = match self.0 {
                Value::Number(n) => n.to_string().parse().ok().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0)
                        .and_then(|f| format!("{f:.0}").parse().ok())
                }),
                Value::String(s) => s.trim().parse().ok(),
                Value::Bool(_) => None,
                _ => None,
            };
            match n {
                Some(n) => visitor.$visit(n),
                None => Err(ParamError::convert(
                    self.0,
                    "int",
                    format!("{} is not a valid integer", short(self.0)),
                )),
            }
        }
    };
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

impl<'a, 'de> de::Deserializer<'de> for Lenient<'a> {
    type Error = ParamError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_str(s),
            Value::Array(_) => self.deserialize_seq(visitor),
            Value::Object(_) => self.deserialize_map(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        let b = match self.0 {
            Value::Bool(b) => Some(*b),
            Value::String(s) => parse_bool(s),
            Value::Number(n) => n.as_f64().and_then(|f| (f == 1.0 || f == 0.0).then_some(f == 1.0)),
            _ => None,
        };
        match b {
            Some(b) => visitor.visit_bool(b),
            None => Err(ParamError::convert(
                self.0,
                "bool",
                format!("{} is not a valid boolean", short(self.0)),
            )),
        }
    }

    int_method!(deserialize_i8, visit_i8, i8);
    int_method!(deserialize_i16, visit_i16, i16);
    int_method!(deserialize_i32, visit_i32, i32);
    int_method!(deserialize_i64, visit_i64, i64);
    int_method!(deserialize_u8, visit_u8, u8);
    int_method!(deserialize_u16, visit_u16, u16);
    int_method!(deserialize_u32, visit_u32, u32);
    int_method!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        let f = match self.0 {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        match f {
            Some(f) => visitor.visit_f64(f),
            None => Err(ParamError::convert(
                self.0,
                "float",
                format!("{} is not a valid float", short(self.0)),
            )),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            Value::String(s) => visitor.visit_str(s),
            // Ansible's type=str turns scalars into their text.
            Value::Number(n) => visitor.visit_string(n.to_string()),
            Value::Bool(b) => visitor.visit_string(b.to_string()),
            other => Err(ParamError::convert(other, "str", "")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, ParamError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, ParamError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.iter(),
                index: 0,
            }),
            Value::Null => visitor.visit_seq(Seq {
                items: [].iter(),
                index: 0,
            }),
            // Ansible's type=list splits a string on commas and wraps other scalars.
            Value::String(s) => {
                let parts: Vec<Value> = if s.trim().is_empty() {
                    Vec::new()
                } else {
                    s.split(',').map(|p| Value::String(p.trim().to_string())).collect()
                };
                visitor.visit_seq(Seq {
                    items: parts.iter(),
                    index: 0,
                })
            }
            Value::Object(_) => Err(ParamError::convert(self.0, "list", "")),
            scalar => visitor.visit_seq(Seq {
                items: std::slice::from_ref(scalar).iter(),
                index: 0,
            }),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _name: &'static str, _len: usize, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(MapAccess {
                iter: map.iter(),
                value: None,
                key: None,
            }),
            Value::Null => visitor.visit_map(MapAccess {
                iter: EMPTY.iter(),
                value: None,
                key: None,
            }),
            // Ansible's type=dict also takes a JSON string.
            Value::String(s) if s.trim_start().starts_with('{') => match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => Lenient(&v).deserialize_map(visitor),
                _ => Err(ParamError::convert(self.0, "dict", "not a JSON object")),
            },
            other => Err(ParamError::convert(other, "dict", "")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ParamError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ParamError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Bool(b) => visitor.visit_enum(b.to_string().into_deserializer()),
            Value::Number(n) => visitor.visit_enum(n.to_string().into_deserializer()),
            other => Err(ParamError::convert(other, "str", "")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ParamError> {
        visitor.visit_unit()
    }
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

struct Seq<'a> {
    items: std::slice::Iter<'a, Value>,
    index: usize,
}

impl<'a, 'de> de::SeqAccess<'de> for Seq<'a> {
    type Error = ParamError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, ParamError> {
        match self.items.next() {
            None => Ok(None),
            Some(v) => {
                let i = self.index;
                self.index += 1;
                seed.deserialize(Lenient(v)).map(Some).map_err(|e| e.within(format!("[{i}]")))
            }
        }
    }
}

struct MapAccess<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
    key: Option<&'a String>,
}

impl<'a, 'de> de::MapAccess<'de> for MapAccess<'a> {
    type Error = ParamError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, ParamError> {
        match self.iter.next() {
            None => Ok(None),
            Some((k, v)) => {
                self.value = Some(v);
                self.key = Some(k);
                seed.deserialize(de::value::StrDeserializer::<ParamError>::new(k)).map(Some)
            }
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ParamError> {
        let v = self
            .value
            .take()
            .ok_or_else(|| <ParamError as de::Error>::custom("value requested before key"))?;
        let key = self.key.map(|k| k.to_string()).unwrap_or_default();
        seed.deserialize(Lenient(v)).map_err(|e| e.within(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum State {
        Present,
        Absent,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Rule {
        method: String,
        #[serde(default)]
        users: Vec<String>,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct P {
        path: String,
        #[serde(default)]
        create: bool,
        port: Option<u16>,
        #[serde(default = "present")]
        state: State,
        #[serde(default)]
        rules: Vec<Rule>,
    }

    fn present() -> State {
        State::Present
    }

    #[test]
    fn converts_strings_like_ansible() {
        let v = json!({"path": "/x", "create": "yes", "port": "5432", "rules": [{"method": "md5", "users": "a, b"}]});
        let p: P = from_value(&v).unwrap();
        assert!(p.create);
        assert_eq!(p.port, Some(5432));
        assert_eq!(p.state, State::Present);
        assert_eq!(p.rules[0].users, vec!["a", "b"]);
    }

    #[test]
    fn missing_required_names_the_argument() {
        let e = from_value::<P>(&json!({"create": true})).unwrap_err();
        assert_eq!(e.to_string(), "missing required arguments: path");
        let e = from_value::<P>(&json!({"path": "/x", "rules": [{"users": "a"}]})).unwrap_err();
        assert_eq!(e.to_string(), "missing required arguments: method found in rules[0]");
    }

    #[test]
    fn bad_choice_lists_choices() {
        let e = from_value::<P>(&json!({"path": "/x", "state": "gone"})).unwrap_err();
        assert_eq!(e.to_string(), "value of state must be one of: present, absent, got: gone");
    }

    #[test]
    fn bad_types_name_argument_and_types() {
        let e = from_value::<P>(&json!({"path": "/x", "port": "high"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argument 'port' is of type str and we were unable to convert to int: 'high' is not a valid integer"
        );
        let e = from_value::<P>(&json!({"path": "/x", "create": "maybe"})).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("argument 'create' is of type str and we were unable to convert to bool"));
        let e = from_value::<P>(&json!({"path": "/x", "port": 70000})).unwrap_err();
        assert!(e.to_string().contains("'port'"), "{e}");
        let e = from_value::<P>(&json!({"path": ["a"]})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "argument 'path' is of type list and we were unable to convert to str"
        );
    }

    #[test]
    fn scalars_become_one_element_lists() {
        #[derive(Deserialize)]
        struct L {
            v: Vec<String>,
        }
        assert_eq!(from_value::<L>(&json!({"v": 5})).unwrap().v, ["5"]);
        assert_eq!(from_value::<L>(&json!({"v": ""})).unwrap().v, Vec::<String>::new());
    }

    #[test]
    fn scalars_become_strings() {
        #[derive(Deserialize)]
        struct S {
            v: String,
        }
        assert_eq!(from_value::<S>(&json!({"v": 10})).unwrap().v, "10");
        assert_eq!(from_value::<S>(&json!({"v": true})).unwrap().v, "true");
    }
}
