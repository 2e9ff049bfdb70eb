//! A blocking PCP connection: connect, authenticate with the md5 salt, one request at a time.

use crate::codec::{self, DecodeError, Packet, Request};
use crate::{Error, HealthCheckStats, NodeInfo, WatchdogInfo};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Longest PCP user name Pgpool-II accepts (`MAX_USER_PASSWD_LEN` less the NUL).
pub const MAX_USER_LEN: usize = 127;

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Host name or address, or a directory holding the Unix socket `.s.PGSQL.<port>` when it
    /// starts with `/` (`pcp_socket_dir`).
    pub host: String,
    /// `pcp_port`.
    pub port: u16,
    /// PCP user (a pcp.conf entry).
    pub user: String,
    /// Its password (pcp.conf holds the md5 of it).
    pub password: String,
    /// Limit for the connection and authentication, and the default for each answer.
    pub timeout: Duration,
}

impl ConnectOptions {
    /// `host:port`, or the socket path.
    pub fn target(&self) -> String {
        if self.host.starts_with('/') {
            format!("{}/.s.PGSQL.{}", self.host.trim_end_matches('/'), self.port)
        } else if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        let t = Some(t.max(Duration::from_millis(1)));
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t).and_then(|_| s.set_write_timeout(t)),
            Stream::Unix(s) => s.set_read_timeout(t).and_then(|_| s.set_write_timeout(t)),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// An authenticated PCP connection.
pub struct Client {
    stream: Stream,
    target: String,
    timeout: Duration,
    open: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("target", &self.target).finish()
    }
}

impl Client {
    /// Connects and authenticates.
    pub fn connect(o: &ConnectOptions) -> Result<Client, Error> {
        let target = o.target();
        if o.user.len() > MAX_USER_LEN || o.user.contains('\0') {
            return Err(Error::Invalid(format!(
                "the PCP user name must be at most {MAX_USER_LEN} bytes without NUL characters"
            )));
        }
        let stream = if o.host.starts_with('/') {
            UnixStream::connect(&target).map(Stream::Unix).map_err(|source| Error::Connect {
                target: target.clone(),
                source,
            })?
        } else {
            Stream::Tcp(connect_tcp(&o.host, o.port, o.timeout, &target)?)
        };
        let mut c = Client {
            stream,
            target,
            timeout: o.timeout,
            open: true,
        };
        c.stream.set_timeout(o.timeout).map_err(|source| c.io(source))?;
        c.authenticate(&o.user, &o.password)?;
        Ok(c)
    }

    /// `host:port` or the socket path.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Sets how long to wait for each answer (a recovery or a graceful detach can take long).
    pub fn set_timeout(&mut self, t: Duration) -> Result<(), Error> {
        self.timeout = t;
        self.stream.set_timeout(t).map_err(|source| self.io(source))
    }

    fn io(&self, source: std::io::Error) -> Error {
        Error::Io {
            target: self.target.clone(),
            source,
        }
    }

    fn authenticate(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let salt_packet = self.request(&Request::Salt).map_err(|e| self.auth_error(user, e))?;
        let salt: [u8; 4] = salt_packet
            .body
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| Self::protocol(&Request::Salt, DecodeError::Salt(salt_packet.body.len())))?;
        let auth = Request::Auth {
            user: user.to_string(),
            hash: codec::auth_hash(user, password, &salt),
        };
        let answer = self.request(&auth).map_err(|e| self.auth_error(user, e))?;
        match codec::strings(&answer.body).first().map(String::as_str) {
            Some("AuthenticationOK") => Ok(()),
            other => Err(Error::Auth {
                target: self.target.clone(),
                user: user.to_string(),
                reason: other.unwrap_or("no reason given").to_string(),
            }),
        }
    }

    fn auth_error(&self, user: &str, e: Error) -> Error {
        match e {
            Error::Server { error, .. } => Error::Auth {
                target: self.target.clone(),
                user: user.to_string(),
                reason: error.to_string(),
            },
            other => other,
        }
    }

    fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), Error> {
        self.stream.read_exact(buf).map_err(|source| match source.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Error::Timeout {
                target: self.target.clone(),
                what: format!("the answer to {what}"),
                secs: self.timeout.as_secs(),
            },
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => Error::Closed {
                target: self.target.clone(),
                what: format!("waiting for the answer to {what}"),
            },
            _ => self.io(source),
        })
    }

    fn read_packet(&mut self, req: &Request) -> Result<Packet, Error> {
        let what = req.describe();
        let mut head = [0u8; 5];
        self.read_exact(&mut head, &what)?;
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        codec::check_length(len).map_err(|detail| Self::protocol(req, detail))?;
        let mut body = vec![0u8; len - 4];
        self.read_exact(&mut body, &what)?;
        Ok(Packet { kind: head[0], body })
    }

    /// Reads the next answer to `req`: notices are skipped, an error becomes `Error::Server`.
    fn answer(&mut self, req: &Request) -> Result<Packet, Error> {
        let expected = req.answer_kind().unwrap_or(0);
        loop {
            let p = self.read_packet(req)?;
            match p.kind {
                b'N' => continue,
                b'E' => {
                    let error = codec::parse_error(&p.body);
                    if error.severity == "FATAL" || error.severity == "PANIC" {
                        self.open = false;
                    }
                    return Err(Error::Server {
                        request: req.describe(),
                        error: Box::new(error),
                    });
                }
                k if k == expected => return Ok(p),
                k => {
                    return Err(Self::protocol(
                        req,
                        DecodeError::Kind {
                            got: char::from(k),
                            expected: char::from(expected),
                        },
                    ))
                }
            }
        }
    }

    fn send(&mut self, req: &Request) -> Result<(), Error> {
        let bytes = req.encode();
        self.stream
            .write_all(&bytes)
            .and_then(|_| self.stream.flush())
            .map_err(|source| match source.kind() {
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => Error::Closed {
                    target: self.target.clone(),
                    what: format!("sending {}", req.describe()),
                },
                _ => self.io(source),
            })
    }

    fn request(&mut self, req: &Request) -> Result<Packet, Error> {
        self.send(req)?;
        self.answer(req)
    }

    fn protocol(req: &Request, detail: DecodeError) -> Error {
        Error::Protocol {
            request: req.describe(),
            detail,
        }
    }

    /// Number of configured backends (`pcp_node_count`).
    pub fn node_count(&mut self) -> Result<u32, Error> {
        let req = Request::NodeCount;
        let p = self.request(&req)?;
        codec::parse_node_count(&codec::strings(&p.body)).map_err(|d| Self::protocol(&req, d))
    }

    fn node_infos(&mut self, id: i32) -> Result<Vec<NodeInfo>, Error> {
        let req = Request::NodeInfo(id);
        let first = self.request(&req)?;
        let count = codec::parse_array_size(&codec::strings(&first.body)).map_err(|d| Self::protocol(&req, d))?;
        let mut out = Vec::with_capacity(count.min(128));
        loop {
            let p = self.answer(&req)?;
            let fields = codec::strings(&p.body);
            match fields.first().map(String::as_str) {
                Some("CommandComplete") => break,
                Some("NodeInfo") => {
                    let node_id = if id >= 0 { id as u32 } else { out.len() as u32 };
                    out.push(codec::parse_node_info(node_id, &fields).map_err(|d| Self::protocol(&req, d))?);
                }
                _ => return Err(Self::protocol(&req, codec::tag("NodeInfo or CommandComplete", &fields))),
            }
        }
        if out.len() != count {
            return Err(Self::protocol(
                &req,
                DecodeError::Announced {
                    announced: count,
                    sent: out.len(),
                },
            ));
        }
        Ok(out)
    }

    /// One backend (`pcp_node_info -n ID`).
    pub fn node_info(&mut self, id: u32) -> Result<NodeInfo, Error> {
        let id = i32::try_from(id).map_err(|_| Error::Invalid(format!("node id {id} is out of range")))?;
        self.node_infos(id)?
            .into_iter()
            .next()
            .ok_or_else(|| Self::protocol(&Request::NodeInfo(id), DecodeError::NoNode))
    }

    /// Every configured backend (`pcp_node_info -a`), in node id order.
    pub fn nodes(&mut self) -> Result<Vec<NodeInfo>, Error> {
        let mut nodes = self.node_infos(-1)?;
        nodes.retain(|n| !n.hostname.is_empty());
        Ok(nodes)
    }

    /// Health check statistics of one backend (`pcp_health_check_stats -n ID`).
    pub fn health_check_stats(&mut self, id: u32) -> Result<HealthCheckStats, Error> {
        let req = Request::HealthCheckStats(id);
        let p = self.request(&req)?;
        codec::parse_health_check_stats(&codec::strings(&p.body)).map_err(|d| Self::protocol(&req, d))
    }

    /// The watchdog cluster as this pgpool sees it (`pcp_watchdog_info`). Fails with a server
    /// error "watchdog is not enabled" when `use_watchdog` is off.
    pub fn watchdog_info(&mut self) -> Result<WatchdogInfo, Error> {
        let req = Request::WatchdogInfo(-1);
        let p = self.request(&req)?;
        codec::parse_watchdog_info(&p.body).map_err(|d| Self::protocol(&req, d))
    }

    /// Sends a request that answers `CommandComplete`.
    pub fn command(&mut self, req: &Request) -> Result<(), Error> {
        let p = self.request(req)?;
        let fields = codec::strings(&p.body);
        match fields.first().map(String::as_str) {
            Some("CommandComplete") => Ok(()),
            _ => Err(Self::protocol(req, codec::tag("CommandComplete", &fields))),
        }
    }

    /// Attaches (fails back) a node (`pcp_attach_node`). Pgpool-II answers at once; the status
    /// changes a moment later.
    pub fn attach_node(&mut self, id: u32) -> Result<(), Error> {
        self.command(&Request::Attach(id))
    }

    /// Detaches a node (`pcp_detach_node`, `-g` with `gracefully`). Detaching the primary runs
    /// `failover_command`.
    pub fn detach_node(&mut self, id: u32, gracefully: bool) -> Result<(), Error> {
        self.command(&Request::Detach { node: id, gracefully })
    }

    /// Online recovery of a down node (`pcp_recovery_node`); answers when it has finished.
    pub fn recovery_node(&mut self, id: u32) -> Result<(), Error> {
        self.command(&Request::Recovery(id))
    }

    /// Promotes a standby (`pcp_promote_node`, `-g`, `-s`).
    pub fn promote_node(&mut self, id: u32, gracefully: bool, switchover: bool) -> Result<(), Error> {
        self.command(&Request::Promote {
            node: id,
            gracefully,
            switchover,
        })
    }

    /// Whether the server has not closed the connection after a FATAL error.
    pub fn is_open(&self) -> bool {
        self.open
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.open {
            let _ = self.stream.write_all(&Request::Disconnect.encode());
        }
    }
}

fn connect_tcp(host: &str, port: u16, timeout: Duration, target: &str) -> Result<TcpStream, Error> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|source| Error::Connect {
            target: target.to_string(),
            source,
        })?
        .collect();
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout.max(Duration::from_millis(1))) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                last = Some(Error::Timeout {
                    target: target.to_string(),
                    what: "the connection".into(),
                    secs: timeout.as_secs(),
                })
            }
            Err(source) => {
                last = Some(Error::Connect {
                    target: target.to_string(),
                    source,
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| Error::Connect {
        target: target.to_string(),
        source: std::io::Error::new(ErrorKind::NotFound, "the host name has no address"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    fn opts(port: u16, password: &str) -> ConnectOptions {
        ConnectOptions {
            host: "127.0.0.1".into(),
            port,
            user: "pgpool".into(),
            password: password.into(),
            timeout: Duration::from_secs(5),
        }
    }

    fn read_req(s: &mut TcpStream) -> (u8, Vec<u8>) {
        let mut head = [0u8; 5];
        s.read_exact(&mut head).unwrap();
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; len - 4];
        s.read_exact(&mut body).unwrap();
        (head[0], body)
    }

    /// A fake pgpool that checks the md5 chain against pcp.conf's md5("secret") and then answers
    /// an attach with an error and a node count with 2.
    fn fake_server() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        thread::spawn(move || {
            for conn in l.incoming().take(2) {
                let mut s = conn.unwrap();
                let salt = [9u8, 8, 7, 6];
                assert_eq!(read_req(&mut s).0, b'M');
                s.write_all(&codec::encode(b'm', &salt)).unwrap();
                let (k, body) = read_req(&mut s);
                assert_eq!(k, b'R');
                let f = codec::strings(&body);
                if f[1] != codec::auth_hash("pgpool", "secret", &salt) {
                    s.write_all(&codec::encode(
                        b'E',
                        b"SFATAL\0CXX000\0Mauthentication failed\0Dusername and/or password does not match\0\0",
                    ))
                    .unwrap();
                    continue;
                }
                s.write_all(&codec::encode(b'r', b"AuthenticationOK\0")).unwrap();
                assert_eq!(read_req(&mut s), (b'C', b"5\0".to_vec()));
                s.write_all(&codec::encode(b'N', b"SNOTICE\0Mhello\0\0")).unwrap();
                s.write_all(&codec::encode(b'E', b"SERROR\0Minformation failed\0Dinvalid node ID : 5\0\0"))
                    .unwrap();
                assert_eq!(read_req(&mut s).0, b'L');
                s.write_all(&codec::encode(b'l', b"CommandComplete\x002\0")).unwrap();
                assert_eq!(read_req(&mut s).0, b'X');
            }
        });
        port
    }

    #[test]
    fn authenticates_and_maps_errors() {
        let port = fake_server();
        let err = Client::connect(&opts(port, "wrong")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Auth { .. }), "{msg}");
        assert!(
            msg.contains("username and/or password does not match") && !msg.contains("wrong"),
            "{msg}"
        );
        let mut c = Client::connect(&opts(port, "secret")).unwrap();
        let err = c.attach_node(5).unwrap_err();
        assert_eq!(err.server_error().unwrap().detail.as_deref(), Some("invalid node ID : 5"));
        assert!(err
            .to_string()
            .starts_with("Pgpool-II refused attach node 5: ERROR: information failed"));
        assert_eq!(c.node_count().unwrap(), 2);
    }

    #[test]
    fn unreachable_is_a_connect_error() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let err = Client::connect(&opts(port, "x")).unwrap_err();
        assert!(matches!(err, Error::Connect { .. }));
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")));
        let sock = ConnectOptions {
            host: "/nonexistent/dir".into(),
            ..opts(9898, "x")
        };
        assert!(Client::connect(&sock)
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/dir/.s.PGSQL.9898"));
    }
}
