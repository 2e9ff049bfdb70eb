//! TLS for TCP connections: rustls with the ring provider, certificates checked as libpq's
//! `sslmode` says, and handshake failures told in words a DBA can act on.
//!
//! One [`Tls`] is made per connection from the [`LoginParams`] (reading the PEM files once);
//! tokio-postgres asks it for a connector for the host it connects to.

use crate::login::{LoginParams, SslMode, Target};
use crate::PgError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::future::Future;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// What the handshake needs, and what its messages name.
#[derive(Debug)]
struct Shared {
    config: Arc<ClientConfig>,
    /// The CA file the server certificate is checked against (none: not checked).
    ca_file: Option<String>,
    /// The client certificate file sent, if any.
    client_cert: Option<String>,
    /// Whether the host name is checked (verify-full).
    check_name: bool,
    mode: SslMode,
    /// The host connected to, for messages.
    host: String,
}

/// The TLS side of one connection: a `MakeTlsConnect` for tokio-postgres that also records
/// whether a TLS session was established (for `prefer`'s retry without TLS).
///
/// Attempts without TLS use [`Tls::plain`] (with tokio-postgres' `sslmode=disable`, which never
/// asks it for a handshake) rather than `NoTls`: one stream type for every attempt keeps one
/// copy of tokio-postgres' connection code in the binary instead of two.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    /// `None`: no TLS set up ([`Tls::plain`]).
    shared: Option<Arc<Shared>>,
    used: Arc<AtomicBool>,
}

/// The home directory of the effective user (from the password database, as libpq does, so a
/// module run with `become_user` finds that user's files), or `$HOME`.
pub(crate) fn home_dir() -> Option<PathBuf> {
    match pghost::accounts::user_by_uid(nix::unistd::geteuid().as_raw()) {
        Some(u) => Some(u.home),
        None => std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
    }
}

impl Tls {
    /// Reads the files the parameters name (or libpq's defaults under `home`/.postgresql) and
    /// builds the client configuration. `None` for `ssl_mode=disable`.
    pub(crate) fn new(login: &LoginParams, home: Option<&Path>) -> Result<Option<Tls>, PgError> {
        let mode = login.ssl_mode;
        if mode == SslMode::Disable {
            return Ok(None);
        }
        let dot = home.map(|h| h.join(".postgresql"));
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);

        let ca_file = match given(&login.ca_cert) {
            Some(f) if f == "system" => {
                return Err(PgError::BadInput(
                    "ca_cert=system (libpq's \"use the system's CA store\") is not supported by these modules: give the PEM file of the CA that signed the server certificate".into(),
                ))
            }
            Some(f) => Some(f),
            None => dot.as_ref().map(|d| d.join("root.crt")).filter(|p| p.is_file()).map(|p| p.display().to_string()),
        };
        if mode.verifies_chain() && ca_file.is_none() {
            let looked = match &dot {
                Some(d) => format!("none was given and there is no {}", d.join("root.crt").display()),
                None => "none was given".to_string(),
            };
            return Err(PgError::BadInput(format!(
                "ssl_mode={} needs ca_cert, the PEM file of the CA certificate that signed the server's certificate ({looked})",
                mode.name()
            )));
        }

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let algs = provider.signature_verification_algorithms;
        let (roots, pinned) = match &ca_file {
            Some(f) => {
                let certs = read_certs(f, "ca_cert")?;
                let mut store = RootCertStore::empty();
                for (i, c) in certs.iter().enumerate() {
                    store.add(c.clone()).map_err(|e| {
                        PgError::BadInput(format!("ca_cert {f}: certificate {} of the file is not usable as a CA: {e}", i + 1))
                    })?;
                }
                (Some(Arc::new(store)), certs)
            }
            None => (None, Vec::new()),
        };
        let verifier = Arc::new(Verifier {
            roots,
            pinned,
            check_name: mode == SslMode::VerifyFull,
            algs,
        });
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| PgError::Other(format!("cannot set up TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);

        let client = match (given(&login.ssl_cert), given(&login.ssl_key)) {
            (Some(c), Some(k)) => Some((c, k)),
            (Some(c), None) => {
                return Err(PgError::BadInput(format!(
                    "ssl_cert {c} is given without ssl_key: give the file of its private key too"
                )))
            }
            (None, Some(k)) => {
                return Err(PgError::BadInput(format!(
                    "ssl_key {k} is given without ssl_cert: give the client certificate's file too"
                )))
            }
            (None, None) => dot.as_ref().map(|d| d.join("postgresql.crt")).filter(|p| p.is_file()).map(|c| {
                let k = c.with_extension("key");
                (c.display().to_string(), k.display().to_string())
            }),
        };
        let (config, client_cert) = match client {
            Some((cert, key)) => {
                let chain = read_certs(&cert, "ssl_cert")?;
                let key_der = read_key(&key)?;
                let config = builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| PgError::BadInput(format!("ssl_key {key} does not fit ssl_cert {cert}: {e}")))?;
                (config, Some(cert))
            }
            None => (builder.with_no_client_auth(), None),
        };
        Ok(Some(Tls {
            shared: Some(Arc::new(Shared {
                config: Arc::new(config),
                ca_file,
                client_cert,
                check_name: mode == SslMode::VerifyFull,
                mode,
                host: match login.target() {
                    Target::Tcp { host, .. } => host,
                    Target::Socket { .. } => String::new(),
                },
            })),
            used: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// For connections without TLS (see the type's docs).
    pub(crate) fn plain() -> Tls {
        Tls {
            shared: None,
            used: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a TLS session was established by a connection attempt with this.
    pub(crate) fn used(&self) -> bool {
        self.used.load(Ordering::Relaxed)
    }

    /// What went wrong with TLS in a failed connection attempt, in words: the handshake's
    /// failure, or an alert the server sent after it (with TLS 1.3 the server checks the client
    /// certificate after the client's side of the handshake is done). `None` when the failure
    /// was not TLS's.
    pub(crate) fn failure(&self, e: &tokio_postgres::Error) -> Option<String> {
        let shared = self.shared.as_deref()?;
        let source = std::error::Error::source(e)?;
        if let Some(f) = source.downcast_ref::<TlsFailure>() {
            return Some(f.0.clone());
        }
        let io = source.downcast_ref::<io::Error>()?;
        io.get_ref()?.downcast_ref::<rustls::Error>()?;
        Some(explain(io, shared, &shared.host))
    }
}

/// Reads a PEM file's certificates; an unreadable file, or one with none, is an error that
/// names the file and the parameter.
fn read_certs(file: &str, param: &str) -> Result<Vec<CertificateDer<'static>>, PgError> {
    let text = std::fs::read(file).map_err(|e| PgError::BadInput(format!("cannot read {param} {file}: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PgError::BadInput(format!("{param} {file} is not a valid PEM file: {e}")))?;
    if certs.is_empty() {
        return Err(PgError::BadInput(format!(
            "{param} {file} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(certs)
}

/// Reads an unencrypted private key (PKCS#8, PKCS#1 RSA or SEC1 EC) after libpq's check of
/// the file's permissions.
fn read_key(file: &str) -> Result<PrivateKeyDer<'static>, PgError> {
    let meta = std::fs::metadata(file).map_err(|e| PgError::BadInput(format!("cannot read ssl_key {file}: {e}")))?;
    key_permissions_ok(meta.uid(), meta.mode(), nix::unistd::geteuid().as_raw()).map_err(|why| {
        PgError::BadInput(format!("ssl_key {file} {why}; file must have permissions u=rw (0600) or less if owned by the current user, or u=rw,g=r (0640) or less if owned by root"))
    })?;
    let text = std::fs::read(file).map_err(|e| PgError::BadInput(format!("cannot read ssl_key {file}: {e}")))?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
        let what = if String::from_utf8_lossy(&text).contains("ENCRYPTED") {
            "an encrypted private key, which these modules cannot use (libpq's sslpassword is not supported): give an unencrypted key"
                .to_string()
        } else {
            format!("not a PEM private key (PKCS#8, RSA or EC): {e}")
        };
        PgError::BadInput(format!("ssl_key {file} is {what}"))
    })
}

/// libpq's rule for the client key file: no group or world access when owned by the user
/// connecting; when owned by root, group read at most.
fn key_permissions_ok(owner: u32, mode: u32, euid: u32) -> Result<(), &'static str> {
    if owner == euid && mode & 0o077 != 0 {
        return Err("has group or world access");
    }
    if owner == 0 && mode & 0o037 != 0 {
        return Err("has group write or world access");
    }
    Ok(())
}

/// Checks the server certificate as the mode says. Without a CA file nothing is checked (libpq's
/// `require`, `prefer`, `allow` without a root certificate); with one the chain must end at one
/// of its certificates; with `check_name` (verify-full) the certificate must also name the host.
/// The handshake's own signatures are always checked against the certificate's key.
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<RootCertStore>>,
    /// The CA file's certificates: a server certificate that is one of them is trusted as it is
    /// (a self-signed server certificate given as its own CA, as OpenSSL accepts it).
    pinned: Vec<CertificateDer<'static>>,
    check_name: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
            check_validity(end_entity.as_ref(), now)?;
        } else {
            // The chain only (no name): rustls' own check, the first half of what its
            // WebPkiServerVerifier does.
            verify_server_cert_signed_by_trust_anchor(&cert, roots, intermediates, now, self.algs.all)?;
        }
        if self.check_name {
            verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The validity period of a certificate trusted as it is.
fn check_validity(cert: &[u8], now: UnixTime) -> Result<(), rustls::Error> {
    let Some((not_before, not_after)) = der::validity(cert) else {
        return Err(CertificateError::BadEncoding.into());
    };
    let now_secs = now.as_secs() as i64;
    if now_secs < not_before {
        return Err(CertificateError::NotValidYetContext {
            time: now,
            not_before: UnixTime::since_unix_epoch(std::time::Duration::from_secs(not_before.max(0) as u64)),
        }
        .into());
    }
    if now_secs > not_after {
        return Err(CertificateError::ExpiredContext {
            time: now,
            not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(not_after.max(0) as u64)),
        }
        .into());
    }
    Ok(())
}

/// A failed TLS handshake, already in words for the DBA.
#[derive(Debug)]
pub(crate) struct TlsFailure(String);

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsFailure {}

impl<S> MakeTlsConnect<S> for Tls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = Connect;
    type Error = TlsFailure;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, TlsFailure> {
        // tokio-postgres asks for a connector even for a Unix socket (with no name), and uses
        // it only after the server agreed to TLS: a bad name fails there, not here.
        let check_name = self.shared.as_ref().is_some_and(|s| s.check_name);
        let name = match ServerName::try_from(domain.to_string()) {
            Ok(n) => Ok(n),
            // The name is not checked: connect without SNI.
            Err(_) if !check_name => Ok(ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into())),
            Err(_) => Err(TlsFailure(format!(
                "ssl_mode=verify-full cannot check the server certificate against {domain:?}: not a valid DNS name or IP address"
            ))),
        };
        Ok(Connect {
            shared: self.shared.clone(),
            used: self.used.clone(),
            host: domain.to_string(),
            name,
        })
    }
}

/// The connector for one host.
pub(crate) struct Connect {
    shared: Option<Arc<Shared>>,
    used: Arc<AtomicBool>,
    host: String,
    name: Result<ServerName<'static>, TlsFailure>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = TlsFailure;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, TlsFailure>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name?;
            let Some(shared) = self.shared else {
                return Err(TlsFailure("no TLS was set up for this connection".into()));
            };
            let connector = tokio_rustls::TlsConnector::from(shared.config.clone());
            match connector.connect(name, stream).await {
                Ok(s) => {
                    self.used.store(true, Ordering::Relaxed);
                    Ok(RustlsStream(Box::new(s)))
                }
                Err(e) => Err(TlsFailure(explain(&e, &shared, &self.host))),
            }
        })
    }
}

/// Turns a handshake error into a sentence that says what to fix.
fn explain(e: &io::Error, shared: &Shared, host: &str) -> String {
    let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) else {
        return format!("the connection broke during the TLS handshake: {e}");
    };
    let ca = shared.ca_file.as_deref().unwrap_or("ca_cert");
    let mode = shared.mode.name();
    match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => format!(
                "the server certificate is not signed by the CA in {ca} (ssl_mode={mode}; or the server does not send the intermediate certificates between them)"
            ),
            CertificateError::BadSignature => {
                format!("the server certificate's signature does not verify against the CA in {ca} (ssl_mode={mode})")
            }
            CertificateError::NotValidForName => format!("the server certificate does not name {host} (ssl_mode={mode})"),
            CertificateError::NotValidForNameContext { presented, .. } => {
                let names: Vec<String> = presented.iter().map(|n| plain_name(n)).collect();
                let has = if names.is_empty() {
                    "it has no DNS name or IP address in subjectAltName; a name in the Common Name alone is not accepted here".to_string()
                } else {
                    format!("it names {}", names.join(", "))
                };
                format!("the server certificate does not name {host}: {has} (ssl_mode={mode}; connect by one of its names, or use ssl_mode=verify-ca to check the CA only)")
            }
            CertificateError::Expired => format!("the server certificate has expired (ssl_mode={mode})"),
            CertificateError::ExpiredContext { not_after, .. } => format!(
                "the server certificate expired at {} (ssl_mode={mode})",
                utc(not_after.as_secs())
            ),
            CertificateError::NotValidYet => {
                format!("the server certificate is not valid yet (ssl_mode={mode}; are the clocks right?)")
            }
            CertificateError::NotValidYetContext { not_before, .. } => format!(
                "the server certificate is not valid before {} (ssl_mode={mode}; are the clocks right?)",
                utc(not_before.as_secs())
            ),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => format!(
                "the server certificate is not one for a TLS server (its extended key usage lacks serverAuth) (ssl_mode={mode})"
            ),
            CertificateError::BadEncoding => format!("the server certificate cannot be read (bad encoding) (ssl_mode={mode})"),
            other if format!("{other:?}").contains("CaUsedAsEndEntity") => format!(
                "the server certificate is a CA certificate (basicConstraints CA:TRUE) and is not one of the certificates in {ca} (ssl_mode={mode}): give a server certificate issued by the CA, or put this very certificate in {ca}"
            ),
            other => format!("the server certificate is not accepted (ssl_mode={mode}): {other}"),
        },
        rustls::Error::AlertReceived(alert) => match (&shared.client_cert, alert) {
            (None, AlertDescription::CertificateRequired | AlertDescription::HandshakeFailure) => format!(
                "the server ended the TLS handshake ({alert:?}): it may want a client certificate (ssl_cert and ssl_key)"
            ),
            (Some(cert), _) => format!(
                "the server rejected the TLS handshake ({alert:?}); is the client certificate {cert} signed by a CA in the server's ssl_ca_file, and valid?"
            ),
            (None, _) => format!("the server ended the TLS handshake ({alert:?})"),
        },
        rustls::Error::PeerIncompatible(why) => format!(
            "the server offers no TLS version or cipher these modules accept (TLS 1.2 with ECDHE and AES-GCM or ChaCha20, or TLS 1.3): {why:?}"
        ),
        other => format!("the TLS handshake failed: {other}"),
    }
}

/// `DnsName("db1")` and `IpAddress(10.0.0.1)` (webpki's debug forms) as `db1` and `10.0.0.1`.
fn plain_name(n: &str) -> String {
    n.strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
        .or_else(|| n.strip_prefix("IpAddress(").and_then(|r| r.strip_suffix(')')))
        .unwrap_or(n)
        .to_string()
}

/// Seconds since 1970 as `YYYY-MM-DD hh:mm:ss UTC`.
fn utc(secs: u64) -> String {
    let (date, time) = ansible_module::time::utc_parts(secs);
    format!("{date} {time} UTC")
}

/// A TLS session over the connection's socket.
pub(crate) struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    /// `tls-server-end-point` (RFC 5929) for SCRAM-SHA-256-PLUS: the hash of the server
    /// certificate. Without it (an algorithm not known here) the client says it does not
    /// support channel binding, which the server accepts.
    fn channel_binding(&self) -> ChannelBinding {
        let (_, conn) = self.0.get_ref();
        match conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| end_point_hash(c.as_ref()))
        {
            Some(h) => ChannelBinding::tls_server_end_point(h),
            None => ChannelBinding::none(),
        }
    }
}

/// The `tls-server-end-point` value of a certificate: its hash under the hash of its signature
/// algorithm, SHA-256 for MD5 and SHA-1 (RFC 5929 section 4.1, as the PostgreSQL server
/// computes it). `None` for algorithms without one hash (Ed25519, RSA-PSS).
fn end_point_hash(cert: &[u8]) -> Option<Vec<u8>> {
    use ring::digest::{digest, SHA256, SHA384, SHA512};
    let alg = match der::signature_algorithm(cert)? {
        // md5WithRSA, sha1WithRSA, sha256WithRSA, ecdsa-with-SHA1, ecdsa-with-SHA256
        der::oid::MD5_RSA | der::oid::SHA1_RSA | der::oid::SHA256_RSA | der::oid::ECDSA_SHA1 | der::oid::ECDSA_SHA256 => &SHA256,
        der::oid::SHA384_RSA | der::oid::ECDSA_SHA384 => &SHA384,
        der::oid::SHA512_RSA | der::oid::ECDSA_SHA512 => &SHA512,
        _ => return None,
    };
    Some(digest(alg, cert).as_ref().to_vec())
}

/// The few fields of an X.509 certificate read here, by walking its DER.
mod der {
    /// Signature algorithm OIDs (the content octets).
    pub(super) mod oid {
        pub const MD5_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04];
        pub const SHA1_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
        pub const SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        pub const SHA384_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
        pub const SHA512_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
        pub const ECDSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01];
        pub const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        pub const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
        pub const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    }

    const SEQUENCE: u8 = 0x30;
    const OID: u8 = 0x06;
    const UTC_TIME: u8 = 0x17;
    const GENERALIZED_TIME: u8 = 0x18;

    /// One tag-length-value: (tag, content, rest). Definite lengths only, as DER has.
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            rest = &rest[n..];
            len
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }

    /// The content of a SEQUENCE.
    fn sequence(input: &[u8]) -> Option<(&[u8], &[u8])> {
        match tlv(input)? {
            (SEQUENCE, content, rest) => Some((content, rest)),
            _ => None,
        }
    }

    /// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }:
    /// (tbsCertificate's content, signatureAlgorithm and what follows).
    fn certificate(cert: &[u8]) -> Option<(&[u8], &[u8])> {
        let (body, _) = sequence(cert)?;
        sequence(body)
    }

    /// The signature algorithm's OID (content octets).
    pub(super) fn signature_algorithm(cert: &[u8]) -> Option<&[u8]> {
        let (_, after_tbs) = certificate(cert)?;
        let (alg, _) = sequence(after_tbs)?;
        match tlv(alg)? {
            (OID, oid, _) => Some(oid),
            _ => None,
        }
    }

    /// notBefore and notAfter, in seconds since 1970.
    pub(super) fn validity(cert: &[u8]) -> Option<(i64, i64)> {
        let (tbs, _) = certificate(cert)?;
        let mut rest = tbs;
        // version [0] EXPLICIT (optional), serialNumber, signature, issuer, then validity.
        let (tag, _, r) = tlv(rest)?;
        if tag == 0xa0 {
            rest = r;
        }
        for _ in 0..3 {
            rest = tlv(rest)?.2;
        }
        let (validity, _) = sequence(rest)?;
        let (t1, v1, r) = tlv(validity)?;
        let (t2, v2, _) = tlv(r)?;
        Some((time(t1, v1)?, time(t2, v2)?))
    }

    /// UTCTime (`YYMMDDhhmmssZ`, years 1950-2049) or GeneralizedTime (`YYYYMMDDhhmmssZ`).
    fn time(tag: u8, v: &[u8]) -> Option<i64> {
        let s = std::str::from_utf8(v).ok()?.strip_suffix('Z')?;
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, rest) = match (tag, s.len()) {
            (UTC_TIME, 12) => {
                let yy: i64 = s[..2].parse().ok()?;
                (if yy < 50 { 2000 + yy } else { 1900 + yy }, &s[2..])
            }
            (GENERALIZED_TIME, 14) => (s[..4].parse().ok()?, &s[4..]),
            _ => return None,
        };
        let n = |i: usize| rest[i..i + 2].parse::<i64>().ok();
        let (month, day, h, m, sec) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
            return None;
        }
        // Days since 1970-01-01 of a civil date (proleptic Gregorian).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(days * 86_400 + h * 3600 + m * 60 + sec)
    }

    #[cfg(test)]
    pub(super) fn time_for_test(tag: u8, v: &[u8]) -> Option<i64> {
        time(tag, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn login(mode: SslMode) -> LoginParams {
        LoginParams {
            login_host: Some("db1".into()),
            ssl_mode: mode,
            ..Default::default()
        }
    }

    fn err(r: Result<Option<Tls>, PgError>) -> String {
        match r {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected an error"),
        }
    }

    #[test]
    fn disable_needs_nothing_and_the_unverified_modes_need_no_ca() {
        let home = tempfile::tempdir().unwrap();
        assert!(Tls::new(&login(SslMode::Disable), Some(home.path())).unwrap().is_none());
        for mode in [SslMode::Allow, SslMode::Prefer, SslMode::Require] {
            let t = Tls::new(&login(mode), Some(home.path())).unwrap().unwrap();
            let shared = t.shared.as_deref().unwrap();
            assert!(shared.ca_file.is_none() && !shared.check_name && !t.used());
        }
    }

    #[test]
    fn verify_modes_without_a_ca_say_so() {
        let home = tempfile::tempdir().unwrap();
        let e = err(Tls::new(&login(SslMode::VerifyFull), Some(home.path())));
        assert!(e.starts_with("ssl_mode=verify-full needs ca_cert, the PEM file of the CA"), "{e}");
        assert!(
            e.contains(&format!("there is no {}/.postgresql/root.crt", home.path().display())),
            "{e}"
        );
        let e = err(Tls::new(&login(SslMode::VerifyCa), None));
        assert!(
            e.contains("ssl_mode=verify-ca needs ca_cert") && e.contains("(none was given)"),
            "{e}"
        );
        let mut l = login(SslMode::VerifyCa);
        l.ca_cert = Some("system".into());
        assert!(err(Tls::new(&l, None)).contains("ca_cert=system"));
    }

    #[test]
    fn bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = login(SslMode::VerifyFull);
        let missing = dir.path().join("nope.pem").display().to_string();
        l.ca_cert = Some(missing.clone());
        let e = err(Tls::new(&l, None));
        assert!(e.starts_with(&format!("cannot read ca_cert {missing}: ")), "{e}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        l.ca_cert = Some(junk.display().to_string());
        let e = err(Tls::new(&l, None));
        assert!(e.contains(&format!("ca_cert {} holds no certificate", junk.display())), "{e}");
        std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n").unwrap();
        let e = err(Tls::new(&l, None));
        assert!(e.contains(&format!("ca_cert {} is not a valid PEM file", junk.display())), "{e}");
        std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let e = err(Tls::new(&l, None));
        assert!(
            e.contains(&format!("ca_cert {}: certificate 1 of the file is not usable", junk.display())),
            "{e}"
        );

        let mut l = login(SslMode::Require);
        l.ssl_cert = Some("/c.pem".into());
        assert!(err(Tls::new(&l, None)).contains("ssl_cert /c.pem is given without ssl_key"));
        l.ssl_cert = None;
        l.ssl_key = Some("/k.pem".into());
        assert!(err(Tls::new(&l, None)).contains("ssl_key /k.pem is given without ssl_cert"));
    }

    #[test]
    fn key_files_follow_libpqs_permission_rule() {
        assert!(key_permissions_ok(1000, 0o100600, 1000).is_ok());
        assert!(key_permissions_ok(1000, 0o100400, 1000).is_ok());
        assert_eq!(key_permissions_ok(1000, 0o100640, 1000), Err("has group or world access"));
        assert_eq!(key_permissions_ok(1000, 0o100604, 1000), Err("has group or world access"));
        assert!(key_permissions_ok(0, 0o100640, 1000).is_ok());
        assert_eq!(key_permissions_ok(0, 0o100660, 1000), Err("has group write or world access"));
        assert_eq!(key_permissions_ok(0, 0o100644, 1000), Err("has group write or world access"));
        // Another owner (neither the user nor root): the server will read it or not.
        assert!(key_permissions_ok(1001, 0o100644, 1000).is_ok());

        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k.pem");
        std::fs::write(
            &key,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let k = key.display().to_string();
        let e = read_key(&k).unwrap_err().to_string();
        assert!(e.starts_with(&format!("ssl_key {k} has group")), "{e}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = read_key(&k).unwrap_err().to_string();
        assert!(e.contains("is an encrypted private key"), "{e}");
        std::fs::write(&key, "hello\n").unwrap();
        let e = read_key(&k).unwrap_err().to_string();
        assert!(e.contains("is not a PEM private key"), "{e}");
    }

    #[test]
    fn names_and_times_read_plainly() {
        assert_eq!(plain_name("DnsName(\"db1.example\")"), "db1.example");
        assert_eq!(plain_name("IpAddress(10.0.0.181)"), "10.0.0.181");
        assert_eq!(plain_name("DirectoryName"), "DirectoryName");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400 + 3661), "2000-02-29 01:01:01 UTC");
        assert_eq!(der::time_for_test(0x17, b"000229010101Z"), Some(951_782_400 + 3661));
        assert_eq!(der::time_for_test(0x17, b"491231235959Z"), Some(2_524_607_999));
        assert_eq!(der::time_for_test(0x17, b"700101000000Z"), Some(0));
        assert_eq!(der::time_for_test(0x18, b"20000229010101Z"), Some(951_782_400 + 3661));
        assert_eq!(der::time_for_test(0x18, b"2000022901010Z"), None);
        assert_eq!(der::time_for_test(0x17, b"001329010101Z"), None);
    }

    /// A hand-made certificate skeleton: version, serial, signature, issuer, validity, then
    /// the signature algorithm; enough for the walker.
    fn skeleton(alg_oid: &[u8], not_before: &[u8], not_after: &[u8]) -> Vec<u8> {
        fn wrap(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut v = vec![tag];
            if content.len() < 0x80 {
                v.push(content.len() as u8);
            } else {
                v.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
            }
            v.extend_from_slice(content);
            v
        }
        let alg = wrap(0x30, &[wrap(0x06, alg_oid), vec![0x05, 0x00]].concat());
        let validity = wrap(0x30, &[wrap(0x17, not_before), wrap(0x17, not_after)].concat());
        let tbs = wrap(
            0x30,
            &[
                wrap(0xa0, &[0x02, 0x01, 0x02]),
                vec![0x02, 0x01, 0x01],
                alg.clone(),
                wrap(0x30, &[0u8; 200]),
                validity,
            ]
            .concat(),
        );
        wrap(0x30, &[tbs, alg, vec![0x03, 0x01, 0x00]].concat())
    }

    #[test]
    fn channel_binding_hashes_by_the_signature_algorithm() {
        use ring::digest::{digest, SHA256, SHA384, SHA512};
        let c = skeleton(der::oid::SHA256_RSA, b"250101000000Z", b"350101000000Z");
        assert_eq!(end_point_hash(&c).unwrap(), digest(&SHA256, &c).as_ref());
        let c = skeleton(der::oid::SHA1_RSA, b"250101000000Z", b"350101000000Z");
        assert_eq!(end_point_hash(&c).unwrap(), digest(&SHA256, &c).as_ref());
        let c = skeleton(der::oid::ECDSA_SHA384, b"250101000000Z", b"350101000000Z");
        assert_eq!(end_point_hash(&c).unwrap(), digest(&SHA384, &c).as_ref());
        let c = skeleton(der::oid::SHA512_RSA, b"250101000000Z", b"350101000000Z");
        assert_eq!(end_point_hash(&c).unwrap(), digest(&SHA512, &c).as_ref());
        // Ed25519: no single hash, so no channel binding.
        assert!(end_point_hash(&skeleton(&[0x2b, 0x65, 0x70], b"250101000000Z", b"350101000000Z")).is_none());
        assert!(end_point_hash(b"\x30\x05junk").is_none());
        assert!(end_point_hash(&[]).is_none());
    }

    #[test]
    fn a_pinned_certificate_must_be_in_its_validity_period() {
        let c = skeleton(der::oid::SHA256_RSA, b"250101000000Z", b"350101000000Z");
        assert_eq!(der::validity(&c), Some((1_735_689_600, 2_051_222_400)));
        let at = |s: u64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(s));
        assert!(check_validity(&c, at(1_800_000_000)).is_ok());
        let e = check_validity(&c, at(2_100_000_000)).unwrap_err();
        assert!(
            matches!(e, rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { .. })),
            "{e:?}"
        );
        let e = check_validity(&c, at(1_000_000_000)).unwrap_err();
        assert!(
            matches!(e, rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext { .. })),
            "{e:?}"
        );
        assert!(check_validity(b"\x30\x00", at(0)).is_err());
    }
}
