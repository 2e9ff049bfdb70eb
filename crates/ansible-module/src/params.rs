//! Typed module parameters: which names a module accepts, which are secrets, and the
//! checks Ansible's argument spec does before a module runs.

use crate::de::{from_value, ParamError};
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::{Map, Value};

/// A parameter struct of a module: a serde `Deserialize` type plus what serde cannot say.
///
/// Field names come from the struct itself, so the names, the parsing and the
/// unknown-parameter check cannot drift apart.
pub trait Spec: DeserializeOwned {
    /// Parameters whose values are secrets, at any depth (`password` also matches
    /// `entries[].password`). Their values are scrubbed from everything the module prints.
    const NO_LOG: &'static [&'static str] = &[];
    /// `(alias, canonical name)` pairs.
    const ALIASES: &'static [(&'static str, &'static str)] = &[];
}

/// Ansible's `state: present | absent`, the same in every module that takes it.
#[derive(Debug, serde::Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The thing should exist (the default).
    #[default]
    Present,
    /// The thing should not exist.
    Absent,
}

/// The description of one accepted parameter, for messages and the docs check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParamInfo {
    /// Canonical name.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: Vec<&'static str>,
    /// Whether its value is a secret.
    pub no_log: bool,
}

/// What a module's `run` receives: one `Spec` type or a tuple of them (own parameters plus
/// shared groups such as file attributes or login parameters).
pub trait Params: Sized {
    /// Every accepted top-level parameter.
    fn describe(out: &mut Vec<ParamInfo>);
    /// Names whose values are secrets.
    fn no_log(out: &mut Vec<&'static str>);
    /// Reads the parameters from the user's arguments (aliases already resolved).
    fn parse(args: &Value) -> Result<Self, ParamError>;
}

impl<T: Spec> Params for T {
    fn describe(out: &mut Vec<ParamInfo>) {
        for &name in struct_fields::<T>() {
            if out.iter().any(|p| p.name == name) {
                continue;
            }
            out.push(ParamInfo {
                name,
                aliases: T::ALIASES.iter().filter(|(_, c)| *c == name).map(|(a, _)| *a).collect(),
                no_log: T::NO_LOG.contains(&name),
            });
        }
    }
    fn no_log(out: &mut Vec<&'static str>) {
        out.extend_from_slice(T::NO_LOG);
    }
    fn parse(args: &Value) -> Result<Self, ParamError> {
        from_value(args)
    }
}

macro_rules! tuple_params {
    ($($t:ident),+) => {
        impl<$($t: Params),+> Params for ($($t,)+) {
            fn describe(out: &mut Vec<ParamInfo>) {
                $($t::describe(out);)+
            }
            fn no_log(out: &mut Vec<&'static str>) {
                $($t::no_log(out);)+
            }
            fn parse(args: &Value) -> Result<Self, ParamError> {
                Ok(($($t::parse(args)?,)+))
            }
        }
    };
}
tuple_params!(A, B);
tuple_params!(A, B, C);

/// The field names serde's derive hands to `deserialize_struct`.
pub fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct ProbeErr;
    impl std::fmt::Display for ProbeErr {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("probe")
        }
    }
    impl std::error::Error for ProbeErr {}
    impl de::Error for ProbeErr {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            ProbeErr
        }
    }
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = ProbeErr;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeErr> {
            Err(ProbeErr)
        }
        fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], _: V) -> Result<V::Value, ProbeErr> {
            self.0 = Some(fields);
            Err(ProbeErr)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// Splits the args file into the user's parameters and Ansible's `_ansible_*` keys, resolves
/// aliases, and rejects unknown parameters with Ansible's wording.
pub fn check_names(module: &str, user: &mut Map<String, Value>, spec: &[ParamInfo]) -> Result<(), String> {
    let mut errors = Vec::new();
    let keys: Vec<String> = user.keys().cloned().collect();
    for key in keys {
        if spec.iter().any(|p| p.name == key) {
            continue;
        }
        if let Some(p) = spec.iter().find(|p| p.aliases.contains(&key.as_str())) {
            if user.contains_key(p.name) {
                errors.push(format!("parameters are mutually exclusive: {}|{}", p.name, key));
                continue;
            }
            if let Some(v) = user.remove(&key) {
                user.insert(p.name.to_string(), v);
            }
            continue;
        }
        errors.push(key);
    }
    let (excl, unknown): (Vec<String>, Vec<String>) = errors.into_iter().partition(|e| e.starts_with("parameters are mutually exclusive"));
    if let Some(e) = excl.into_iter().next() {
        return Err(e);
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let mut supported: Vec<String> = spec
        .iter()
        .map(|p| {
            if p.aliases.is_empty() {
                p.name.to_string()
            } else {
                format!("{} ({})", p.name, p.aliases.join(", "))
            }
        })
        .collect();
    supported.sort();
    let mut unknown = unknown;
    unknown.sort();
    Err(format!(
        "Unsupported parameters for ({module}) module: {}. Supported parameters include: {}.",
        unknown.join(", "),
        supported.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Own {
        path: String,
        password: Option<String>,
    }
    impl Spec for Own {
        const NO_LOG: &'static [&'static str] = &["password"];
        const ALIASES: &'static [(&'static str, &'static str)] = &[("dest", "path")];
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Shared {
        #[serde(default)]
        backup: bool,
    }
    impl Spec for Shared {}

    fn spec() -> Vec<ParamInfo> {
        let mut out = Vec::new();
        <(Own, Shared)>::describe(&mut out);
        out
    }

    #[test]
    fn fields_come_from_the_struct() {
        let names: Vec<_> = spec().iter().map(|p| p.name).collect();
        assert_eq!(names, ["path", "password", "backup"]);
        assert!(spec()[1].no_log);
    }

    #[test]
    fn unknown_parameters_use_ansibles_words() {
        let mut user = json!({"path": "/x", "foo": 1, "bar": 2}).as_object().cloned().unwrap();
        let err = check_names("pg_hba", &mut user, &spec()).unwrap_err();
        assert_eq!(
            err,
            "Unsupported parameters for (pg_hba) module: bar, foo. Supported parameters include: backup, password, path (dest)."
        );
    }

    #[test]
    fn aliases_are_resolved() {
        let mut user = json!({"dest": "/x"}).as_object().cloned().unwrap();
        check_names("m", &mut user, &spec()).unwrap();
        let (own, shared) = <(Own, Shared)>::parse(&Value::Object(user)).unwrap();
        assert_eq!(own.path, "/x");
        assert!(!shared.backup);
        let mut both = json!({"dest": "/x", "path": "/y"}).as_object().cloned().unwrap();
        assert!(check_names("m", &mut both, &spec()).unwrap_err().contains("mutually exclusive"));
    }
}
