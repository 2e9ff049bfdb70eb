//! pool_passwd: a user's password in Pgpool-II's pool_passwd (md5, AES or text), or a PCP
//! user's md5 hash in pcp.conf.

use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgauth::pgpool::{self, PoolKey};
use pgconf::pcp::PcpConf;
use pgconf::pool_passwd::{mask_secrets, PoolPasswd, SecretKind};
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

#[derive(Deserialize)]
struct Params {
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
        key.as_ref().map_err(|e| fail!("{e}"))
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

fn pool_passwd(m: &mut Module, f: &ManagedFile, p: &Params, path: &str) -> Result<Response, Error> {
    let mut file = PoolPasswd::parse(f.content());
    if let Some(issue) = file.issues().first() {
        return Err(fail!(
            "{path}: line {}: {} (fix or remove that line first; the file was not changed)",
            issue.line,
            issue.error
        ));
    }
    let encryption = p.encryption.unwrap_or(Encryption::Aes);
    let key_path = match &p.key_file {
        Some(k) => k.clone(),
        None => home_of(&p.pgpool_user)?.join(".pgpoolkey"),
    };
    let mut keys = KeySource { path: key_path, key: None };
    match p.state {
        State::Present => {
            let password = required_password(p)?;
            let wanted_kind = match encryption {
                Encryption::Md5 => SecretKind::Md5,
                Encryption::Aes => SecretKind::Aes,
                Encryption::Text => SecretKind::Text,
            };
            let current = file.get(&p.username).map(|e| e.secret.clone());
            let same = match &current {
                Some(stored) if SecretKind::of(stored) == wanted_kind => {
                    let key = if wanted_kind == SecretKind::Aes { Some(keys.get()?) } else { None };
                    // A stored AES secret the key cannot decrypt is replaced.
                    pgpool::secret_matches(stored, &p.username, password, key).unwrap_or(false)
                }
                _ => false,
            };
            if !same {
                let secret = match encryption {
                    Encryption::Md5 => pgauth::md5::password_hash(password, &p.username),
                    Encryption::Aes => pgpool::aes_secret(password, keys.get()?).map_err(|e| fail!("cannot encrypt the password: {e}"))?,
                    Encryption::Text => format!("{}{password}", pgpool::TEXT_PREFIX),
                };
                let _ = file
                    .upsert(&p.username, &secret)
                    .map_err(|e| fail!("username {}: {e}", p.username))?;
            }
        }
        State::Absent => {
            let _ = file.remove(&p.username);
        }
    }
    let mut resp = Response::new(false);
    resp.changed = f.save_masked(m, &file.to_string(), &mut resp, mask_secrets)?;
    resp.set(
        "users",
        file.entries()
            .map(|(n, e)| json!({"line": n, "username": e.user, "encryption": kind_name(e.kind())}))
            .collect::<Vec<Value>>(),
    );
    Ok(resp)
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

fn pcp(m: &mut Module, f: &ManagedFile, p: &Params, path: &str) -> Result<Response, Error> {
    if p.encryption.is_some_and(|e| e != Encryption::Md5) {
        return Err(fail!(
            "pcp.conf holds md5 hashes only: encryption must be md5 (or omitted) with format: pcp"
        ));
    }
    let mut file = PcpConf::parse(f.content());
    if let Some(issue) = file.issues().first() {
        return Err(fail!(
            "{path}: line {}: {} (fix or remove that line first; the file was not changed)",
            issue.line,
            issue.error
        ));
    }
    match p.state {
        State::Present => {
            let password = required_password(p)?;
            let _ = file
                .upsert(&p.username, &pgauth::md5::pcp_hash(password))
                .map_err(|e| fail!("username {}: {e}", p.username))?;
        }
        State::Absent => {
            let _ = file.remove(&p.username);
        }
    }
    let mut resp = Response::new(false);
    resp.changed = f.save_masked(m, &file.to_string(), &mut resp, mask_secrets)?;
    resp.set(
        "users",
        file.entries()
            .map(|(n, e)| json!({"line": n, "username": e.user, "encryption": "md5"}))
            .collect::<Vec<Value>>(),
    );
    Ok(resp)
}

fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    if p.username.is_empty() {
        return Err(fail!("username must not be empty"));
    }
    let f = ManagedFile::open(&file, FileDefaults { create: true, mode: 0o600 })?;
    let path = file.path.display().to_string();
    let mut resp = match p.format {
        FileFormat::PoolPasswd => pool_passwd(m, &f, &p, &path)?,
        FileFormat::Pcp => pcp(m, &f, &p, &path)?,
    };
    resp.msg = Some(match (resp.changed, p.state) {
        (true, State::Present) => format!("password of {} set", p.username),
        (true, State::Absent) => format!("{} removed", p.username),
        (false, _) => format!("{} already as asked", p.username),
    });
    Ok(resp)
}

fn main() {
    ansible_module::main("pool_passwd", run)
}
