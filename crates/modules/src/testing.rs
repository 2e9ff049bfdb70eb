//! Running a module's `run` in unit tests as Ansible would: the args parsed by the module's
//! own parameter types, check and diff mode as asked.

use ansible_module::params::Params;
use ansible_module::{Error, Module, Response};
use serde_json::Value;
use std::path::PathBuf;

/// Calls `run` with `args` (diff mode when `diff`).
pub fn call<P: Params>(run: fn(&mut Module, P) -> Result<Response, Error>, args: &Value, diff: bool) -> Result<Response, Error> {
    let p = P::parse(args).map_err(|e| Error::new(e.to_string()))?;
    let mut m = Module::default();
    m.diff = diff;
    run(&mut m, p)
}

/// A temporary directory holding one file with `text`; returns both (the directory lives as
/// long as the guard).
pub fn file_with(text: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("temp dir");
    let p = d.path().join("f.conf");
    std::fs::write(&p, text).expect("write");
    (d, p)
}
