//! `no_log`: secret values never leave the module, whatever field they end up in.

use serde_json::{Map, Value};

/// What Ansible prints in place of a secret value.
pub const MASK: &str = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER";

/// Collects the values of every key named in `names`, at any depth of `args`.
pub fn collect_secrets(args: &Value, names: &[&str], out: &mut Vec<String>) {
    match args {
        Value::Object(map) => {
            for (k, v) in map {
                if names.contains(&k.as_str()) {
                    push_scalars(v, out);
                } else {
                    collect_secrets(v, names, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, names, out)),
        _ => {}
    }
}

fn push_scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if !s.is_empty() => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(items) => items.iter().for_each(|i| push_scalars(i, out)),
        Value::Object(m) => m.values().for_each(|i| push_scalars(i, out)),
        _ => {}
    }
}

/// Replaces secrets in `value` as Ansible's `remove_values` does: a string equal to a secret
/// becomes [`MASK`], a secret inside a longer string becomes `********`, and keys named as
/// secret parameters have their values masked.
pub fn scrub(value: &mut Value, secrets: &[String], names: &[&str]) {
    match value {
        Value::String(s) => {
            if secrets.iter().any(|x| x == s) {
                *s = MASK.to_string();
            } else {
                for x in secrets {
                    if s.contains(x.as_str()) {
                        *s = s.replace(x.as_str(), "********");
                    }
                }
            }
        }
        Value::Number(n) if secrets.iter().any(|x| *x == n.to_string()) => {
            *value = Value::String(MASK.to_string());
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, secrets, names)),
        Value::Object(map) => scrub_map(map, secrets, names),
        _ => {}
    }
}

fn scrub_map(map: &mut Map<String, Value>, secrets: &[String], names: &[&str]) {
    for (k, v) in map.iter_mut() {
        if names.contains(&k.as_str()) && !v.is_null() && !v.is_boolean() {
            *v = Value::String(MASK.to_string());
        } else {
            scrub(v, secrets, names);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_everywhere() {
        let args = json!({"password": "s3cret!", "entries": [{"user": "u", "password": "other pw"}]});
        let mut secrets = Vec::new();
        collect_secrets(&args, &["password"], &mut secrets);
        assert_eq!(secrets, ["s3cret!", "other pw"]);
        let mut out = json!({
            "msg": "login failed with s3cret!",
            "diff": {"after": "*:*:*:u:other pw\n"},
            "invocation": {"module_args": args},
            "raw": "s3cret!"
        });
        scrub(&mut out, &secrets, &["password"]);
        let text = out.to_string();
        assert!(!text.contains("s3cret!") && !text.contains("other pw"), "{text}");
        assert_eq!(out["raw"], MASK);
        assert_eq!(out["msg"], "login failed with ********");
        assert_eq!(out["invocation"]["module_args"]["entries"][0]["password"], MASK);
    }
}
