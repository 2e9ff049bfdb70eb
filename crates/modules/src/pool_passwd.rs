//! `pool_passwd`: a user's password in Pgpool-II's pool_passwd (md5, AES or text), or a PCP
//! user's md5 hash in pcp.conf (see collection/plugins/modules/pool_passwd.yml).

use crate::file_module::{refuse_line, save};
use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgauth::pgpool::{self, PoolKey};
use pgconf::line_store::{Entry, LineStore};
use pgconf::pcp::PcpConf;
use pgconf::pool_passwd::{mask_secrets, Change, PoolPasswd, SecretKind};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FileFormat {
    #[default]
    PoolPasswd,
    Pcp,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum Encryption {
    Md5,
    Aes,
    Text,
}

/// The module's own parameters (the file's are [`FileParams`]).
#[derive(Deserialize)]
pub struct Params {
    username: String,
    password: Option<String>,
    encryption: Option<Encryption>,
    key_file: Option<PathBuf>,
    #[serde(default = "postgres")]
    pgpool_user: String,
    #[serde(default)]
    format: FileFormat,
    #[serde(default)]
    state: State,
}

const DEFAULTS: FileDefaults = FileDefaults { create: true, mode: 0o600 };

fn postgres() -> String {
    "postgres".into()
}

impl Spec for Params {
    const NO_LOG: &'static [&'static str] = &["password"];
    const ALIASES: &'static [(&'static str, &'static str)] = &[("user", "username")];
}

/// The home directory of `user`, from /etc/passwd.
fn home_of(user: &str) -> Result<PathBuf, Error> {
    pghost::accounts::user_by_name(user)
        .map(|a| a.home)
        .ok_or_else(|| fail!("pgpool_user '{user}' is not a user on this host (needed to find ~/.pgpoolkey; or give key_file)"))
}

struct KeySource {
    path: PathBuf,
    key: Option<Result<PoolKey, String>>,
}

impl KeySource {
    fn get(&mut self) -> Result<&PoolKey, Error> {
        let path = self.path.clone();
        let key = self.key.get_or_insert_with(|| load_key(&path));
        key.as_ref().map_err(Error::from)
    }
}

fn load_key(path: &Path) -> Result<PoolKey, String> {
    let bytes = ansible_module::file::read_regular(path).map_err(|e| {
        format!(
            "cannot read the Pgpool-II key file: {e} (AES entries need the key pgpool uses: set key_file or create it with the pool key)"
        )
    })?;
    PoolKey::from_key_file(&bytes).map_err(|e| format!("the key file {}: {e}", path.display()))
}

fn kind_name(k: SecretKind) -> &'static str {
    match k {
        SecretKind::Md5 => "md5",
        SecretKind::Aes => "aes",
        SecretKind::Scram => "scram",
        SecretKind::Text => "text",
        SecretKind::Plain => "plain",
    }
}

fn pool_passwd(m: &mut Module, f: &ManagedFile, p: &Params) -> Result<Response, Error> {
    let file = readable(f, PoolPasswd::parse(f.content()))?;
    let encryption = p.encryption.unwrap_or(Encryption::Aes);
    let key_path = match &p.key_file {
        Some(k) => k.clone(),
        None => home_of(&p.pgpool_user)?.join(".pgpoolkey"),
    };
    let mut keys = KeySource { path: key_path, key: None };
    let set = |file: &mut PoolPasswd, password: &str| {
        let wanted_kind = match encryption {
            Encryption::Md5 => SecretKind::Md5,
            Encryption::Aes => SecretKind::Aes,
            Encryption::Text => SecretKind::Text,
        };
        let same = match file.get(&p.username) {
            Some(stored) if stored.kind() == wanted_kind => {
                let key = if wanted_kind == SecretKind::Aes { Some(keys.get()?) } else { None };
                // A stored AES secret the key cannot decrypt is replaced.
                pgpool::secret_matches(&stored.secret, &p.username, password, key).unwrap_or(false)
            }
            _ => false,
        };
        if same {
            return Ok(Change::Unchanged);
        }
        let secret = match encryption {
            Encryption::Md5 => pgauth::md5::password_hash(password, &p.username),
            Encryption::Aes => pgpool::aes_secret(password, keys.get()?).map_err(|e| fail!("cannot encrypt the password: {e}"))?,
            Encryption::Text => format!("{}{password}", pgpool::TEXT_PREFIX),
        };
        file.upsert(&p.username, &secret).map_err(|e| fail!("username {}: {e}", p.username))
    };
    apply(m, f, p, file, set, |e| kind_name(e.kind()))
}

/// The password a present entry needs: given, not empty, on one line.
fn required_password(p: &Params) -> Result<&str, Error> {
    let password = p.password.as_deref().ok_or_else(|| fail!("missing required arguments: password"))?;
    if password.is_empty() {
        return Err(fail!("password must not be empty"));
    }
    if password.contains(['\n', '\r']) {
        return Err(fail!("password must not hold a line break"));
    }
    Ok(password)
}

fn pcp(m: &mut Module, f: &ManagedFile, p: &Params) -> Result<Response, Error> {
    if p.encryption.is_some_and(|e| e != Encryption::Md5) {
        return Err(fail!(
            "pcp.conf holds md5 hashes only: encryption must be md5 (or omitted) with format: pcp"
        ));
    }
    let file = readable(f, PcpConf::parse(f.content()))?;
    let set = |file: &mut PcpConf, password: &str| {
        file.upsert(&p.username, &pgauth::md5::pcp_hash(password))
            .map_err(|e| fail!("username {}: {e}", p.username))
    };
    apply(m, f, p, file, set, |_| "md5")
}

/// `file` if every line of it is usable; else the first line that is not, refused.
fn readable<E: Entry>(f: &ManagedFile, file: LineStore<E>) -> Result<LineStore<E>, Error>
where
    E::Error: std::fmt::Display,
{
    match file.issues().first() {
        Some(issue) => Err(refuse_line(&f.path, issue.line, &issue.error, "")),
        None => Ok(file),
    }
}

/// The part both files share: the user set (by `set`, given the password) or removed, the file
/// saved with its secrets masked in the diff, and its users listed with `encryption` of each.
fn apply<E: Entry<Key = str>>(
    m: &mut Module,
    f: &ManagedFile,
    p: &Params,
    mut file: LineStore<E>,
    set: impl FnOnce(&mut LineStore<E>, &str) -> Result<Change, Error>,
    encryption: impl Fn(&E) -> &'static str,
) -> Result<Response, Error> {
    let _ = match p.state {
        State::Present => set(&mut file, required_password(p)?)?,
        State::Absent => file.remove(&p.username),
    };
    let mut resp = save(m, f, &file.to_string(), mask_secrets)?;
    resp.set(
        "users",
        file.entries()
            .map(|(n, e)| json!({"line": n, "username": e.key(), "encryption": encryption(e)}))
            .collect::<Vec<Value>>(),
    );
    Ok(resp)
}

/// Runs the module.
pub fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    if p.username.is_empty() {
        return Err(fail!("username must not be empty"));
    }
    let f = ManagedFile::open(&file, DEFAULTS)?;
    let mut resp = match p.format {
        FileFormat::PoolPasswd => pool_passwd(m, &f, &p)?,
        FileFormat::Pcp => pcp(m, &f, &p)?,
    };
    resp.msg = Some(match (resp.changed, p.state) {
        (true, State::Present) => format!("password of {} set", p.username),
        (true, State::Absent) => format!("{} removed", p.username),
        (false, _) => format!("{} already as asked", p.username),
    });
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{call, file_with};
    use serde_json::json;

    #[test]
    fn md5_entry_set_idempotent_and_removed() {
        let (_d, path) = file_with("");
        let args = json!({"path": path, "username": "u1", "password": "pw", "encryption": "md5"});
        let r = call(run, &args, true).unwrap();
        assert!(r.changed);
        assert_eq!(r.msg.as_deref(), Some("password of u1 set"));
        assert_eq!(r.extra["users"], json!([{"line": 1, "username": "u1", "encryption": "md5"}]));
        assert!(!r.diffs[0].after.contains("md5"), "{}", r.diffs[0].after);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("u1:{}\n", pgauth::md5::password_hash("pw", "u1")));
        assert!(!call(run, &args, false).unwrap().changed);
        let r = call(run, &json!({"path": path, "username": "u1", "state": "absent"}), false).unwrap();
        assert_eq!(r.msg.as_deref(), Some("u1 removed"));
    }

    #[test]
    fn pcp_takes_md5_only_and_refuses_bad_lines() {
        let (_d, path) = file_with("");
        let e = call(
            run,
            &json!({"path": path, "username": "u", "password": "p", "format": "pcp", "encryption": "aes"}),
            false,
        )
        .unwrap_err();
        assert!(e.msg.starts_with("pcp.conf holds md5 hashes only"), "{}", e.msg);
        let (_d2, bad) = file_with("nocolon\n");
        let e = call(run, &json!({"path": bad, "username": "u", "password": "p", "format": "pcp"}), false).unwrap_err();
        assert!(
            e.msg.contains(": line 1: ") && e.msg.ends_with("the file was not changed)"),
            "{}",
            e.msg
        );
    }

    #[test]
    fn passwords_must_be_one_line() {
        let (_d, path) = file_with("");
        let e = call(
            run,
            &json!({"path": path, "username": "u", "password": "a\nb", "encryption": "md5"}),
            false,
        )
        .unwrap_err();
        assert_eq!(e.msg, "password must not hold a line break");
        let e = call(run, &json!({"path": path, "username": "", "password": "p"}), false).unwrap_err();
        assert_eq!(e.msg, "username must not be empty");
    }
}
