//! Every pgha.cluster module in one binary, `pgha`: the table of modules and how an
//! invocation names the one to run.
//!
//! - `pgha <module> -`: the arguments on standard input (the collection's fast path);
//! - `pgha <module> <args-file>` and `pgha <module> --describe`;
//! - `pgha <args-file>`: Ansible's own binary-module path (async tasks, and whatever the fast
//!   path leaves to it) runs the shipped file with only the args file; the module is the one
//!   the file names in `_ansible_module_name` (`pgha.cluster.pg_hba` or `pg_hba`: its last part);
//! - started under a module's name (`pg_hba <args-file>`, a link or a copy), that module;
//! - `pgha --list`: the module names, one a line.

use std::path::Path;

/// A module's entry: runs it with its one argument (args file, `-` or `--describe`); never returns.
pub type Entry = fn(Option<String>) -> !;

macro_rules! modules {
    ($($name:ident => $run:path),* $(,)?) => {
        /// Every module, by name, with its entry.
        pub const MODULES: &[(&str, Entry)] = &[$((stringify!($name), {
            fn $name(args: Option<String>) -> ! {
                ansible_module::run_with(stringify!($name), args, $run)
            }
            $name
        })),*];
    };
}

modules! {
    pg_basebackup_standby => pgops::standby::run,
    pg_config => crate::pg_config::run,
    pg_database => pgops::database::run,
    pg_extension => pgops::extension::run,
    pg_hba => crate::pg_hba::run,
    pg_info => pgops::info::run,
    pg_promote => pgops::promote::run,
    pg_role => pgops::role::run,
    pg_slot => pgops::slot::run,
    pgpass => crate::pgpass::run,
    pgpool_config => crate::pgpool_config::run,
    pgpool_info => pgops::pgpool::info::run,
    pgpool_node => pgops::pgpool::node::run,
    pool_passwd => crate::pool_passwd::run,
    repmgr_config => crate::repmgr_config::run,
    repmgr_info => repmgr::info::run,
    repmgr_register => repmgr::register::run,
    repmgr_rejoin => repmgr::rejoin::run,
    repmgr_standby_clone => repmgr::clone::run,
    repmgr_switchover => repmgr::switchover::run,
}

/// The module called `name` (`pg_hba`, `pgha.cluster.pg_hba`, or another collection's name for
/// a copy of this binary: the last part names the module), as its entry in [`MODULES`].
fn lookup(name: &str) -> Option<&'static (&'static str, Entry)> {
    let leaf = name.rsplit('.').next().unwrap_or(name);
    MODULES.iter().find(|(n, _)| *n == leaf)
}

/// The entry of the module called `name` (`pg_hba`, or `pgha.cluster.pg_hba`).
pub fn entry(name: &str) -> Option<Entry> {
    lookup(name).map(|(_, e)| *e)
}

/// What an invocation asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Call {
    /// Run this module with this argument.
    Run(&'static str, Option<String>),
    /// Print the module names.
    List,
    /// Nothing runnable: the message says why.
    Usage(String),
}

/// Reads an invocation: `argv` as the process got it (`argv[0]` first). `module_of` reads the
/// module name out of an args file (`_ansible_module_name`).
pub fn parse(argv: &[String], module_of: impl FnOnce(&str) -> Result<String, String>) -> Call {
    let named = |n: &str| lookup(n).map(|(m, _)| *m);
    let program = argv
        .first()
        .map(|a| Path::new(a).file_name().and_then(|f| f.to_str()).unwrap_or(a))
        .unwrap_or("pgha");
    if let Some(m) = named(program) {
        return Call::Run(m, argv.get(1).cloned());
    }
    match argv.get(1).map(String::as_str) {
        None => Call::Usage("pgha: expected a module name (pgha --list names them) and its args file, or - for standard input".into()),
        Some("--list") => Call::List,
        Some(first) => match named(first) {
            Some(m) => Call::Run(m, argv.get(2).cloned()),
            None if first.starts_with('-') => Call::Usage(format!("pgha: unknown option {first}")),
            None => match module_of(first) {
                Ok(name) => match named(&name) {
                    Some(m) => Call::Run(m, Some(first.to_string())),
                    None => Call::Usage(format!("pgha: no module called {name:?} (pgha --list names them)")),
                },
                Err(e) => Call::Usage(format!(
                    "pgha: {first:?} is no module name (pgha --list names them), and as an args file: {e}"
                )),
            },
        },
    }
}

/// `_ansible_module_name` of the args file at `path`.
pub fn module_in_args_file(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let all: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    all.get("_ansible_module_name")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| "it has no _ansible_module_name".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_module_is_named_once() {
        let mut names: Vec<_> = MODULES.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), MODULES.len());
        assert!(entry("pgha.cluster.pg_hba").is_some() && entry("pg_hba").is_some() && entry("nope").is_none());
    }

    #[test]
    fn invocations() {
        let none = |_: &str| -> Result<String, String> { Err("unused".into()) };
        assert_eq!(
            parse(&argv(&["/c/pgha", "pg_hba", "-"]), none),
            Call::Run("pg_hba", Some("-".into()))
        );
        assert_eq!(
            parse(&argv(&["pgha", "pg_info", "--describe"]), none),
            Call::Run("pg_info", Some("--describe".into()))
        );
        assert_eq!(
            parse(&argv(&["/x/pg_slot", "/tmp/args"]), none),
            Call::Run("pg_slot", Some("/tmp/args".into()))
        );
        assert_eq!(parse(&argv(&["pgha", "--list"]), none), Call::List);
        assert_eq!(
            parse(&argv(&["/t/AnsiballZ_pgha", "/t/args"]), |p| {
                assert_eq!(p, "/t/args");
                Ok("pgha.cluster.pgpass".into())
            }),
            Call::Run("pgpass", Some("/t/args".into()))
        );
        assert!(matches!(parse(&argv(&["pgha"]), none), Call::Usage(_)));
        assert!(matches!(parse(&argv(&["pgha", "--bogus"]), none), Call::Usage(_)));
        assert!(matches!(parse(&argv(&["pgha", "/t/args"]), |_| Ok("ansible.builtin.copy".into())), Call::Usage(m) if m.contains("copy")));
    }
}
