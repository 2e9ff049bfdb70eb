//! `pg_hba.conf` (PostgreSQL) and `pool_hba.conf` (Pgpool-II) client authentication files.
//!
//! # Reading
//!
//! Lines are split into fields exactly as the servers' tokenizers do (`next_token` in
//! PostgreSQL's `hba.c` and Pgpool-II's `pool_hba.c`): fields are separated by blanks (space,
//! tab, CR); a field is a comma list of tokens; `"..."` quotes a token (`""` inside is a quote);
//! an unquoted `#` starts a comment. In [`Format::PgHba`] a line ending in `\` goes on on the
//! next line (PostgreSQL 15+); such a record is one [`Rule`] spanning several physical lines.
//! `include`, `include_if_exists` and `include_dir` lines (PostgreSQL 16+) are kept and
//! listed by [`HbaFile::includes`]. A line that does not parse is kept verbatim and listed by
//! [`HbaFile::issues`] with its line number.
//!
//! Checked, as PostgreSQL 15 and Pgpool-II 4.3 check them (the oracle tests compare with
//! PostgreSQL's `pg_hba_file_rules`): connection types; the number of values where one is
//! expected; addresses (IPv4 in every `inet_aton` form such as `127.1`, IPv6 with an optional
//! `%zone`, a CIDR suffix read like `strtol` or a separate netmask column, `all`, `samehost`,
//! `samenet`, host names and `.suffix` names); authentication methods per format (PostgreSQL:
//! trust reject scram-sha-256 md5 password gss sspi ident peer ldap radius cert pam bsd;
//! Pgpool-II 4.3: trust reject md5 scram-sha-256 password cert pam ldap); the method and
//! connection-type combinations PostgreSQL refuses (`peer` off local sockets, `gss` on them,
//! `cert` off `hostssl`); options: `name=value` form, known names, the methods each goes with,
//! `clientcert`/`clientname` values and `hostssl`, the options `ldap` and `radius` require and
//! the RADIUS list lengths. Not checked: methods a particular server build leaves out (`sspi`
//! and `bsd` on Linux, for example), values of other options (`ldapport`, `ldapurl` syntax),
//! RADIUS server names (PostgreSQL resolves them), `@file` contents, regular-expression syntax
//! (PostgreSQL 16 `/regex` names), PostgreSQL 16's own additions beyond include directives.
//!
//! # Rule identity
//!
//! A rule is identified by its [`RuleKey`]: connection type, databases, users and address.
//! Database and user lists compare as sets (their order does not change which connections a
//! line matches); a quoted name equals the unquoted one unless quoting changes its meaning (a
//! keyword such as `all`, or a leading `+`, `@` or `/`). An address with a CIDR suffix equals
//! the same address with the equivalent netmask column (`10.0.0.0/24` = `10.0.0.0
//! 255.255.255.0`); addresses are compared as written otherwise (`10.0.0.5/24` is not
//! `10.0.0.0/24`); host names compare case-insensitively. The method and options are not part
//! of the identity: [`HbaFile::upsert`] changes them in place.
//!
//! # Writing
//!
//! Unedited files are written back byte for byte. An update rewrites only the method and
//! options of the matching line, keeping its spelling of the other fields and its trailing
//! comment. New lines are laid out like the file's existing rules: in the columns most rules
//! use (with tabs if they use tabs), or with single separators if the rules are written that
//! way; with PostgreSQL's or Pgpool-II's stock columns in a file without rules.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use crate::edit::lines;
pub use crate::edit::{Change, Issue};

/// Which file the text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PostgreSQL's `pg_hba.conf` (15 and 16 syntax).
    PgHba,
    /// Pgpool-II's `pool_hba.conf` (4.3 syntax: no line continuation, no include directives,
    /// connection types local/host/hostssl/hostnossl).
    PoolHba,
}

/// The first field of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectionType {
    /// `local`: Unix-domain socket.
    Local,
    /// `host`: TCP/IP, with or without SSL/GSS encryption.
    Host,
    /// `hostssl`: TCP/IP with SSL.
    HostSsl,
    /// `hostnossl`: TCP/IP without SSL.
    HostNoSsl,
    /// `hostgssenc`: TCP/IP with GSSAPI encryption (PostgreSQL only).
    HostGssEnc,
    /// `hostnogssenc`: TCP/IP without GSSAPI encryption (PostgreSQL only).
    HostNoGssEnc,
}

impl ConnectionType {
    /// The keyword as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionType::Local => "local",
            ConnectionType::Host => "host",
            ConnectionType::HostSsl => "hostssl",
            ConnectionType::HostNoSsl => "hostnossl",
            ConnectionType::HostGssEnc => "hostgssenc",
            ConnectionType::HostNoGssEnc => "hostnogssenc",
        }
    }

    /// Reads the keyword; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "local" => ConnectionType::Local,
            "host" => ConnectionType::Host,
            "hostssl" => ConnectionType::HostSsl,
            "hostnossl" => ConnectionType::HostNoSsl,
            "hostgssenc" => ConnectionType::HostGssEnc,
            "hostnogssenc" => ConnectionType::HostNoGssEnc,
            _ => return None,
        })
    }

    /// Whether rules of this type have an address field (all but `local`).
    pub fn has_address(self) -> bool {
        self != ConnectionType::Local
    }

    /// Whether `format` knows this connection type.
    pub fn allowed_in(self, format: Format) -> bool {
        format == Format::PgHba || !matches!(self, ConnectionType::HostGssEnc | ConnectionType::HostNoGssEnc)
    }
}

impl fmt::Display for ConnectionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authentication method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `trust`
    Trust,
    /// `reject`
    Reject,
    /// `scram-sha-256`
    ScramSha256,
    /// `md5`
    Md5,
    /// `password` (clear text)
    Password,
    /// `gss` (PostgreSQL only)
    Gss,
    /// `sspi` (PostgreSQL only)
    Sspi,
    /// `ident` (PostgreSQL only)
    Ident,
    /// `peer` (PostgreSQL only)
    Peer,
    /// `ldap`
    Ldap,
    /// `radius` (PostgreSQL only)
    Radius,
    /// `cert`
    Cert,
    /// `pam`
    Pam,
    /// `bsd` (PostgreSQL only)
    Bsd,
}

impl Method {
    /// The keyword as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Trust => "trust",
            Method::Reject => "reject",
            Method::ScramSha256 => "scram-sha-256",
            Method::Md5 => "md5",
            Method::Password => "password",
            Method::Gss => "gss",
            Method::Sspi => "sspi",
            Method::Ident => "ident",
            Method::Peer => "peer",
            Method::Ldap => "ldap",
            Method::Radius => "radius",
            Method::Cert => "cert",
            Method::Pam => "pam",
            Method::Bsd => "bsd",
        }
    }

    /// Reads the keyword; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "trust" => Method::Trust,
            "reject" => Method::Reject,
            "scram-sha-256" => Method::ScramSha256,
            "md5" => Method::Md5,
            "password" => Method::Password,
            "gss" => Method::Gss,
            "sspi" => Method::Sspi,
            "ident" => Method::Ident,
            "peer" => Method::Peer,
            "ldap" => Method::Ldap,
            "radius" => Method::Radius,
            "cert" => Method::Cert,
            "pam" => Method::Pam,
            "bsd" => Method::Bsd,
            _ => return None,
        })
    }

    /// Whether `format` accepts this method (Pgpool-II 4.3: trust, reject, md5, scram-sha-256,
    /// password, cert, pam, ldap).
    pub fn allowed_in(self, format: Format) -> bool {
        match format {
            Format::PgHba => true,
            Format::PoolHba => matches!(
                self,
                Method::Trust
                    | Method::Reject
                    | Method::Md5
                    | Method::ScramSha256
                    | Method::Password
                    | Method::Cert
                    | Method::Pam
                    | Method::Ldap
            ),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One name in a database or user list: its text and whether it was written in double quotes
/// (which makes keywords and `+`/`@`/`/` prefixes literal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    value: String,
    quoted: bool,
}

impl Token {
    /// A token as written without quotes: keywords (`all`, `sameuser`, `replication`, ...) and
    /// prefixes (`+group`, `@file`, `/regex`) keep their meaning.
    pub fn new(value: &str) -> Self {
        Token {
            value: value.to_owned(),
            quoted: false,
        }
    }

    /// A literal name, quoted so that no keyword or prefix applies.
    pub fn literal(value: &str) -> Self {
        Token {
            value: value.to_owned(),
            quoted: true,
        }
    }

    /// Reads a comma list as it would appear in a field, e.g. `db1,"my db",+admins`.
    pub fn parse_list(text: &str) -> Result<Vec<Token>, HbaError> {
        let tokenized = tokenize(text, Format::PgHba)?;
        match tokenized.fields.as_slice() {
            [field] => Ok(field.tokens.iter().map(|t| t.token.clone()).collect()),
            [] => Err(HbaError::MissingField("list")),
            _ => Err(HbaError::MultipleValues("list (a blank separates fields)")),
        }
    }

    /// The text of the token (quotes removed).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the token was written in double quotes.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// Whether the token is the unquoted keyword `keyword`.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        !self.quoted && self.value == keyword
    }

    /// Whether the token has a special meaning in a database (`databases == true`) or user
    /// field: a keyword, or an unquoted `+`, `@` or `/` prefix.
    fn is_special(&self, databases: bool) -> bool {
        if self.quoted {
            return false;
        }
        let keywords: &[&str] = if databases {
            &["all", "sameuser", "samerole", "samegroup", "replication"]
        } else {
            &["all"]
        };
        keywords.contains(&self.value.as_str()) || (self.value.len() > 1 && self.value.starts_with(['+', '@', '/']))
    }

    fn render(&self) -> String {
        if self.quoted {
            return quote(&self.value);
        }
        if !needs_quotes(&self.value) {
            return self.value.clone();
        }
        match self.value.chars().next() {
            Some(c @ ('+' | '@' | '/')) if self.value.len() > 1 => {
                format!("{c}{}", quote(&self.value[1..]))
            }
            _ => quote(&self.value),
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Whether a value must be quoted to read back as one token (a final backslash too, which would
/// continue the line).
fn needs_quotes(s: &str) -> bool {
    s.is_empty() || s.contains([' ', '\t', '\r', ',', '#', '"']) || s.ends_with('\\')
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The netmask of an IP range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mask {
    /// A CIDR prefix length written after the address (`/24`).
    Prefix(u8),
    /// A netmask written in its own column (`255.255.255.0`).
    Netmask(IpAddr),
}

/// The address field of a non-local rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// `all`: any address.
    All,
    /// `samehost`: any of the server's own addresses.
    SameHost,
    /// `samenet`: any address in a subnet the server is directly connected to.
    SameNet,
    /// An IP address with its mask.
    Ip {
        /// The address as written.
        addr: IpAddr,
        /// The mask.
        mask: Mask,
    },
    /// An IPv6 address with a zone (`fe80::1%eth0`), with its mask.
    ScopedIp {
        /// The address.
        addr: std::net::Ipv6Addr,
        /// The zone (interface) after `%`.
        zone: String,
        /// The mask.
        mask: Mask,
    },
    /// A host name, or a `.suffix` matching names that end with it.
    Hostname(String),
}

impl Address {
    /// Reads an address as written in one field (`10.0.0.0/24`, `::1/128`, `samenet`,
    /// `db.example.com`, `.example.com`). A netmask column cannot be given here: use
    /// [`Address::Ip`] with [`Mask::Netmask`].
    pub fn parse(text: &str) -> Result<Address, HbaError> {
        let token = Token::new(text);
        match parse_address(&token, None)? {
            (address, false) => Ok(address),
            (_, true) => Err(HbaError::MissingField("netmask")),
        }
    }

    fn cells(&self) -> String {
        match self {
            Address::All => "all".to_owned(),
            Address::SameHost => "samehost".to_owned(),
            Address::SameNet => "samenet".to_owned(),
            Address::Ip {
                addr,
                mask: Mask::Prefix(p),
            } => format!("{addr}/{p}"),
            Address::Ip {
                addr,
                mask: Mask::Netmask(m),
            } => format!("{addr} {m}"),
            Address::ScopedIp {
                addr,
                zone,
                mask: Mask::Prefix(p),
            } => format!("{addr}%{zone}/{p}"),
            Address::ScopedIp {
                addr,
                zone,
                mask: Mask::Netmask(m),
            } => format!("{addr}%{zone} {m}"),
            Address::Hostname(h) => {
                if matches!(h.as_str(), "all" | "samehost" | "samenet") || needs_quotes(h) {
                    quote(h)
                } else {
                    h.clone()
                }
            }
        }
    }

    fn key(&self) -> AddressKey {
        match self {
            Address::All => AddressKey::All,
            Address::SameHost => AddressKey::SameHost,
            Address::SameNet => AddressKey::SameNet,
            Address::Ip { addr, mask } => AddressKey::Net(*addr, None, mask_key(mask)),
            Address::ScopedIp { addr, zone, mask } => AddressKey::Net(IpAddr::V6(*addr), Some(zone.clone()), mask_key(mask)),
            Address::Hostname(h) => AddressKey::Host(h.to_lowercase()),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.cells())
    }
}

/// A mask for comparison: a contiguous netmask is its prefix length.
fn mask_key(mask: &Mask) -> Result<u8, IpAddr> {
    match mask {
        Mask::Prefix(p) => Ok(*p),
        Mask::Netmask(m) => prefix_of(m).ok_or(*m),
    }
}

/// The prefix length of a contiguous netmask.
fn prefix_of(mask: &IpAddr) -> Option<u8> {
    let (bits, width): (u128, u32) = match mask {
        IpAddr::V4(m) => (u128::from(u32::from(*m)) << 96, 32),
        IpAddr::V6(m) => (u128::from(*m), 128),
    };
    let ones = bits.leading_ones();
    if bits.count_ones() == ones && ones <= width {
        u8::try_from(ones).ok()
    } else {
        None
    }
}

/// An authentication option, `name=value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthOption {
    /// The option name.
    pub name: String,
    /// The value (quotes removed).
    pub value: String,
}

impl AuthOption {
    /// An option.
    pub fn new(name: &str, value: &str) -> Self {
        AuthOption {
            name: name.to_owned(),
            value: value.to_owned(),
        }
    }

    fn render(&self) -> String {
        if needs_quotes(&self.value) {
            format!("{}={}", self.name, quote(&self.value))
        } else {
            format!("{}={}", self.name, self.value)
        }
    }
}

/// A client authentication rule (one record of the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Connection type.
    pub connection: ConnectionType,
    /// Databases (comma list).
    pub databases: Vec<Token>,
    /// Users (comma list).
    pub users: Vec<Token>,
    /// Address; `None` for `local` rules.
    pub address: Option<Address>,
    /// Authentication method.
    pub method: Method,
    /// Authentication options, in file order.
    pub options: Vec<AuthOption>,
}

impl Rule {
    /// Reads one record written as in the file, e.g.
    /// `host replication repl 10.0.0.0/24 scram-sha-256`. A trailing comment is allowed.
    pub fn parse(text: &str, format: Format) -> Result<Rule, HbaError> {
        let tokenized = tokenize(text, format)?;
        match parse_record(&tokenized.fields, format)? {
            Record::Rule(rule, _) => Ok(rule),
            Record::Include(_) => Err(HbaError::InvalidConnectionType(tokenized.fields[0].tokens[0].token.value.clone())),
            Record::Empty => Err(HbaError::MissingField("connection type")),
        }
    }

    /// The rule's identity (see the module docs).
    pub fn key(&self) -> RuleKey {
        RuleKey {
            connection: self.connection,
            databases: token_keys(&self.databases, true),
            users: token_keys(&self.users, false),
            address: self.address.as_ref().map(Address::key),
        }
    }

    /// Whether `other` has the same method and the same options (in any order).
    fn same_effect(&self, other: &Rule) -> bool {
        let mut a = self.options.clone();
        let mut b = other.options.clone();
        a.sort();
        b.sort();
        self.method == other.method && a == b
    }

    /// The cells of the rule as written: type, databases, users, address (or None), method,
    /// options.
    fn cells(&self) -> (Vec<String>, String) {
        let mut cells = vec![
            self.connection.as_str().to_owned(),
            join_tokens(&self.databases),
            join_tokens(&self.users),
        ];
        if let Some(a) = &self.address {
            cells.push(a.cells());
        }
        (cells, self.method_text())
    }

    /// `method [name=value ...]`.
    fn method_text(&self) -> String {
        let mut s = self.method.as_str().to_owned();
        for o in &self.options {
            s.push(' ');
            s.push_str(&o.render());
        }
        s
    }

    /// Checks that the rule can be written for `format` and reads back as itself.
    fn check(&self, format: Format) -> Result<String, HbaError> {
        if self.databases.is_empty() {
            return Err(HbaError::MissingField("database"));
        }
        if self.users.is_empty() {
            return Err(HbaError::MissingField("user"));
        }
        if self.connection.has_address() != self.address.is_some() {
            return Err(if self.address.is_some() {
                HbaError::UnexpectedAddress
            } else {
                HbaError::MissingField("address")
            });
        }
        for o in &self.options {
            if o.name.is_empty()
                || o.name.contains(['=', ' ', '\t', '\r', '\n', ',', '#', '"'])
                || crate::edit::forbidden_char(&o.name).is_some()
            {
                return Err(HbaError::OptionNotNameValue(o.name.clone()));
            }
        }
        let all_text = self
            .databases
            .iter()
            .chain(&self.users)
            .map(|t| t.value.as_str())
            .chain(self.options.iter().map(|o| o.value.as_str()));
        for t in all_text {
            if t.contains('\n') {
                return Err(HbaError::LineBreak);
            }
            if crate::edit::forbidden_char(t).is_some() {
                return Err(HbaError::ControlChar);
            }
        }
        let (mut cells, method) = self.cells();
        cells.push(method);
        let text = cells.join(" ");
        let back = Rule::parse(&text, format)?;
        if back.key() != self.key() || !back.same_effect(self) {
            return Err(HbaError::NotRepresentable);
        }
        Ok(text)
    }
}

impl fmt::Display for Rule {
    /// The rule on one line, fields separated by single spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cells, method) = self.cells();
        write!(f, "{} {}", cells.join(" "), method)
    }
}

fn join_tokens(tokens: &[Token]) -> String {
    tokens.iter().map(Token::render).collect::<Vec<_>>().join(",")
}

fn token_keys(tokens: &[Token], databases: bool) -> Vec<(String, bool)> {
    let mut keys: Vec<(String, bool)> = tokens.iter().map(|t| (t.value.clone(), t.is_special(databases))).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The identity of a rule: connection type, databases, users and address, normalised for
/// comparison (see the module docs). Obtain one with [`Rule::key`] or [`RuleKey::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleKey {
    connection: ConnectionType,
    databases: Vec<(String, bool)>,
    users: Vec<(String, bool)>,
    address: Option<AddressKey>,
}

impl RuleKey {
    /// Reads the identifying fields of a rule as written in the file, e.g.
    /// `host all repl 10.0.0.0/24` or `local all postgres` (a method may follow and is
    /// ignored).
    pub fn parse(text: &str, format: Format) -> Result<RuleKey, HbaError> {
        const NAMES: [&str; 5] = ["connection type", "database", "user", "address", "netmask"];
        let mut fields = tokenize(text, format)?.fields;
        let needed = key_field_count(&fields);
        if fields.len() < needed {
            return Err(HbaError::MissingField(NAMES[fields.len().min(4)]));
        }
        fields.truncate(needed);
        // Any method will do: only the identifying fields count.
        fields.push(RawField {
            tokens: vec![RawToken {
                token: Token::new("trust"),
                start: 0,
                end: 0,
            }],
        });
        match parse_record(&fields, format)? {
            Record::Rule(rule, _) => Ok(rule.key()),
            Record::Include(_) => Err(HbaError::InvalidConnectionType(fields[0].tokens[0].token.value.clone())),
            Record::Empty => Err(HbaError::MissingField("connection type")),
        }
    }

    /// The connection type.
    pub fn connection(&self) -> ConnectionType {
        self.connection
    }
}

/// How many leading fields identify a rule (type, databases, users, address, netmask).
fn key_field_count(fields: &[RawField]) -> usize {
    let Some(first) = fields.first().and_then(|f| f.tokens.first()) else {
        return 1;
    };
    match ConnectionType::parse(&first.token.value) {
        Some(ConnectionType::Local) | None => 3,
        Some(_) => match fields.get(3).and_then(|f| f.tokens.first()) {
            None => 4,
            Some(t) => {
                let ip_without_cidr = !t.token.is_keyword("all") && !t.token.value.contains('/') && numeric_host(&t.token.value).is_some();
                if ip_without_cidr {
                    5
                } else {
                    4
                }
            }
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AddressKey {
    All,
    SameHost,
    SameNet,
    /// Address, zone, and prefix length (or a non-contiguous netmask).
    Net(IpAddr, Option<String>, Result<u8, IpAddr>),
    Host(String),
}

pub use crate::edit::IncludeKind;

/// An include directive (PostgreSQL 16+): its rules are read from another file, which this
/// crate does not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// Which directive.
    pub kind: IncludeKind,
    /// The file or directory, as written (relative to the including file's directory).
    pub path: String,
}

/// What is wrong with a line or a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HbaError {
    /// A token is longer than the server reads (PostgreSQL: 10239 bytes, Pgpool-II: 255).
    #[error("authentication file token too long")]
    TokenTooLong,
    /// The first field is not a connection type.
    #[error("invalid connection type \"{0}\"")]
    InvalidConnectionType(String),
    /// The connection type exists but not in this format.
    #[error("connection type \"{connection}\" is not supported in {format:?}")]
    ConnectionTypeNotSupported {
        /// The connection type.
        connection: ConnectionType,
        /// The file format.
        format: Format,
    },
    /// The line ends before a required field.
    #[error("end of line before the {0} field")]
    MissingField(&'static str),
    /// A field that takes one value has a comma list.
    #[error("multiple values in the {0} field")]
    MultipleValues(&'static str),
    /// A `local` rule was given an address.
    #[error("a local rule has no address")]
    UnexpectedAddress,
    /// The address is neither an IP address, a keyword nor a host name.
    #[error("invalid IP address \"{0}\"")]
    InvalidAddress(String),
    /// The CIDR suffix is not a valid prefix length for the address family.
    #[error("invalid CIDR mask in address \"{0}\"")]
    InvalidCidr(String),
    /// A host name with a CIDR suffix.
    #[error("specifying both host name and CIDR mask is invalid: \"{0}\"")]
    HostnameWithCidr(String),
    /// The netmask column is not an IP address.
    #[error("invalid IP mask \"{0}\"")]
    InvalidNetmask(String),
    /// Address and netmask are of different IP families.
    #[error("IP address and mask do not match")]
    MaskFamilyMismatch,
    /// Not an authentication method.
    #[error("invalid authentication method \"{0}\"")]
    InvalidMethod(String),
    /// A method the format does not accept, or not on this connection type.
    #[error("authentication method \"{method}\" is not allowed here: {reason}")]
    MethodNotAllowed {
        /// The method.
        method: Method,
        /// Why not.
        reason: &'static str,
    },
    /// An option not written as `name=value`.
    #[error("authentication option not in name=value format: {0}")]
    OptionNotNameValue(String),
    /// An option name the server does not know.
    #[error("unrecognized authentication option name: \"{0}\"")]
    UnknownOption(String),
    /// An option that does not go with this method or connection type, or a bad value.
    #[error("authentication option \"{option}\": {reason}")]
    BadOption {
        /// The option name.
        option: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The method needs an option that is not there.
    #[error("authentication method \"{method}\" requires {needs}")]
    MissingOption {
        /// The method.
        method: Method,
        /// What it needs.
        needs: &'static str,
    },
    /// An include directive without exactly one file name.
    #[error("include directive needs exactly one file name")]
    BadInclude,
    /// A value holds a line break.
    #[error("a value holds a line break")]
    LineBreak,
    /// A value or comment holds a NUL byte or another control character: PostgreSQL's reader
    /// stops at a NUL, so the rest of the line and the lines after it would vanish.
    #[error("a value holds a NUL byte or another control character")]
    ControlChar,
    /// The edit would not read back as intended: the rule cannot be written so that it reads
    /// back as itself, or the new line would change how another line reads (the last line of
    /// the file ends with a `\` that would continue into it).
    #[error("the rule cannot be written there so that the file reads back as intended (is the last line continued with a backslash?)")]
    NotRepresentable,
}

/// Where [`HbaFile::upsert`] puts a rule that is not in the file yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Position {
    /// After the last line.
    #[default]
    End,
    /// Just before the first rule (or include directive), so it is checked first.
    Beginning,
    /// Just before the first rule whose method is `reject`, else at the end.
    BeforeFirstReject,
}

// ---------------------------------------------------------------------------------------
// Tokenizer

#[derive(Debug, Clone)]
struct RawToken {
    token: Token,
    /// Byte offsets of the token's text (quotes included) in the logical line.
    start: usize,
    end: usize,
}

#[derive(Debug, Clone)]
struct RawField {
    tokens: Vec<RawToken>,
}

impl RawField {
    fn start(&self) -> usize {
        self.tokens.first().map_or(0, |t| t.start)
    }
    fn end(&self) -> usize {
        self.tokens.last().map_or(0, |t| t.end)
    }
}

#[derive(Debug, Clone)]
struct Tokenized {
    fields: Vec<RawField>,
    /// Byte offset of the `#` starting a comment.
    comment: Option<usize>,
}

/// The longest token the servers read, in bytes: PostgreSQL 15 has a 10240-byte buffer
/// (`MAX_TOKEN`), Pgpool-II 4.3 a 256-byte one; one byte is the terminator.
fn max_token(format: Format) -> usize {
    match format {
        Format::PgHba => 10239,
        Format::PoolHba => 255,
    }
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Splits a logical line into fields, as `next_field_expand`/`next_token` do.
fn tokenize(line: &str, format: Format) -> Result<Tokenized, HbaError> {
    let bytes = line.as_bytes();
    let mut pos = 0;
    let mut comment = None;
    let mut fields = Vec::new();
    while pos < bytes.len() {
        let mut tokens = Vec::new();
        loop {
            match next_token(line, max_token(format), &mut pos, &mut comment)? {
                None => break,
                Some((token, comma)) => {
                    tokens.push(token);
                    if !comma {
                        break;
                    }
                }
            }
        }
        if !tokens.is_empty() {
            fields.push(RawField { tokens });
        }
    }
    Ok(Tokenized { fields, comment })
}

fn next_token(line: &str, max: usize, pos: &mut usize, comment: &mut Option<usize>) -> Result<Option<(RawToken, bool)>, HbaError> {
    let bytes = line.as_bytes();
    while *pos < bytes.len() && (is_blank(bytes[*pos]) || bytes[*pos] == b',') {
        *pos += 1;
    }
    let start = *pos;
    let mut value: Vec<u8> = Vec::new();
    let (mut in_quote, mut was_quote, mut saw_quote, mut initial_quote) = (false, false, false, false);
    let mut comma = false;
    let mut end = *pos;
    while *pos < bytes.len() {
        let c = bytes[*pos];
        if is_blank(c) && !in_quote {
            break;
        }
        if c == b'#' && !in_quote {
            *comment = Some(*pos);
            *pos = bytes.len();
            break;
        }
        if value.len() >= max {
            return Err(HbaError::TokenTooLong);
        }
        if c == b',' && !in_quote {
            comma = true;
            *pos += 1;
            break;
        }
        if c != b'"' || was_quote {
            value.push(c);
        }
        if in_quote && c == b'"' {
            was_quote = !was_quote;
        } else {
            was_quote = false;
        }
        if c == b'"' {
            in_quote = !in_quote;
            saw_quote = true;
            if value.is_empty() {
                initial_quote = true;
            }
        }
        *pos += 1;
        end = *pos;
    }
    if !saw_quote && value.is_empty() {
        return Ok(None);
    }
    // Only ASCII bytes were left out, so the value is still UTF-8.
    let value = String::from_utf8_lossy(&value).into_owned();
    Ok(Some((
        RawToken {
            token: Token {
                value,
                quoted: initial_quote,
            },
            start,
            end,
        },
        comma,
    )))
}

// ---------------------------------------------------------------------------------------
// Records

enum Record {
    Empty,
    Include(Include),
    /// The rule and the index of its method field.
    Rule(Rule, usize),
}

fn single<'a>(field: &'a RawField, what: &'static str) -> Result<&'a Token, HbaError> {
    match field.tokens.as_slice() {
        [t] => Ok(&t.token),
        _ => Err(HbaError::MultipleValues(what)),
    }
}

/// The field at `*next` (then advances), or the error for a missing `what` field.
fn take<'a>(fields: &'a [RawField], next: &mut usize, what: &'static str) -> Result<&'a RawField, HbaError> {
    let field = fields.get(*next).ok_or(HbaError::MissingField(what))?;
    *next += 1;
    Ok(field)
}

fn parse_record(fields: &[RawField], format: Format) -> Result<Record, HbaError> {
    let Some(first) = fields.first() else {
        return Ok(Record::Empty);
    };
    let conn_token = single(first, "connection type")?;
    if format == Format::PgHba && !conn_token.quoted {
        let kind = match conn_token.value.as_str() {
            "include" => Some(IncludeKind::File),
            "include_if_exists" => Some(IncludeKind::FileIfExists),
            "include_dir" => Some(IncludeKind::Directory),
            _ => None,
        };
        if let Some(kind) = kind {
            return match fields {
                [_, path] if path.tokens.len() == 1 => Ok(Record::Include(Include {
                    kind,
                    path: path.tokens[0].token.value.clone(),
                })),
                _ => Err(HbaError::BadInclude),
            };
        }
    }
    let connection = ConnectionType::parse(&conn_token.value).ok_or_else(|| HbaError::InvalidConnectionType(conn_token.value.clone()))?;
    if !connection.allowed_in(format) {
        return Err(HbaError::InvalidConnectionType(conn_token.value.clone()));
    }
    let mut next = 1;
    let databases: Vec<Token> = take(fields, &mut next, "database")?
        .tokens
        .iter()
        .map(|t| t.token.clone())
        .collect();
    let users: Vec<Token> = take(fields, &mut next, "user")?.tokens.iter().map(|t| t.token.clone()).collect();
    let address = if connection.has_address() {
        let token = single(take(fields, &mut next, "address")?, "address")?;
        let (address, needs_mask) = parse_address(token, None)?;
        if needs_mask {
            let mask = single(take(fields, &mut next, "netmask")?, "netmask")?;
            Some(parse_address(token, Some(mask))?.0)
        } else {
            Some(address)
        }
    } else {
        None
    };
    let method_index = next;
    let method_token = single(take(fields, &mut next, "authentication method")?, "authentication method")?;
    let method = Method::parse(&method_token.value).ok_or_else(|| HbaError::InvalidMethod(method_token.value.clone()))?;
    check_method(method, connection, format)?;
    let mut options = Vec::new();
    for f in &fields[method_index + 1..] {
        for t in &f.tokens {
            let (name, value) = t
                .token
                .value
                .split_once('=')
                .ok_or_else(|| HbaError::OptionNotNameValue(t.token.value.clone()))?;
            options.push(AuthOption::new(name, value));
        }
    }
    check_options(method, connection, &options, format)?;
    Ok(Record::Rule(
        Rule {
            connection,
            databases,
            users,
            address,
            method,
            options,
        },
        method_index,
    ))
}

fn check_method(method: Method, connection: ConnectionType, format: Format) -> Result<(), HbaError> {
    if !method.allowed_in(format) {
        return Err(HbaError::MethodNotAllowed {
            method,
            reason: "Pgpool-II does not support it",
        });
    }
    if format == Format::PoolHba {
        return Ok(());
    }
    let local = connection == ConnectionType::Local;
    let reason = match method {
        Method::Peer if !local => "peer authentication is only supported on local sockets",
        Method::Gss if local => "gssapi authentication is not supported on local sockets",
        Method::Sspi if local => "SSPI authentication is not supported on local sockets",
        Method::Cert if connection != ConnectionType::HostSsl => "cert authentication is only supported on hostssl connections",
        _ => return Ok(()),
    };
    Err(HbaError::MethodNotAllowed { method, reason })
}

/// The options each method takes, as the servers check them (PostgreSQL 15 `parse_hba_auth_opt`
/// and the mandatory-option checks after it; Pgpool-II 4.3 `parse_hba_auth_opt`). Values are
/// checked only for `clientcert`, `clientname` and the RADIUS list lengths; RADIUS server
/// names are not resolved and `ldapurl` is not parsed.
fn check_options(method: Method, connection: ConnectionType, options: &[AuthOption], format: Format) -> Result<(), HbaError> {
    use Method::*;
    // PostgreSQL treats ident on a local socket as peer.
    let method = if connection == ConnectionType::Local && method == Ident {
        Peer
    } else {
        method
    };
    let bad = |option: &AuthOption, reason| HbaError::BadOption {
        option: option.name.clone(),
        reason,
    };
    const LDAP: &[&str] = &[
        "ldapurl",
        "ldaptls",
        "ldapscheme",
        "ldapserver",
        "ldapport",
        "ldapbinddn",
        "ldapbindpasswd",
        "ldapsearchattribute",
        "ldapsearchfilter",
        "ldapbasedn",
        "ldapprefix",
        "ldapsuffix",
    ];
    for o in options {
        let name = o.name.as_str();
        let (methods, reason): (&[Method], &'static str) = match (format, name) {
            (_, "pamservice" | "pam_use_hostname") => (&[Pam], "only valid for authentication method pam"),
            (_, n) if LDAP.contains(&n) => (&[Ldap], "only valid for authentication method ldap"),
            (Format::PoolHba, "backend_use_passwd") => (&[Ldap], "only valid for authentication method ldap"),
            (Format::PoolHba, _) => return Err(HbaError::UnknownOption(o.name.clone())),
            (Format::PgHba, "map") => (
                &[Ident, Peer, Gss, Sspi, Cert],
                "only valid for authentication methods ident, peer, gssapi, sspi, and cert",
            ),
            (Format::PgHba, "clientcert") => {
                if connection != ConnectionType::HostSsl {
                    return Err(bad(o, "can only be configured for hostssl rows"));
                }
                match (o.value.as_str(), method) {
                    ("verify-full", _) => {}
                    ("verify-ca", Cert) => return Err(bad(o, "only verify-full goes with cert authentication")),
                    ("verify-ca", _) => {}
                    _ => return Err(bad(o, "the value must be verify-ca or verify-full")),
                }
                continue;
            }
            (Format::PgHba, "clientname") => {
                if connection != ConnectionType::HostSsl {
                    return Err(bad(o, "can only be configured for hostssl rows"));
                }
                if !matches!(o.value.as_str(), "CN" | "DN") {
                    return Err(bad(o, "the value must be CN or DN"));
                }
                continue;
            }
            (Format::PgHba, "krb_realm" | "include_realm") => (&[Gss, Sspi], "only valid for authentication methods gssapi and sspi"),
            (Format::PgHba, "compat_realm" | "upn_username") => (&[Sspi], "only valid for authentication method sspi"),
            (Format::PgHba, "radiusservers" | "radiusports" | "radiussecrets" | "radiusidentifiers") => {
                (&[Radius], "only valid for authentication method radius")
            }
            (Format::PgHba, _) => return Err(HbaError::UnknownOption(o.name.clone())),
        };
        if !methods.contains(&method) {
            return Err(bad(o, reason));
        }
    }
    if format == Format::PoolHba {
        return Ok(());
    }
    // The last occurrence of an option wins.
    let get = |name: &str| options.iter().rev().find(|o| o.name == name).map(|o| o.value.as_str());
    let has = |name: &str| get(name).is_some();
    if method == Ldap && !has("ldapurl") {
        if has("ldapprefix") || has("ldapsuffix") {
            if [
                "ldapbasedn",
                "ldapbinddn",
                "ldapbindpasswd",
                "ldapsearchattribute",
                "ldapsearchfilter",
            ]
            .iter()
            .any(|n| has(n))
            {
                return Err(HbaError::MissingOption {
                    method,
                    needs: "either ldapprefix/ldapsuffix or the search options (ldapbasedn, ...), not both",
                });
            }
        } else if !has("ldapbasedn") {
            return Err(HbaError::MissingOption {
                method,
                needs: "ldapbasedn, ldapprefix, or ldapsuffix",
            });
        }
        if has("ldapsearchattribute") && has("ldapsearchfilter") {
            return Err(HbaError::MissingOption {
                method,
                needs: "ldapsearchattribute or ldapsearchfilter, not both",
            });
        }
    }
    if method == Radius {
        let count = |name: &str| get(name).map_or(0, list_len);
        let servers = count("radiusservers");
        if servers == 0 {
            return Err(HbaError::MissingOption {
                method,
                needs: "radiusservers",
            });
        }
        let secrets = count("radiussecrets");
        if secrets == 0 {
            return Err(HbaError::MissingOption {
                method,
                needs: "radiussecrets",
            });
        }
        let fits = |n: usize, zero_ok: bool| (zero_ok && n == 0) || n == 1 || n == servers;
        if !fits(secrets, false) || !fits(count("radiusports"), true) || !fits(count("radiusidentifiers"), true) {
            return Err(HbaError::MissingOption {
                method,
                needs: "1 or as many RADIUS secrets, ports and identifiers as servers",
            });
        }
    }
    Ok(())
}

/// The number of elements of a comma list as PostgreSQL's `SplitGUCList` splits it (commas
/// inside double quotes do not count); 0 for an empty value.
fn list_len(value: &str) -> usize {
    if value.trim().is_empty() {
        return 0;
    }
    let mut in_quote = false;
    let mut n = 1;
    for c in value.chars() {
        match c {
            '"' => in_quote = !in_quote,
            ',' if !in_quote => n += 1,
            _ => {}
        }
    }
    n
}

/// Reads the address token (and the netmask token, when given). Returns the address and
/// whether a netmask column is needed (an IP address without CIDR suffix).
fn parse_address(token: &Token, mask: Option<&Token>) -> Result<(Address, bool), HbaError> {
    if token.is_keyword("all") {
        return Ok((Address::All, false));
    }
    if token.is_keyword("samehost") {
        return Ok((Address::SameHost, false));
    }
    if token.is_keyword("samenet") {
        return Ok((Address::SameNet, false));
    }
    let text = token.value.as_str();
    let (host, cidr) = match text.split_once('/') {
        Some((h, c)) => (h, Some(c)),
        None => (text, None),
    };
    let Some((addr, zone)) = numeric_host(host) else {
        if cidr.is_some() {
            return Err(HbaError::HostnameWithCidr(text.to_owned()));
        }
        return Ok((Address::Hostname(text.to_owned()), false));
    };
    let make = |mask: Mask| match (addr, zone) {
        (IpAddr::V6(v6), Some(zone)) => Address::ScopedIp {
            addr: v6,
            zone: zone.to_owned(),
            mask,
        },
        _ => Address::Ip { addr, mask },
    };
    if let Some(cidr) = cidr {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = cidr_bits(cidr, max).ok_or_else(|| HbaError::InvalidCidr(text.to_owned()))?;
        return Ok((make(Mask::Prefix(prefix)), false));
    }
    let Some(mask) = mask else {
        return Ok((make(Mask::Prefix(0)), true));
    };
    let (m, _) = numeric_host(&mask.value).ok_or_else(|| HbaError::InvalidNetmask(mask.value.clone()))?;
    if m.is_ipv4() != addr.is_ipv4() {
        return Err(HbaError::MaskFamilyMismatch);
    }
    Ok((make(Mask::Netmask(m)), false))
}

/// A numeric host as glibc's `getaddrinfo(AI_NUMERICHOST)` reads it: IPv6 (with an optional
/// `%zone`), or IPv4 in any `inet_aton` form (`10.1`, `0x7f.1`, `012.0.0.1`).
fn numeric_host(s: &str) -> Option<(IpAddr, Option<&str>)> {
    if let Ok(v6) = s.parse::<std::net::Ipv6Addr>() {
        return Some((IpAddr::V6(v6), None));
    }
    if let Some((a, zone)) = s.split_once('%') {
        let v6 = a.parse::<std::net::Ipv6Addr>().ok()?;
        return (!zone.is_empty()).then_some((IpAddr::V6(v6), Some(zone)));
    }
    inet_aton(s).map(|v4| (IpAddr::V4(v4), None))
}

/// IPv4 in the classic `inet_aton` forms: 1 to 4 parts, each decimal, octal (leading `0`) or
/// hex (`0x`); the last part fills the remaining bytes.
fn inet_aton(s: &str) -> Option<std::net::Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        values.push(u32::from_str_radix(digits, radix).ok()?);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let room = 8 * (4 - head.len() as u32);
    if room < 32 && *last >> room != 0 {
        return None;
    }
    let mut addr = *last;
    for (i, v) in head.iter().enumerate() {
        addr |= v << (24 - 8 * i as u32);
    }
    Some(addr.into())
}

/// A CIDR prefix length as PostgreSQL reads it (`strtol`: blanks, a sign, decimal digits, and
/// nothing after), between 0 and `max`.
fn cidr_bits(s: &str, max: u8) -> Option<u8> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'+') => (false, &t[1..]),
        Some(b'-') => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = digits.trim_start_matches('0');
    if value.len() > 3 {
        return None;
    }
    let value: u16 = if value.is_empty() { 0 } else { value.parse().ok()? };
    if negative && value != 0 {
        return None;
    }
    u8::try_from(value).ok().filter(|v| *v <= max)
}

// ---------------------------------------------------------------------------------------
// The file

#[derive(Debug, Clone)]
enum Kind {
    Blank,
    Comment,
    Rule(Rule),
    Include(Include),
    Invalid(HbaError),
}

/// One logical line: one or more physical lines (joined by `\` continuations).
#[derive(Debug, Clone)]
struct Line {
    /// The physical lines with their line breaks, exactly as read.
    raw: String,
    /// How many physical lines.
    physical: usize,
    /// The text the server tokenizes (continuations joined, line break removed).
    text: String,
    kind: Kind,
}

impl Line {
    fn new(raw: String, format: Format) -> Line {
        let physical = lines::split(&raw);
        let (text, _) = join_logical(&physical, format);
        let kind = classify(&text, format);
        Line {
            physical: physical.len().max(1),
            raw,
            text,
            kind,
        }
    }
}

/// A pg_hba.conf or pool_hba.conf file, kept line for line.
#[derive(Debug, Clone)]
pub struct HbaFile {
    format: Format,
    lines: Vec<Line>,
}

/// Reads one logical line from the start of `physical` as the server does; returns its text
/// and how many physical lines it spans. PostgreSQL (15+) appends the next line while the text
/// (trailing CR/LF removed) ends with a backslash that is past the previous join point, and
/// drops that backslash, also at the end of the file. Pgpool-II has no continuations.
fn join_logical(physical: &[String], format: Format) -> (String, usize) {
    let mut buf = String::new();
    let mut last_backslash = 0;
    let mut used = 0;
    for p in physical {
        used += 1;
        buf.push_str(p);
        let keep = buf.trim_end_matches(['\r', '\n']).len();
        buf.truncate(keep);
        if format == Format::PgHba && buf.len() > last_backslash && buf.ends_with('\\') {
            buf.pop();
            last_backslash = buf.len();
            continue;
        }
        break;
    }
    (buf, used)
}

fn classify(text: &str, format: Format) -> Kind {
    let tokenized = match tokenize(text, format) {
        Ok(t) => t,
        Err(e) => return Kind::Invalid(e),
    };
    if tokenized.fields.is_empty() {
        return if tokenized.comment.is_some() { Kind::Comment } else { Kind::Blank };
    }
    match parse_record(&tokenized.fields, format) {
        Ok(Record::Rule(rule, _)) => Kind::Rule(rule),
        Ok(Record::Include(inc)) => Kind::Include(inc),
        Ok(Record::Empty) => Kind::Blank,
        Err(e) => Kind::Invalid(e),
    }
}

impl HbaFile {
    /// Reads a file. Never fails: unreadable lines are kept and reported by
    /// [`HbaFile::issues`].
    pub fn parse(text: &str, format: Format) -> Self {
        let physical = lines::split(text);
        let mut lines = Vec::new();
        let mut i = 0;
        while i < physical.len() {
            let (_, used) = join_logical(&physical[i..], format);
            let raw: String = physical[i..i + used].concat();
            lines.push(Line::new(raw, format));
            i += used;
        }
        HbaFile { format, lines }
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// 1-based physical line number of each logical line.
    fn numbers(&self) -> impl Iterator<Item = (usize, &Line)> {
        self.lines.iter().scan(1usize, |n, l| {
            let here = *n;
            *n += l.physical;
            Some((here, l))
        })
    }

    /// The rules with the 1-based number of their (first) line, in file order.
    pub fn rules(&self) -> impl Iterator<Item = (usize, &Rule)> {
        self.numbers().filter_map(|(n, l)| match &l.kind {
            Kind::Rule(r) => Some((n, r)),
            _ => None,
        })
    }

    /// Include directives (PostgreSQL 16+) with their line numbers; the included files are
    /// not read.
    pub fn includes(&self) -> Vec<(usize, &Include)> {
        self.numbers()
            .filter_map(|(n, l)| match &l.kind {
                Kind::Include(i) => Some((n, i)),
                _ => None,
            })
            .collect()
    }

    /// Lines that could not be read, with the number of their first physical line.
    pub fn issues(&self) -> Vec<Issue<HbaError>> {
        self.numbers()
            .filter_map(|(n, l)| match &l.kind {
                Kind::Invalid(e) => Some(Issue { line: n, error: e.clone() }),
                _ => None,
            })
            .collect()
    }

    /// The first rule with this identity.
    pub fn find(&self, key: &RuleKey) -> Option<(usize, &Rule)> {
        self.rules().find(|(_, r)| r.key() == *key)
    }

    /// Makes `rule` present: if a rule with its identity exists (the first one), its method and
    /// options are set in place; otherwise the rule is inserted at `position`, laid out like the
    /// file's rules.
    pub fn upsert(&mut self, rule: &Rule, position: Position) -> Result<Change, HbaError> {
        self.upsert_commented(rule, position, None)
    }

    /// Like [`HbaFile::upsert`]; a newly inserted rule gets `comment` at the end of its line.
    /// An existing rule keeps the comment it has: comments are the DBA's, not the rule's.
    pub fn upsert_commented(&mut self, rule: &Rule, position: Position, comment: Option<&str>) -> Result<Change, HbaError> {
        if comment.is_some_and(|c| c.contains(['\n', '\r'])) {
            return Err(HbaError::LineBreak);
        }
        if comment.is_some_and(|c| crate::edit::forbidden_char(c).is_some()) {
            return Err(HbaError::ControlChar);
        }
        rule.check(self.format)?;
        let key = rule.key();
        let numbers: Vec<usize> = self.numbers().map(|(n, _)| n).collect();
        let found = self.lines.iter().position(|l| matches!(&l.kind, Kind::Rule(r) if r.key() == key));
        if let Some(index) = found {
            if matches!(&self.lines[index].kind, Kind::Rule(r) if r.same_effect(rule)) {
                return Ok(Change::Unchanged);
            }
        }
        // Undo information: an edit touches only the edited line and, when appending, the
        // last line (which may get its missing line break).
        let old_edited = found.map(|i| self.lines[i].clone());
        let old_last = self.lines.last().cloned();
        let mut edited = found.unwrap_or(0);
        let change = if let Some(index) = found {
            let raw = self.rewrite(index, rule);
            self.lines[index] = Line::new(raw, self.format);
            Change::Updated { line: numbers[index] }
        } else {
            let index = match position {
                Position::End => None,
                Position::Beginning => self.lines.iter().position(|l| matches!(l.kind, Kind::Rule(_) | Kind::Include(_))),
                Position::BeforeFirstReject => self
                    .lines
                    .iter()
                    .position(|l| matches!(&l.kind, Kind::Rule(r) if r.method == Method::Reject)),
            }
            .unwrap_or(self.lines.len());
            let mut body = self.layout().render(rule);
            if let Some(c) = comment.map(str::trim).filter(|c| !c.is_empty()) {
                body = format!("{body}\t# {c}");
            }
            let nl = lines::newline(self.lines.iter().map(|l| l.raw.as_str()));
            let line = numbers
                .get(index)
                .copied()
                .unwrap_or_else(|| self.lines.iter().map(|l| l.physical).sum::<usize>() + 1);
            let last = if index >= self.lines.len() {
                self.lines.last_mut().map(|l| &mut l.raw)
            } else {
                None
            };
            let raw = lines::new_line(last, &body, nl);
            if let Some(last) = self.lines.last_mut().filter(|_| index >= numbers.len()) {
                *last = Line::new(std::mem::take(&mut last.raw), self.format);
            }
            let at = index.min(self.lines.len());
            self.lines.insert(at, Line::new(raw, self.format));
            edited = at;
            Change::Added { line }
        };
        // The edited line must read back as the rule, and no other line may read differently.
        let ok = matches!(&self.lines[edited].kind, Kind::Rule(r) if r.key() == key && r.same_effect(rule))
            && self.reads_back_around(edited, edited);
        if !ok {
            match old_edited {
                Some(line) => self.lines[edited] = line,
                None => {
                    self.lines.remove(edited);
                    if let (Some(last), Some(old)) = (self.lines.last_mut(), old_last) {
                        *last = old;
                    }
                }
            }
            return Err(HbaError::NotRepresentable);
        }
        Ok(change)
    }

    /// Removes every rule with this identity.
    pub fn remove(&mut self, key: &RuleKey) -> Change {
        let numbers: Vec<usize> = self.numbers().map(|(n, _)| n).collect();
        let before = self.lines.clone();
        let mut removed = Vec::new();
        let mut seams = Vec::new();
        let mut index = 0;
        self.lines.retain(|l| {
            let hit = matches!(&l.kind, Kind::Rule(r) if r.key() == *key);
            if hit {
                removed.push(numbers[index]);
                // Where the removed line was, its neighbours now meet.
                seams.push(index - (removed.len() - 1));
            }
            index += 1;
            !hit
        });
        if removed.is_empty() {
            return Change::Unchanged;
        }
        if !seams.iter().all(|&i| self.reads_back_around(i.saturating_sub(1), i)) {
            // Removing the lines would change how a neighbouring line is read (a backslash
            // continuation); keep the file as it was rather than change another rule.
            self.lines = before;
            return Change::Unchanged;
        }
        Change::Removed { lines: removed }
    }

    /// Whether the lines `first..=last` and their neighbours read back as the same logical
    /// lines. Only a backslash continuation carries one line into the next, so an edit can
    /// only change how its own line and the ones next to it are read.
    fn reads_back_around(&self, first: usize, last: usize) -> bool {
        if self.lines.is_empty() {
            return true;
        }
        let start = first.saturating_sub(1);
        let end = (last + 1).min(self.lines.len() - 1);
        if start > end {
            return true;
        }
        let window = &self.lines[start..=end];
        let text: String = window.iter().map(|l| l.raw.as_str()).collect();
        let again = HbaFile::parse(&text, self.format);
        again.lines.len() == window.len() && again.lines.iter().zip(window).all(|(a, b)| a.raw == b.raw)
    }

    /// The new raw text of line `index` with `rule`'s method and options: on a single physical
    /// line only the method and options are replaced; a continued line is written anew on one
    /// line. The trailing comment and the line ending stay.
    fn rewrite(&self, index: usize, rule: &Rule) -> String {
        let line = &self.lines[index];
        let ending = if line.raw.ends_with("\r\n") {
            "\r\n"
        } else if line.raw.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        let text = line.text.as_str();
        let Ok(tokenized) = tokenize(text, self.format) else {
            return format!("{}{ending}", self.layout().render(rule));
        };
        let tail_start = tokenized.fields.last().map_or(text.len(), RawField::end);
        if line.physical == 1 {
            if let Ok(Record::Rule(_, method_index)) = parse_record(&tokenized.fields, self.format) {
                let body = lines::strip_crlf(&line.raw);
                let start = tokenized.fields[method_index].start();
                if let (Some(head), Some(tail)) = (body.get(..start), body.get(tail_start..)) {
                    return format!("{head}{}{tail}{ending}", rule.method_text());
                }
            }
        }
        let tail = text.get(tail_start..).unwrap_or("");
        format!("{}{tail}{ending}", self.layout().render(rule))
    }

    /// The column layout of the file's rules.
    fn layout(&self) -> Layout {
        let mut aligned: Vec<[Option<usize>; 5]> = Vec::new();
        let (mut compact_space, mut compact_tab, mut tabbed) = (0usize, 0usize, 0usize);
        for l in &self.lines {
            if l.physical != 1 {
                continue;
            }
            let Kind::Rule(rule) = &l.kind else { continue };
            let body = l.text.as_str();
            let Ok(tokenized) = tokenize(body, self.format) else { continue };
            let Ok(Record::Rule(_, method_index)) = parse_record(&tokenized.fields, self.format) else {
                continue;
            };
            let fields = &tokenized.fields[..=method_index];
            let separators: Vec<&str> = fields
                .windows(2)
                .map(|w| body.get(w[0].end()..w[1].start()).unwrap_or(" "))
                .collect();
            if separators.iter().all(|s| *s == " ") {
                compact_space += 1;
                continue;
            }
            if separators.iter().all(|s| *s == "\t") {
                compact_tab += 1;
                continue;
            }
            if separators.iter().any(|s| s.contains('\t')) {
                tabbed += 1;
            }
            let mut slots = [None; 5];
            let mut slot_of = vec![Some(0), Some(1), Some(2)];
            if rule.connection.has_address() {
                slot_of.push(Some(3));
                if method_index == 5 {
                    slot_of.push(None);
                }
            }
            slot_of.push(Some(4));
            for (field, slot) in fields.iter().zip(slot_of) {
                if let Some(s) = slot {
                    slots[s] = Some(visual_column(body, field.start()));
                }
            }
            aligned.push(slots);
        }
        let n_aligned = aligned.len();
        if n_aligned == 0 && compact_space + compact_tab == 0 {
            return Layout::stock(self.format);
        }
        if compact_space > n_aligned || compact_tab > n_aligned {
            return Layout::Compact(if compact_tab > compact_space { "\t" } else { " " });
        }
        let mut columns = [0usize; 5];
        for (s, column) in columns.iter_mut().enumerate() {
            let mut counts: HashMap<usize, usize> = HashMap::new();
            for slots in &aligned {
                if let Some(c) = slots[s] {
                    *counts.entry(c).or_default() += 1;
                }
            }
            *column = counts.into_iter().max_by_key(|&(c, n)| (n, c)).map_or(0, |(c, _)| c);
        }
        for s in 1..5 {
            if columns[s] <= columns[s - 1] {
                let step = if s >= 2 {
                    columns[s - 1].saturating_sub(columns[s - 2]).max(8)
                } else {
                    8
                };
                columns[s] = columns[s - 1] + step;
            }
        }
        Layout::Aligned {
            columns,
            tabs: tabbed * 2 > n_aligned,
        }
    }
}

impl fmt::Display for HbaFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for l in &self.lines {
            f.write_str(&l.raw)?;
        }
        Ok(())
    }
}

/// The screen column of byte offset `at` (tabs to multiples of 8).
fn visual_column(s: &str, at: usize) -> usize {
    let mut col = 0;
    for c in s.get(..at).unwrap_or(s).chars() {
        if c == '\t' {
            col = (col / 8 + 1) * 8;
        } else {
            col += 1;
        }
    }
    col
}

enum Layout {
    /// Start columns of type, database, user, address and method; pad with tabs or spaces.
    Aligned { columns: [usize; 5], tabs: bool },
    /// Fields joined by one separator.
    Compact(&'static str),
}

impl Layout {
    fn stock(format: Format) -> Layout {
        Layout::Aligned {
            columns: match format {
                // /usr/share/postgresql/15/pg_hba.conf.sample
                Format::PgHba => [0, 8, 24, 40, 64],
                // Pgpool-II's pool_hba.conf.sample
                Format::PoolHba => [0, 8, 20, 32, 54],
            },
            tabs: false,
        }
    }

    fn render(&self, rule: &Rule) -> String {
        let (cells, method) = rule.cells();
        match self {
            Layout::Compact(sep) => {
                let mut all = cells;
                all.push(method);
                all.join(sep)
            }
            Layout::Aligned { columns, tabs } => {
                let mut out = String::new();
                let mut col = 0usize;
                let mut placed: Vec<(usize, String)> = cells.into_iter().enumerate().collect();
                placed.push((4, method));
                for (slot, text) in placed {
                    if !out.is_empty() {
                        pad(&mut out, &mut col, columns[slot], *tabs);
                    }
                    col += text.chars().count();
                    out.push_str(&text);
                }
                out
            }
        }
    }
}

/// Pads from screen column `col` to `target` (at least one separator).
fn pad(out: &mut String, col: &mut usize, target: usize, tabs: bool) {
    let start = *col;
    if tabs {
        while (*col / 8 + 1) * 8 <= target {
            out.push('\t');
            *col = (*col / 8 + 1) * 8;
        }
    }
    while *col < target {
        out.push(' ');
        *col += 1;
    }
    if *col == start {
        out.push(if tabs { '\t' } else { ' ' });
        *col = if tabs { (*col / 8 + 1) * 8 } else { *col + 1 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(text: &str) -> HbaFile {
        HbaFile::parse(text, Format::PgHba)
    }

    fn rule(text: &str) -> Rule {
        Rule::parse(text, Format::PgHba).unwrap()
    }

    fn values(tokens: &[Token]) -> Vec<(&str, bool)> {
        tokens.iter().map(|t| (t.value(), t.is_quoted())).collect()
    }

    #[test]
    fn tokenizer_follows_postgres() {
        let t = tokenize(r#"host "my db",b , c "a""b" x#y z"#, Format::PgHba).unwrap();
        let fields: Vec<Vec<(String, bool)>> = t
            .fields
            .iter()
            .map(|f| f.tokens.iter().map(|t| (t.token.value.clone(), t.token.quoted)).collect())
            .collect();
        assert_eq!(
            fields,
            vec![
                vec![("host".into(), false)],
                vec![("my db".into(), true), ("b".into(), false)],
                // "b ," ends the field at the blank: ",c" starts a new one.
                vec![("c".into(), false)],
                vec![("a\"b".into(), true)],
                vec![("x".into(), false)],
            ]
        );
        assert_eq!(t.comment, Some(r#"host "my db",b , c "a""b" x"#.len()));
        // A quote later in a token does not make it quoted: a"ll" is the keyword all.
        let t = tokenize(r#"a"ll" "#, Format::PgHba).unwrap();
        assert!(t.fields[0].tokens[0].token.is_keyword("all"));
        let pool = Format::PoolHba;
        assert_eq!(tokenize(&"x".repeat(255), pool).map(|t| t.fields.len()), Ok(1));
        assert_eq!(tokenize(&"x".repeat(256), pool).map(|_| ()), Err(HbaError::TokenTooLong));
        let pg = Format::PgHba;
        assert_eq!(tokenize(&"x".repeat(10239), pg).map(|t| t.fields.len()), Ok(1));
        assert_eq!(tokenize(&"x".repeat(10240), pg).map(|_| ()), Err(HbaError::TokenTooLong));
    }

    #[test]
    fn parses_rules_of_every_shape() {
        let r = rule("local all postgres peer");
        assert_eq!(r.connection, ConnectionType::Local);
        assert_eq!(r.address, None);
        assert_eq!(r.method, Method::Peer);
        let r = rule(r#"hostssl "db one",+admins,@dbs.txt,/^x\d$ "all",u 10.1.2.0 255.255.255.0 cert clientcert=verify-full map="a b""c""#);
        assert_eq!(
            values(&r.databases),
            vec![("db one", true), ("+admins", false), ("@dbs.txt", false), (r"/^x\d$", false)]
        );
        assert_eq!(values(&r.users), vec![("all", true), ("u", false)]);
        assert_eq!(
            r.address,
            Some(Address::Ip {
                addr: "10.1.2.0".parse().unwrap(),
                mask: Mask::Netmask("255.255.255.0".parse().unwrap())
            })
        );
        assert_eq!(
            r.options,
            vec![AuthOption::new("clientcert", "verify-full"), AuthOption::new("map", "a b\"c")]
        );
        let r = rule("host replication repl ::1/128 scram-sha-256 # comment");
        assert_eq!(r.address.map(|a| a.to_string()).as_deref(), Some("::1/128"));
        for (text, address) in [
            ("host all all samenet md5", Address::SameNet),
            ("host all all samehost md5", Address::SameHost),
            ("host all all all md5", Address::All),
            ("host all all .example.com md5", Address::Hostname(".example.com".into())),
            ("host all all db1.example.com md5", Address::Hostname("db1.example.com".into())),
            (r#"host all all "samenet" md5"#, Address::Hostname("samenet".into())),
        ] {
            assert_eq!(rule(text).address, Some(address), "{text}");
        }
        for ct in ["hostgssenc", "hostnogssenc", "hostnossl"] {
            assert!(Rule::parse(&format!("{ct} all all 0.0.0.0/0 reject"), Format::PgHba).is_ok());
        }
    }

    #[test]
    fn rejects_what_postgres_rejects() {
        for (text, error) in [
            ("hots all all 1.2.3.4/32 md5", HbaError::InvalidConnectionType("hots".into())),
            ("host all", HbaError::MissingField("user")),
            ("host all all", HbaError::MissingField("address")),
            ("host all all 10.0.0.1 md5", HbaError::InvalidNetmask("md5".into())),
            ("host all all 10.0.0.1", HbaError::MissingField("netmask")),
            ("host all all 10.0.0.0/33 md5", HbaError::InvalidCidr("10.0.0.0/33".into())),
            ("host all all foo/24 md5", HbaError::HostnameWithCidr("foo/24".into())),
            ("host all all 10.0.0.1 ffff:: md5", HbaError::MaskFamilyMismatch),
            ("host all all 1.2.3.4/32,5.6.7.8/32 md5", HbaError::MultipleValues("address")),
            ("host all all 1.2.3.4/32 krb5", HbaError::InvalidMethod("krb5".into())),
            (
                "host all all 1.2.3.4/32 md5,trust",
                HbaError::MultipleValues("authentication method"),
            ),
            (
                "host all all 1.2.3.4/32 ldap ldapserver",
                HbaError::OptionNotNameValue("ldapserver".into()),
            ),
            ("local,host all all trust", HbaError::MultipleValues("connection type")),
            ("include a b", HbaError::BadInclude),
        ] {
            assert_eq!(Rule::parse(text, Format::PgHba).err(), Some(error), "{text}");
        }
        for text in ["host all all 1.2.3.4/32 peer", "local all all gss", "host all all 1.2.3.4/32 cert"] {
            assert!(
                matches!(Rule::parse(text, Format::PgHba), Err(HbaError::MethodNotAllowed { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn pool_hba_format() {
        let pool = |t: &str| Rule::parse(t, Format::PoolHba);
        assert!(pool("local all all trust").is_ok());
        assert!(pool("host all pgpool 10.0.0.0/24 scram-sha-256").is_ok());
        assert!(pool("hostssl all all 0.0.0.0/0 cert").is_ok());
        assert!(pool("host all all 0.0.0.0/0 password").is_ok());
        assert!(pool("host all all 0.0.0.0/0 pam pamservice=pgpool").is_ok());
        assert_eq!(
            pool("hostgssenc all all 0.0.0.0/0 trust").err(),
            Some(HbaError::InvalidConnectionType("hostgssenc".into()))
        );
        assert!(matches!(pool("local all all peer"), Err(HbaError::MethodNotAllowed { .. })));
        assert!(matches!(
            pool("host all all 1.2.3.4/32 ident"),
            Err(HbaError::MethodNotAllowed { .. })
        ));
        let f = HbaFile::parse("include other.conf\nlocal all all trust \\\n", Format::PoolHba);
        // No include directives and no continuation in pool_hba.conf: the backslash is an
        // option without '='.
        assert_eq!(
            f.issues(),
            vec![
                Issue {
                    line: 1,
                    error: HbaError::InvalidConnectionType("include".into())
                },
                Issue {
                    line: 2,
                    error: HbaError::OptionNotNameValue("\\".into())
                },
            ]
        );
        assert!(f.includes().is_empty());
    }

    #[test]
    fn continuation_lines_and_numbers() {
        let text = "# c\nhost all all \\\n   127.0.0.1/32 \\\n trust\nlocal all all peer\nbad line\n";
        let f = pg(text);
        assert_eq!(f.to_string(), text);
        let rules: Vec<(usize, String)> = f.rules().map(|(n, r)| (n, r.to_string())).collect();
        assert_eq!(
            rules,
            vec![
                (2, "host all all 127.0.0.1/32 trust".to_owned()),
                (5, "local all all peer".to_owned())
            ]
        );
        assert_eq!(
            f.issues(),
            vec![Issue {
                line: 6,
                error: HbaError::InvalidConnectionType("bad".into())
            }]
        );
        // A comment ending in a backslash swallows the next line, as in PostgreSQL.
        let f = pg("# note \\\nhost all all 0.0.0.0/0 trust\n");
        assert_eq!(f.rules().count(), 0);
        // The backslash must be past the previous join point.
        let f = pg("local all all \\\\\n\ntrust\n");
        assert_eq!(f.issues().len(), 2);
    }

    #[test]
    fn includes_are_noticed() {
        let f = pg("include_dir conf.d\ninclude \"extra rules.conf\"\ninclude_if_exists x\nlocal all all peer\n");
        let inc: Vec<(usize, IncludeKind, &str)> = f.includes().iter().map(|(n, i)| (*n, i.kind, i.path.as_str())).collect();
        assert_eq!(
            inc,
            vec![
                (1, IncludeKind::Directory, "conf.d"),
                (2, IncludeKind::File, "extra rules.conf"),
                (3, IncludeKind::FileIfExists, "x"),
            ]
        );
        assert!(f.issues().is_empty());
        let mut f = f;
        let r = rule("host all all 10.0.0.0/8 md5");
        assert_eq!(f.upsert(&r, Position::Beginning), Ok(Change::Added { line: 1 }));
    }

    #[test]
    fn identity_normalises_lists_quotes_and_masks() {
        let key = |t: &str| RuleKey::parse(t, Format::PgHba).unwrap();
        assert_eq!(
            key("host a,b x,y 10.0.0.0/24"),
            key(r#"host "b",a y,"x" 10.0.0.0 255.255.255.0 md5"#)
        );
        assert_eq!(key("host all all db.EXAMPLE.com"), key("host all all DB.example.com"));
        assert_ne!(key("host all all 10.0.0.5/24"), key("host all all 10.0.0.0/24"));
        assert_ne!(key("host all all 10.0.0.0/24"), key("hostssl all all 10.0.0.0/24"));
        assert_ne!(key("host all all 10.0.0.0/24"), key(r#"host "all" all 10.0.0.0/24"#));
        assert_ne!(key("host +g all all"), key(r#"host "+g" all all"#));
        assert_eq!(key("local all postgres"), rule("local all postgres peer").key());
        assert_eq!(
            key("host all all ::1/128"),
            key("host all all 0:0:0::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert_eq!(
            RuleKey::parse("host all all", Format::PgHba),
            Err(HbaError::MissingField("address"))
        );
        assert_eq!(
            RuleKey::parse("host all all 10.0.0.1", Format::PgHba),
            Err(HbaError::MissingField("netmask"))
        );
        assert_eq!(RuleKey::parse("", Format::PgHba), Err(HbaError::MissingField("connection type")));
    }

    #[test]
    fn upsert_changes_method_in_place() {
        let text = "# head\nhost    all   all   10.0.0.0 255.255.255.0   md5   # keep me\r\nlocal all all peer\n";
        let mut f = pg(text);
        let r = rule("host all all 10.0.0.0/24 scram-sha-256");
        assert_eq!(f.upsert(&r, Position::End), Ok(Change::Updated { line: 2 }));
        assert_eq!(
            f.to_string(),
            "# head\nhost    all   all   10.0.0.0 255.255.255.0   scram-sha-256   # keep me\r\nlocal all all peer\n"
        );
        assert_eq!(f.upsert(&r, Position::End), Ok(Change::Unchanged));
        let with_opts = rule("host all all 10.0.0.0/24 ldap ldapserver=ldap.example.com ldapprefix=\"cn=\"");
        assert_eq!(f.upsert(&with_opts, Position::End), Ok(Change::Updated { line: 2 }));
        assert!(f
            .to_string()
            .contains("255.255.255.0   ldap ldapserver=ldap.example.com ldapprefix=cn=   # keep me\r\n"));
        let reordered = rule("host all all 10.0.0.0/24 ldap ldapprefix=cn= ldapserver=ldap.example.com");
        assert_eq!(f.upsert(&reordered, Position::End), Ok(Change::Unchanged));
    }

    #[test]
    fn upsert_rewrites_a_continued_rule_on_one_line() {
        let mut f = pg("host all all \\\n 10.0.0.0/8 trust # c\nlocal all all peer\n");
        let r = rule("host all all 10.0.0.0/8 md5");
        assert_eq!(f.upsert(&r, Position::End), Ok(Change::Updated { line: 1 }));
        assert_eq!(f.to_string(), "host all all 10.0.0.0/8 md5 # c\nlocal all all peer\n");
        assert_eq!(f.rules().map(|(n, _)| n).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn insert_positions() {
        let text = "# top\n\nlocal all all peer\nhost all all 0.0.0.0/0 reject\nhost all all ::/0 reject\n# end\n";
        let r = rule("host db u 10.0.0.1/32 md5");
        let mut f = pg(text);
        assert_eq!(f.upsert(&r, Position::Beginning), Ok(Change::Added { line: 3 }));
        assert_eq!(
            f.rules().next().map(|(_, r)| r.to_string()).as_deref(),
            Some("host db u 10.0.0.1/32 md5")
        );
        let mut f = pg(text);
        assert_eq!(f.upsert(&r, Position::BeforeFirstReject), Ok(Change::Added { line: 4 }));
        let mut f = pg(text);
        assert_eq!(f.upsert(&r, Position::End), Ok(Change::Added { line: 7 }));
        assert!(f.to_string().starts_with(text));
        let mut f = pg("local all all peer\n");
        assert_eq!(f.upsert(&r, Position::BeforeFirstReject), Ok(Change::Added { line: 2 }));
        let mut f = pg("");
        assert_eq!(f.upsert(&r, Position::Beginning), Ok(Change::Added { line: 1 }));
        // No final line break: the new last line has none either.
        let mut f = pg("local all all peer");
        assert!(f.upsert(&r, Position::End).unwrap().is_changed());
        assert_eq!(f.to_string(), "local all all peer\nhost db u 10.0.0.1/32 md5");
        // CRLF files get CRLF lines.
        let mut f = pg("local all all peer\r\n");
        assert!(f.upsert(&r, Position::End).unwrap().is_changed());
        assert_eq!(f.to_string(), "local all all peer\r\nhost db u 10.0.0.1/32 md5\r\n");
    }

    #[test]
    fn new_lines_follow_the_file_layout() {
        // PostgreSQL's stock columns.
        let stock = "local   all             all                                     peer\nhost    all             all             127.0.0.1/32            scram-sha-256\n";
        let mut f = pg(stock);
        let r = rule("host replication repl samenet scram-sha-256");
        assert!(f.upsert(&r, Position::End).unwrap().is_changed());
        assert!(f
            .to_string()
            .ends_with("\nhost    replication     repl            samenet                 scram-sha-256\n"));
        let r = rule("local db u md5");
        assert!(f.upsert(&r, Position::End).unwrap().is_changed());
        assert!(f
            .to_string()
            .ends_with("\nlocal   db              u                                       md5\n"));
        // Compact files stay compact.
        let mut f = pg("local all all peer\nhost all all 127.0.0.1/32 md5\n");
        assert!(f.upsert(&rule("host a b 10.0.0.0/8 trust"), Position::End).unwrap().is_changed());
        assert!(f.to_string().ends_with("\nhost a b 10.0.0.0/8 trust\n"));
        // Tab-aligned files get tabs.
        let mut f = pg("local\tall\t\tall\t\t\t\tpeer\nhost\tall\t\tall\t\t127.0.0.1/32\t\tmd5\n");
        assert!(f.upsert(&rule("host db u 10.0.0.0/8 trust"), Position::End).unwrap().is_changed());
        assert!(f.to_string().ends_with("\nhost\tdb\t\tu\t\t10.0.0.0/8\t\ttrust\n"), "{f}");
        // No rules: stock columns of the format.
        let mut f = HbaFile::parse("# empty\n", Format::PoolHba);
        assert!(f
            .upsert(
                &Rule::parse("host all pgpool 0.0.0.0/0 scram-sha-256", Format::PoolHba).unwrap(),
                Position::End
            )
            .unwrap()
            .is_changed());
        assert_eq!(
            f.to_string(),
            "# empty\nhost    all         pgpool      0.0.0.0/0             scram-sha-256\n"
        );
        // Long fields still get a separator.
        let mut f = pg("");
        assert!(f
            .upsert(
                &rule("host a_very_long_database_name_here another_long_user_name_x 2001:db8:1234:5678::/64 md5"),
                Position::End
            )
            .unwrap()
            .is_changed());
        assert_eq!(f.rules().count(), 1);
    }

    #[test]
    fn upsert_refuses_unwritable_rules() {
        let mut f = pg("local all all peer\n");
        let mut r = rule("local all all trust");
        r.address = Some(Address::All);
        assert_eq!(f.upsert(&r, Position::End), Err(HbaError::UnexpectedAddress));
        let r = Rule::parse("host all all 0.0.0.0/0 peer", Format::PoolHba);
        assert!(r.is_err());
        let mut r = rule("host all all 0.0.0.0/0 trust");
        r.method = Method::Peer;
        assert!(matches!(f.upsert(&r, Position::End), Err(HbaError::MethodNotAllowed { .. })));
        let mut r = rule("host all all 0.0.0.0/0 trust");
        r.users = vec![Token::literal("a\nb")];
        assert_eq!(f.upsert(&r, Position::End), Err(HbaError::LineBreak));
        assert_eq!(f.to_string(), "local all all peer\n");
        // An existing line at the end of the file that ends with a backslash would swallow a
        // new line: refused, file unchanged.
        let mut f = pg("local all all peer \\");
        assert_eq!(
            f.upsert(&rule("host a b 10.0.0.0/8 trust"), Position::End),
            Err(HbaError::NotRepresentable)
        );
        assert_eq!(f.to_string(), "local all all peer \\");
    }

    #[test]
    fn tokens_with_odd_characters_round_trip() {
        let mut f = pg("");
        let r = Rule {
            connection: ConnectionType::Host,
            databases: vec![
                Token::literal("all"),
                Token::new("+my group"),
                Token::literal("a\"b,c d#e"),
                Token::new("x\\"),
            ],
            users: vec![Token::new("@users file"), Token::new("")],
            address: Some(Address::Hostname("samenet".into())),
            method: Method::Ldap,
            options: vec![
                AuthOption::new("ldapsearchfilter", "(uid=$username) # x"),
                AuthOption::new("ldapbasedn", ""),
            ],
        };
        assert!(f.upsert(&r, Position::End).unwrap().is_changed());
        let (_, back) = f.rules().next().unwrap();
        assert_eq!(back.key(), r.key());
        // Values that need quotes come back quoted, which only matters for keywords and
        // prefixes, and those keep their meaning.
        let mut expected = r.clone();
        expected.databases[3] = Token::literal("x\\");
        expected.users[1] = Token::literal("");
        assert_eq!(back, &expected);
        assert_eq!(f.upsert(&r, Position::End), Ok(Change::Unchanged));
    }

    #[test]
    fn remove_by_key() {
        let mut f = pg("local all all peer\nhost all all 10.0.0.0/8 md5\n# x\nhost all all 10.0.0.0 255.0.0.0 trust\n");
        let key = RuleKey::parse("host all all 10.0.0.0/8", Format::PgHba).unwrap();
        assert_eq!(f.remove(&key), Change::Removed { lines: vec![2, 4] });
        assert_eq!(f.to_string(), "local all all peer\n# x\n");
        assert_eq!(f.remove(&key), Change::Unchanged);
        let mut f = pg("local all all \\\n peer\nhost a b c.d trust\n");
        let key = RuleKey::parse("local all all", Format::PgHba).unwrap();
        assert_eq!(f.remove(&key), Change::Removed { lines: vec![1] });
        assert_eq!(f.to_string(), "host a b c.d trust\n");
    }

    #[test]
    fn numeric_hosts_as_glibc_reads_them() {
        let v4 = |s: &str| numeric_host(s).map(|(ip, _)| ip.to_string());
        assert_eq!(v4("127.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("012.0.0.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(v4("10").as_deref(), Some("0.0.0.10"));
        assert_eq!(v4("1.2.65535").as_deref(), Some("1.2.255.255"));
        assert_eq!(v4("1.2.65536"), None);
        assert_eq!(v4("256.1.1.1"), None);
        assert_eq!(v4("08.1.1.1"), None);
        assert_eq!(v4("1..1"), None);
        assert_eq!(v4("+1.2.3.4"), None);
        assert_eq!(v4("db1.example.com"), None);
        assert_eq!(v4("1.2.3.4.5"), None);
        assert_eq!(numeric_host("fe80::1%lo"), Some(("fe80::1".parse().unwrap(), Some("lo"))));
        assert_eq!(numeric_host("1.2.3.4%lo"), None);
        assert_eq!(cidr_bits("24", 32), Some(24));
        assert_eq!(cidr_bits("+8", 32), Some(8));
        assert_eq!(cidr_bits("-0", 32), Some(0));
        assert_eq!(cidr_bits("008", 32), Some(8));
        assert_eq!(cidr_bits(" 8", 32), Some(8));
        assert_eq!(cidr_bits("", 32), None);
        assert_eq!(cidr_bits("33", 32), None);
        assert_eq!(cidr_bits("-1", 32), None);
        assert_eq!(cidr_bits("8 ", 32), None);
        assert_eq!(cidr_bits("128", 128), Some(128));
        assert_eq!(cidr_bits("99999999999999999999", 128), None);
        let r = rule("host all all fe80::1%eth0/64 md5");
        assert_eq!(r.address.as_ref().map(|a| a.to_string()).as_deref(), Some("fe80::1%eth0/64"));
        assert_ne!(r.key(), rule("host all all fe80::1/64 md5").key());
        assert_eq!(rule(r#"host all all "" md5"#).address, Some(Address::Hostname(String::new())));
    }

    #[test]
    fn options_are_checked_per_method() {
        let err = |t: &str| Rule::parse(t, Format::PgHba).err();
        assert_eq!(
            err("host all all 1.2.3.4/32 md5 foo=bar"),
            Some(HbaError::UnknownOption("foo".into()))
        );
        assert!(matches!(err("host all all 1.2.3.4/32 md5 map=x"), Some(HbaError::BadOption { .. })));
        assert!(matches!(
            err("host all all 1.2.3.4/32 md5 clientcert=verify-ca"),
            Some(HbaError::BadOption { .. })
        ));
        assert!(matches!(
            err("hostssl all all 1.2.3.4/32 cert clientcert=verify-ca"),
            Some(HbaError::BadOption { .. })
        ));
        assert!(matches!(
            err("hostssl all all 1.2.3.4/32 md5 clientname=XN"),
            Some(HbaError::BadOption { .. })
        ));
        assert!(matches!(
            err("host all all 1.2.3.4/32 ldap ldapserver=x"),
            Some(HbaError::MissingOption { .. })
        ));
        assert!(matches!(
            err("host all all 1.2.3.4/32 ldap ldapprefix=x ldapbasedn=y"),
            Some(HbaError::MissingOption { .. })
        ));
        assert!(matches!(
            err(r#"host all all 1.2.3.4/32 radius radiusservers="a,b" radiussecrets="x,y,z""#),
            Some(HbaError::MissingOption { .. })
        ));
        assert!(matches!(
            err("host all all 1.2.3.4/32 radius radiussecrets=x"),
            Some(HbaError::MissingOption { .. })
        ));
        assert_eq!(err("local all all ident map=m"), None);
        assert_eq!(
            err("hostssl all all 1.2.3.4/32 scram-sha-256 clientcert=verify-full clientname=DN"),
            None
        );
        assert_eq!(err("host all all 1.2.3.4/32 ldap ldapurl=ldap://x/dc=y"), None);
        assert_eq!(
            err("host all all 1.2.3.4/32 radius radiusservers=\"a,b\" radiussecrets=s radiusports=\"1812,1813\""),
            None
        );
        let pool = |t: &str| Rule::parse(t, Format::PoolHba).err();
        assert_eq!(pool("host all all 1.2.3.4/32 pam pamservice=pgpool"), None);
        assert_eq!(pool("host all all 1.2.3.4/32 ldap ldapserver=x backend_use_passwd=1"), None);
        assert_eq!(
            pool("host all all 1.2.3.4/32 md5 map=x"),
            Some(HbaError::UnknownOption("map".into()))
        );
        assert!(matches!(
            pool("host all all 1.2.3.4/32 md5 pamservice=x"),
            Some(HbaError::BadOption { .. })
        ));
    }

    #[test]
    fn token_parse_list() {
        let list = Token::parse_list(r#"db1,"my db",+admins"#).unwrap();
        assert_eq!(values(&list), vec![("db1", false), ("my db", true), ("+admins", false)]);
        assert!(Token::parse_list("a b").is_err());
        assert!(Token::parse_list("").is_err());
        assert_eq!(Address::parse("10.0.0.0/24").unwrap().to_string(), "10.0.0.0/24");
        assert_eq!(Address::parse("10.0.0.1"), Err(HbaError::MissingField("netmask")));
    }
}
