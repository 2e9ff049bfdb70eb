//! Throwaway certificates for TLS tests, made with the `openssl` command (present on Debian):
//! CAs, server certificates with the subjectAltNames a test needs, client certificates.
//! EC P-256 keys, valid from now for two days.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (unencrypted PKCS#8).
    pub key: PathBuf,
}

/// A directory of test certificates, removed on drop.
#[derive(Debug)]
pub struct Pki {
    dir: tempfile::TempDir,
}

static SERIAL: AtomicU64 = AtomicU64::new(1);

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (install the openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    /// An empty directory for certificates.
    pub fn new() -> Pki {
        Pki {
            dir: tempfile::Builder::new().prefix("pgtest-pki-").tempdir().expect("temp dir"),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, text).expect("write openssl config");
        path
    }

    /// A self-signed certificate named `name` (`<name>.crt`, `<name>.key`) with common name
    /// `cn` and the given `[ext]` lines (for a CA: `basicConstraints = critical, CA:TRUE`).
    pub fn self_signed(&self, name: &str, cn: &str, ext: &str) -> CertFiles {
        let cnf = self.write(
            &format!("{name}.cnf"),
            &format!("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {cn}\n[ext]\n{ext}\n"),
        );
        let files = self.files(name);
        openssl(
            &[
                "req",
                "-x509",
                "-config",
                s(&cnf),
                "-extensions",
                "ext",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                s(&files.key),
                "-out",
                s(&files.cert),
            ],
            self.dir(),
        );
        files
    }

    /// A CA certificate named `name`.
    pub fn ca(&self, name: &str) -> CertFiles {
        self.self_signed(
            name,
            &format!("pgtest CA {name}"),
            "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash",
        )
    }

    /// A certificate issued by `ca` with common name `cn`, the given `[ext]` lines, signed with
    /// `digest` (`sha256`, `sha384`, ...).
    pub fn issue(&self, ca: &CertFiles, name: &str, cn: &str, ext: &str, digest: &str) -> CertFiles {
        let cnf = self.write(
            &format!("{name}.cnf"),
            &format!("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = {cn}\n[ext]\n{ext}\n"),
        );
        let files = self.files(name);
        let csr = self.dir().join(format!("{name}.csr"));
        openssl(
            &[
                "req",
                "-new",
                "-config",
                s(&cnf),
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                s(&files.key),
                "-out",
                s(&csr),
            ],
            self.dir(),
        );
        let serial = (SERIAL.fetch_add(1, Ordering::Relaxed) + 1000 * u64::from(std::process::id())).to_string();
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                s(&csr),
                "-CA",
                s(&ca.cert),
                "-CAkey",
                s(&ca.key),
                "-set_serial",
                &serial,
                "-days",
                "2",
                &format!("-{digest}"),
                "-extfile",
                s(&cnf),
                "-extensions",
                "ext",
                "-out",
                s(&files.cert),
            ],
            self.dir(),
        );
        files
    }

    /// A server certificate from `ca` for `sans` (`DNS:localhost,IP:127.0.0.1`).
    pub fn server(&self, ca: &CertFiles, name: &str, sans: &str, digest: &str) -> CertFiles {
        self.issue(
            ca,
            name,
            name,
            &format!(
                "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\nsubjectAltName = {sans}"
            ),
            digest,
        )
    }

    /// A client certificate from `ca` for the role `user` (its common name).
    pub fn client(&self, ca: &CertFiles, name: &str, user: &str) -> CertFiles {
        self.issue(
            ca,
            name,
            user,
            "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth",
            "sha256",
        )
    }

    fn files(&self, name: &str) -> CertFiles {
        CertFiles {
            cert: self.dir().join(format!("{name}.crt")),
            key: self.dir().join(format!("{name}.key")),
        }
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}
