//! `pg_hba`: client authentication rules in pg_hba.conf or pool_hba.conf (see
//! collection/plugins/modules/pg_hba.yml).

use crate::file_module::{refuse_line, save_parts};
use ansible_module::file::{equals_joined, FileDefaults};
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::hba::{Address, AuthOption, ConnectionType, Format, HbaFile, Mask, Method, Position, Rule, Token};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::net::IpAddr;

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum FileFormat {
    #[default]
    PgHba,
    PoolHba,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum Insert {
    #[default]
    End,
    Beginning,
    BeforeFirstReject,
}

/// One rule as a task writes it.
#[derive(Deserialize, Clone)]
struct RuleParams {
    #[serde(rename = "type")]
    connection: String,
    #[serde(default = "all")]
    databases: Vec<String>,
    #[serde(default = "all")]
    users: Vec<String>,
    address: Option<String>,
    netmask: Option<String>,
    method: Option<String>,
    options: Option<Value>,
    comment: Option<String>,
    state: Option<State>,
}

fn all() -> Vec<String> {
    vec!["all".into()]
}

/// The module's own parameters (the file's are [`FileParams`]).
#[derive(Deserialize)]
pub struct Params {
    rules: Option<Vec<RuleParams>>,
    // One rule can also be given at the top level, as community.postgresql does.
    #[serde(rename = "type")]
    connection: Option<String>,
    databases: Option<Vec<String>>,
    users: Option<Vec<String>>,
    address: Option<String>,
    netmask: Option<String>,
    method: Option<String>,
    options: Option<Value>,
    comment: Option<String>,
    #[serde(default)]
    state: State,
    #[serde(default)]
    format: FileFormat,
    #[serde(default)]
    insert: Insert,
}

impl Spec for Params {}

const DEFAULTS: FileDefaults = FileDefaults {
    create: false,
    mode: 0o600,
};

impl Params {
    /// The rules asked for: the `rules` list, or the one rule given at the top level.
    fn rules(&self) -> Result<Vec<RuleParams>, Error> {
        let top_level = self.connection.is_some() || self.method.is_some() || self.address.is_some();
        match (&self.rules, top_level) {
            (Some(_), true) => Err(fail!("parameters are mutually exclusive: rules|type")),
            (Some(rules), false) => Ok(rules.clone()),
            (None, false) => Err(fail!("one of the following is required: rules, type")),
            (None, true) => Ok(vec![RuleParams {
                connection: self.connection.clone().ok_or_else(|| fail!("missing required arguments: type"))?,
                databases: self.databases.clone().unwrap_or_else(all),
                users: self.users.clone().unwrap_or_else(all),
                address: self.address.clone(),
                netmask: self.netmask.clone(),
                method: self.method.clone(),
                options: self.options.clone(),
                comment: self.comment.clone(),
                state: None,
            }]),
        }
    }
}

/// Database or user names: a quoted item is a literal name (`"all"` the database, not the
/// keyword) and may hold a comma list.
fn tokens(items: &[String]) -> Result<Vec<Token>, Error> {
    let mut out = Vec::new();
    for item in items {
        if item.starts_with('"') {
            out.extend(Token::parse_list(item).map_err(|e| fail!("{item}: {e}"))?);
        } else {
            out.push(Token::new(item));
        }
    }
    if out.is_empty() {
        return Err(fail!("databases and users must not be empty"));
    }
    Ok(out)
}

fn address(r: &RuleParams, connection: ConnectionType) -> Result<Option<Address>, Error> {
    match (connection.has_address(), &r.address, &r.netmask) {
        (false, None, None) => Ok(None),
        (false, _, _) => Err(fail!("a {connection} rule has no address or netmask")),
        (true, None, _) => Err(fail!("a {connection} rule needs an address")),
        (true, Some(a), None) => Address::parse(a).map(Some).map_err(|e| fail!("address {a}: {e}")),
        (true, Some(a), Some(m)) => {
            let addr: IpAddr = a
                .parse()
                .map_err(|_| fail!("address {a}: an address with a netmask must be a plain IP address"))?;
            let mask: IpAddr = m.parse().map_err(|_| fail!("netmask {m}: not an IP mask"))?;
            Ok(Some(Address::Ip {
                addr,
                mask: Mask::Netmask(mask),
            }))
        }
    }
}

/// Authentication options: a dict, or `name=value` words as pg_hba.conf writes them.
fn options(v: &Option<Value>) -> Result<Vec<AuthOption>, Error> {
    let words: Vec<(String, String)> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), crate::conf_value(k, v)?)))
            .collect::<Result<_, Error>>()?,
        Some(Value::String(s)) => s
            .split_whitespace()
            .map(|w| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
                    .ok_or_else(|| fail!("option {w}: expected name=value"))
            })
            .collect::<Result<_, Error>>()?,
        Some(other) => return Err(fail!("options must be a dict or name=value words, got {other}")),
    };
    Ok(words.iter().map(|(k, v)| AuthOption::new(k, v)).collect())
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::PgHba => "pg_hba.conf",
        Format::PoolHba => "pool_hba.conf",
    }
}

/// The rule a task asks for; `method` is only needed to add or update.
fn rule(r: &RuleParams, format: Format, need_method: bool) -> Result<Rule, Error> {
    let connection = ConnectionType::parse(&r.connection).ok_or_else(|| fail!("invalid connection type \"{}\"", r.connection))?;
    if !connection.allowed_in(format) {
        return Err(fail!(
            "connection type \"{}\" is not supported in {}",
            r.connection,
            format_name(format)
        ));
    }
    let method = match &r.method {
        Some(m) => Method::parse(m).ok_or_else(|| fail!("invalid authentication method \"{m}\""))?,
        None if need_method => return Err(fail!("missing required arguments: method found in rules")),
        // Removal identifies a rule without its method; any method does.
        None => Method::Reject,
    };
    Ok(Rule {
        connection,
        databases: tokens(&r.databases)?,
        users: tokens(&r.users)?,
        address: address(r, connection)?,
        method,
        options: options(&r.options)?,
    })
}

/// A rule as the result shows it.
fn describe(line: usize, r: &Rule) -> Value {
    let (address, netmask) = match &r.address {
        Some(Address::Ip {
            addr,
            mask: Mask::Netmask(m),
        }) => (Value::from(addr.to_string()), Value::from(m.to_string())),
        Some(a) => (Value::from(a.to_string()), Value::Null),
        None => (Value::Null, Value::Null),
    };
    let options: Map<String, Value> = r.options.iter().map(|o| (o.name.clone(), Value::from(o.value.clone()))).collect();
    json!({
        "line": line,
        "type": r.connection.as_str(),
        "databases": r.databases.iter().map(|t| t.value()).collect::<Vec<_>>(),
        "users": r.users.iter().map(|t| t.value()).collect::<Vec<_>>(),
        "address": address,
        "netmask": netmask,
        "method": r.method.as_str(),
        "options": options,
    })
}

/// Runs the module.
pub fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let format = match p.format {
        FileFormat::PgHba => Format::PgHba,
        FileFormat::PoolHba => Format::PoolHba,
    };
    let position = match p.insert {
        Insert::End => Position::End,
        Insert::Beginning => Position::Beginning,
        Insert::BeforeFirstReject => Position::BeforeFirstReject,
    };
    // Every rule is checked before the file is touched.
    let wanted: Vec<(State, Rule, Option<String>)> = p
        .rules()?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let state = r.state.unwrap_or(p.state);
            rule(r, format, state == State::Present)
                .map(|rule| (state, rule, r.comment.clone()))
                .map_err(|e| fail!("rules[{i}]: {}", e.msg))
        })
        .collect::<Result<_, _>>()?;

    let f = ManagedFile::open(&file, DEFAULTS)?;
    // The file's text stays where it was read: the editor keeps where each line is and what it
    // is, and reads a rule again only when it is asked about.
    let mut hba = HbaFile::parse_borrowed(f.content(), format);
    if let Some(issue) = hba.issues().first() {
        return Err(refuse_line(&file.path, issue.line, &issue.error, ""));
    }
    for (i, (state, rule, comment)) in wanted.iter().enumerate() {
        match state {
            State::Present => {
                let _ = hba
                    .upsert_commented(rule, position, comment.as_deref())
                    .map_err(|e| fail!("rules[{i}] ({rule}): {e}"))?;
            }
            State::Absent => {
                let _ = hba.remove(&rule.key());
            }
        }
    }

    // The new text as the unchanged runs of the old one and the lines written: compared and
    // written piece by piece, never put together (but for a diff).
    let pieces: Vec<&str> = hba.pieces().collect();
    let content_changed = !equals_joined(f.content(), &pieces);
    let mut resp = save_parts(m, &f, &pieces)?;
    resp.set("reload_required", content_changed && format == Format::PgHba);
    // The rules asked about as the file has them now (not the whole file: a 10,000-rule file
    // would make a megabyte of output nobody reads).
    let keys: Vec<_> = wanted.iter().map(|(_, r, _)| r.key()).collect();
    resp.set("rules", hba.rules_matching(&keys).map(|(n, r)| describe(n, &r)).collect::<Vec<_>>());
    resp.set(
        "includes",
        crate::describe_includes(hba.includes().iter().map(|(n, inc)| (inc.kind, inc.path.as_str(), *n))),
    );
    resp.msg = Some(if resp.changed { "rules changed" } else { "rules already as asked" }.into());
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{call, file_with};
    use serde_json::json;

    #[test]
    fn options_from_a_dict_or_words() {
        let o = options(&Some(json!({"clientcert": "verify-full", "map": "m"}))).unwrap();
        assert_eq!(
            o.iter().map(|o| (o.name.as_str(), o.value.as_str())).collect::<Vec<_>>(),
            [("clientcert", "verify-full"), ("map", "m")]
        );
        let o = options(&Some(json!("ldapserver=ldap.example.net ldapprefix=\"cn=\""))).unwrap();
        assert_eq!(o[1].value, "cn=");
        assert_eq!(options(&Some(json!("oops"))).unwrap_err().msg, "option oops: expected name=value");
        assert!(options(&Some(json!([1]))).is_err());
    }

    #[test]
    fn rules_are_checked_before_the_file() {
        let (_d, path) = file_with("local all all peer\n");
        let e = call(run, &json!({"path": path, "rules": [{"type": "host", "method": "md5"}]}), false).unwrap_err();
        assert_eq!(e.msg, "rules[0]: a host rule needs an address");
        let e = call(
            run,
            &json!({"path": path, "type": "hostgssenc", "address": "all", "method": "md5", "format": "pool_hba"}),
            false,
        )
        .unwrap_err();
        assert!(e.msg.contains("not supported in pool_hba.conf"), "{}", e.msg);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "local all all peer\n");
    }

    #[test]
    fn adds_reports_and_is_idempotent() {
        let (_d, path) = file_with("include_dir conf.d\nlocal all all peer\n");
        let args = json!({"path": path, "type": "host", "users": ["app"], "address": "10.0.0.0", "netmask": "255.0.0.0", "method": "scram-sha-256"});
        let r = call(run, &args, false).unwrap();
        assert!(r.changed && r.extra["reload_required"] == true);
        assert_eq!(r.extra["includes"], json!(["include_dir 'conf.d' (line 1)"]));
        assert_eq!(r.extra["rules"][0]["netmask"], "255.0.0.0");
        let r = call(run, &args, false).unwrap();
        assert!(!r.changed && r.extra["reload_required"] == false);
        assert_eq!(r.msg.as_deref(), Some("rules already as asked"));
    }

    #[test]
    fn diff_and_backup_show_and_keep_the_whole_file() {
        let text = "# head\nlocal all all peer\r\nhost all all 10.0.0.0/8 md5\n# tail";
        let (_d, path) = file_with(text);
        let args = json!({"path": path, "backup": true, "rules": [
            {"type": "host", "address": "10.0.0.0/8", "method": "scram-sha-256"},
            {"type": "local", "users": ["app"], "method": "peer"},
        ]});
        let r = call(run, &args, true).unwrap();
        let after = "# head\nlocal all all peer\r\nhost all all 10.0.0.0/8 scram-sha-256\n# tail\nlocal all app peer";
        assert!(r.changed);
        assert_eq!((r.diffs[0].before.as_str(), r.diffs[0].after.as_str()), (text, after));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
        let backup = r.extra["backup_file"].as_str().unwrap().to_string();
        assert_eq!(std::fs::read_to_string(backup).unwrap(), text);
        assert_eq!(r.extra["rules"].as_array().map(Vec::len), Some(2));
        let r = call(run, &args, true).unwrap();
        assert!(!r.changed && r.diffs.is_empty() && !r.extra.contains_key("backup_file"));
    }

    #[test]
    fn a_bad_line_is_refused_with_its_number() {
        let (_d, path) = file_with("local all all peer\nhost all all\n");
        let e = call(run, &json!({"path": path, "type": "local", "method": "trust"}), false).unwrap_err();
        assert!(
            e.msg.contains(": line 2: ") && e.msg.ends_with("(fix or remove that line first; the file was not changed)"),
            "{}",
            e.msg
        );
    }
}
