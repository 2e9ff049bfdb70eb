//! Where PostgreSQL's programs are: `/usr/lib/postgresql/<major>/bin` (Debian),
//! `/usr/pgsql-<major>/bin` (PGDG RPMs), or the usual `PATH` directories.

use std::fs;
use std::path::{Path, PathBuf};

/// The program directories of one major version, in the order they are tried.
fn of_version(major: &str) -> [PathBuf; 2] {
    [
        PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
        PathBuf::from(format!("/usr/pgsql-{major}/bin")),
    ]
}

fn has_all(dir: &Path, programs: &[&str]) -> bool {
    programs.iter().all(|p| dir.join(p).is_file())
}

/// Every installed version's program directory that holds all of `programs`, oldest first.
pub fn installed(programs: &[&str]) -> Vec<(u32, PathBuf)> {
    let mut versions: Vec<(u32, PathBuf)> = Vec::new();
    for (base, prefix) in [("/usr/lib/postgresql", ""), ("/usr", "pgsql-")] {
        if let Ok(rd) = fs::read_dir(base) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if let Some(v) = name.strip_prefix(prefix).and_then(|v| v.parse::<u32>().ok()) {
                    let bin = e.path().join("bin");
                    if has_all(&bin, programs) {
                        versions.push((v, bin));
                    }
                }
            }
        }
    }
    versions.sort();
    versions
}

/// The directory holding all of `programs`: the one of `major` (a data directory's
/// `PG_VERSION`), else the newest installed version's, else `/usr/local/bin`, `/usr/bin` or
/// `/bin`. `None` when none holds them.
pub fn find(major: Option<&str>, programs: &[&str]) -> Option<PathBuf> {
    if let Some(v) = major {
        if let Some(d) = of_version(v).into_iter().find(|d| has_all(d, programs)) {
            return Some(d);
        }
    }
    if let Some((_, d)) = installed(programs).pop() {
        return Some(d);
    }
    ["/usr/local/bin", "/usr/bin", "/bin"]
        .into_iter()
        .map(PathBuf::from)
        .find(|d| has_all(d, programs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_shell_tools_and_not_missing_ones() {
        // `sh` stands in /bin or /usr/bin on every system the tests run on.
        let d = find(None, &["sh"]).expect("a directory with sh");
        assert!(d.join("sh").is_file());
        assert_eq!(find(Some("99"), &["no-such-program-pgha"]), None);
        assert!(installed(&["no-such-program-pgha"]).is_empty());
    }
}
