//! Ansible's module protocol for binary modules.
//!
//! Ansible runs a binary module as `<binary> <args-file>`; the file holds one JSON object of
//! the task's parameters plus `_ansible_*` keys. The collection's action plugin runs the
//! multi-call binary as `pgha <module> -` instead, with that JSON object on standard input (no
//! args file on the target): [`run_with`] takes `-` for standard input. A module prints exactly one JSON object. This
//! crate does everything around the module's own logic: typed parameters with Ansible's
//! conversions and wording, check and diff mode, `no_log` scrubbing, a panic hook that still
//! prints JSON, and atomic file writes with backups, modes and owners.
//!
//! ```no_run
//! use ansible_module::{Module, Response, Error, Spec};
//! #[derive(serde::Deserialize)]
//! struct Params { name: String }
//! impl Spec for Params {}
//! fn run(m: &mut Module, p: Params) -> Result<Response, Error> {
//!     Ok(Response::new(false).msg(format!("hello {}", p.name)))
//! }
//! fn main() { ansible_module::main("hello", run) }
//! ```
#![deny(missing_docs)]

pub mod control;
pub mod de;
pub mod file;
pub mod params;
mod response;
pub mod scrub;
pub mod time;

pub use file::{FileParams, ManagedFile};
pub use params::{ParamInfo, Params, Spec, State};
pub use response::{Diff, Error, Record, Response};

use serde_json::{Map, Value};
use std::io::Write;
use std::sync::Mutex;

/// The running module: mode flags from Ansible and what it collects for the result.
#[derive(Debug, Default)]
pub struct Module {
    /// The module's name, for messages.
    pub name: &'static str,
    /// `--check`: change nothing, report what would change.
    pub check_mode: bool,
    /// `--diff`: return `diff`.
    pub diff: bool,
    /// `-v` count.
    pub verbosity: u8,
    /// The task has `no_log: true` (the module's output is hidden by Ansible anyway; secrets
    /// are scrubbed whatever this says).
    pub no_log: bool,
    warnings: Vec<String>,
}

impl Module {
    /// Adds a warning to the result.
    pub fn warn(&mut self, msg: impl Into<String>) {
        self.warnings.push(msg.into());
    }

    /// The warnings so far.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Adds a secret found while running (a password inside a conninfo value, an old
    /// password read from a file): it is scrubbed from everything the module prints, as a
    /// `no_log` parameter's value is.
    pub fn add_secret(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.is_empty() {
            return;
        }
        if let Ok(mut g) = SECRETS.lock() {
            if !g.0.contains(&secret) {
                g.0.push(secret);
            }
        }
    }
}

/// Secrets known so far, for the panic hook (which has nothing else to go on).
static SECRETS: Mutex<(Vec<String>, Vec<&'static str>)> = Mutex::new((Vec::new(), Vec::new()));

/// Runs a module: reads argv[1], checks and parses the parameters, calls `run`, prints the
/// result and exits (0, or 1 when failed). Never returns.
pub fn main<P: Params>(name: &'static str, run: impl FnOnce(&mut Module, P) -> Result<Response, Error>) -> ! {
    run_with(name, std::env::args().nth(1), run)
}

/// Runs a module as [`main`] does, with its one argument given: the path of an args file,
/// `-` to read the args JSON from standard input, or `--describe`. Never returns.
pub fn run_with<P: Params>(name: &'static str, args: Option<String>, run: impl FnOnce(&mut Module, P) -> Result<Response, Error>) -> ! {
    install_panic_hook(name);
    if args.as_deref() == Some("--describe") {
        // Lets the docs test compare the binary's parameters with its documentation.
        let mut spec = Vec::new();
        P::describe(&mut spec);
        println!("{}", serde_json::to_string(&spec).unwrap_or_default());
        std::process::exit(0);
    }
    let mut module = Module {
        name,
        ..Default::default()
    };
    let outcome = load(name, args.as_deref(), &mut module).and_then(|(p, raw)| {
        let result = run(&mut module, p);
        result.map(|r| (r, raw))
    });
    let mut out = Map::new();
    let failed = match outcome {
        Ok((resp, raw)) => {
            out.insert("changed".into(), Value::Bool(resp.changed));
            if let Some(msg) = resp.msg {
                out.insert("msg".into(), Value::String(msg));
            }
            if module.diff && !resp.diffs.is_empty() {
                // The texts move into the result: a diff of a large file is not copied.
                let mut diffs: Vec<Value> = resp.diffs.into_iter().map(Diff::into_value).collect();
                let diff = if diffs.len() == 1 {
                    diffs.pop().unwrap_or(Value::Null)
                } else {
                    Value::Array(diffs)
                };
                out.insert("diff".into(), diff);
            }
            for (k, v) in resp.extra {
                out.insert(k, v);
            }
            out.insert("invocation".into(), serde_json::json!({ "module_args": raw }));
            false
        }
        Err(e) => {
            out.insert("failed".into(), Value::Bool(true));
            out.insert("msg".into(), Value::String(e.msg));
            for (k, v) in e.extra {
                out.insert(k, v);
            }
            true
        }
    };
    if !module.warnings.is_empty() {
        out.insert("warnings".into(), Value::from(module.warnings.clone()));
    }
    emit(Value::Object(out));
    std::process::exit(if failed { 1 } else { 0 })
}

type Loaded<P> = (P, Value);

/// One of the mode flags Ansible sends (`_ansible_check_mode`, ...): a JSON boolean and
/// nothing else. Anything else is refused rather than read as false: a check-mode run that
/// misread its flag would change the host.
fn flag(key: &str, v: &Value) -> Result<bool, Error> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(fail!(
            "{key} must be true or false, got {other}: refusing to run (Ansible sends a boolean; was the args file written by hand?)"
        )),
    }
}

fn load<P: Params>(name: &str, path: Option<&str>, module: &mut Module) -> Result<Loaded<P>, Error> {
    let path = path.ok_or_else(|| fail!("{name}: expected the path of an Ansible args file as the first argument"))?;
    let text = if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
            .map_err(|e| fail!("cannot read the module arguments from standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| fail!("cannot read the args file {path}: {e}"))?
    };
    let path = if path == "-" { "on standard input" } else { path };
    let all: Value = serde_json::from_str(&text).map_err(|e| fail!("the args file {path} is not JSON: {e}"))?;
    let Value::Object(all) = all else {
        return Err(fail!("the args file {path} must hold a JSON object"));
    };
    let mut user = Map::new();
    for (k, v) in all {
        match k.as_str() {
            "_ansible_check_mode" => module.check_mode = flag(&k, &v)?,
            "_ansible_diff" => module.diff = flag(&k, &v)?,
            "_ansible_no_log" => module.no_log = flag(&k, &v)?,
            "_ansible_verbosity" => {
                module.verbosity = v
                    .as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| fail!("{k} must be a small whole number, got {v}"))?
            }
            k if k.starts_with("_ansible_") => {}
            // Ansible treats an explicit null as "not given": the default applies.
            _ if v.is_null() => {}
            _ => {
                user.insert(k, v);
            }
        }
    }
    let mut spec = Vec::new();
    P::describe(&mut spec);
    let mut no_log = Vec::new();
    P::no_log(&mut no_log);
    {
        let mut secrets = Vec::new();
        scrub::collect_secrets(&Value::Object(user.clone()), &no_log, &mut secrets);
        if let Ok(mut g) = SECRETS.lock() {
            *g = (secrets, no_log.clone());
        }
    }
    params::check_names(name, &mut user, &spec).map_err(Error::new)?;
    if let Some(bad) = control::find(&user) {
        return Err(Error::new(bad.to_string()));
    }
    let raw = Value::Object(user);
    let p = P::parse(&raw).map_err(|e| Error::new(e.to_string()))?;
    Ok((p, raw))
}

/// Prints the result with every secret scrubbed, written out as it is serialised (a result
/// with the diff of a large file is not first made into one more string).
fn emit(mut out: Value) {
    if let Ok(g) = SECRETS.lock() {
        scrub::scrub(&mut out, &g.0, &g.1);
    }
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    // A Value always serialises (its keys are strings, its numbers finite): only writing can
    // fail, and then nothing else could be printed either.
    let _ = serde_json::to_writer(&mut stdout, &out);
    let _ = writeln!(stdout);
    let _ = stdout.flush();
}

fn install_panic_hook(name: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        // Mutex may be poisoned or held by the panicking thread; try_lock avoids a deadlock.
        let mut out = serde_json::json!({ "failed": true, "msg": format!("{name}: internal error: {what}{at}") });
        if let Ok(g) = SECRETS.try_lock() {
            scrub::scrub(&mut out, &g.0, &g.1);
        }
        println!("{out}");
        let _ = std::io::stdout().flush();
        std::process::exit(1);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_flags_are_booleans_or_refused() {
        assert!(flag("_ansible_check_mode", &Value::Bool(true)).unwrap());
        assert!(!flag("_ansible_diff", &Value::Bool(false)).unwrap());
        for bad in [
            serde_json::json!("garbage"),
            serde_json::json!([true]),
            serde_json::json!({}),
            Value::Null,
            serde_json::json!("yes"),
            serde_json::json!(1),
        ] {
            let e = flag("_ansible_check_mode", &bad).unwrap_err();
            assert!(e.msg.starts_with("_ansible_check_mode must be true or false"), "{}", e.msg);
        }
    }
}
