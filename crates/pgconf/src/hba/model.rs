//! The values of a `pg_hba.conf`/`pool_hba.conf` file: formats, connection types, methods,
//! tokens, addresses, options, [`Rule`] and its identity [`RuleKey`], include directives,
//! [`HbaError`] and insert [`Position`]s. Kept apart from the file and its edits so that the
//! public vocabulary can be read in one place; all of it is re-exported by `pgconf::hba`.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use super::lex::{lex, Lexed, Tok};
use super::record::{numeric_host, parse_address, parse_record, Record, RuleView};
use super::IncludeKind;

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
    pub(super) value: String,
    pub(super) quoted: bool,
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
        let lexed = lex(text, Format::PgHba)?;
        match (lexed.len(), lexed.field(0)) {
            (1, Some(field)) => Ok(field
                .iter()
                .map(|t| Token {
                    value: t.value.to_string(),
                    quoted: t.quoted,
                })
                .collect()),
            (0, _) => Err(HbaError::MissingField("list")),
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
        is_special(&self.value, self.quoted, databases)
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

/// Whether a name has a special meaning in a database (`databases == true`) or user field: a
/// keyword, or an unquoted `+`, `@` or `/` prefix.
fn is_special(value: &str, quoted: bool, databases: bool) -> bool {
    if quoted {
        return false;
    }
    let keywords: &[&str] = if databases {
        &["all", "sameuser", "samerole", "samegroup", "replication"]
    } else {
        &["all"]
    };
    keywords.contains(&value) || (value.len() > 1 && value.starts_with(['+', '@', '/']))
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
        match parse_address(text, false, None)? {
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

    /// Whether `self.key() == *key`, without building the key of an IP address.
    fn has_key(&self, key: &AddressKey) -> bool {
        match (self, key) {
            (Address::All, AddressKey::All) | (Address::SameHost, AddressKey::SameHost) | (Address::SameNet, AddressKey::SameNet) => true,
            (Address::Ip { addr, mask }, AddressKey::Net(a, None, m)) => addr == a && mask_key(mask) == *m,
            (Address::ScopedIp { addr, zone, mask }, AddressKey::Net(IpAddr::V6(a), Some(z), m)) => {
                addr == a && zone == z && mask_key(mask) == *m
            }
            (Address::Hostname(_), AddressKey::Host(_)) => self.key() == *key,
            _ => false,
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
        let lexed = lex(text, format)?;
        match parse_record(&lexed, format)? {
            Record::Rule(rule) => Ok(rule.to_rule()),
            Record::Include(_) => Err(HbaError::InvalidConnectionType(first_value(&lexed))),
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
    pub(super) fn same_effect(&self, other: &Rule) -> bool {
        let mut a = self.options.clone();
        let mut b = other.options.clone();
        a.sort();
        b.sort();
        self.method == other.method && a == b
    }

    /// The cells of the rule as written: type, databases, users, address (or None), method,
    /// options.
    pub(super) fn cells(&self) -> (Vec<String>, String) {
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
    pub(super) fn method_text(&self) -> String {
        let mut s = self.method.as_str().to_owned();
        for o in &self.options {
            s.push(' ');
            s.push_str(&o.render());
        }
        s
    }

    /// Checks that the rule can be written for `format` and reads back as itself.
    pub(super) fn check(&self, format: Format) -> Result<String, HbaError> {
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
        let mut lexed = lex(text, format)?;
        let needed = key_field_count(&lexed);
        if lexed.len() < needed {
            return Err(HbaError::MissingField(NAMES[lexed.len().min(4)]));
        }
        lexed.truncate(needed);
        // Any method will do: only the identifying fields count.
        lexed.push_field(Tok {
            value: "trust".into(),
            quoted: false,
            start: 0,
            end: 0,
        });
        match parse_record(&lexed, format)? {
            Record::Rule(rule) => Ok(rule.to_rule().key()),
            Record::Include(_) => Err(HbaError::InvalidConnectionType(first_value(&lexed))),
            Record::Empty => Err(HbaError::MissingField("connection type")),
        }
    }

    /// Whether the rule read as `rule` has this identity (`rule.to_rule().key() == *self`),
    /// without building the rule or its key.
    pub(super) fn matches(&self, rule: &RuleView<'_>) -> bool {
        self.connection == rule.connection
            && same_names(rule.databases, &self.databases, true)
            && same_names(rule.users, &self.users, false)
            && match (&rule.address, &self.address) {
                (None, None) => true,
                (Some(a), Some(k)) => a.has_key(k),
                _ => false,
            }
    }

    /// The connection type.
    pub fn connection(&self) -> ConnectionType {
        self.connection
    }
}

/// FNV-1a, 64 bits: a small deterministic hash for [`RuleKey::digest`].
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    // Numbers (lengths, discriminants) in one step rather than byte by byte.
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x0100_0000_01b3);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

/// A digest of a set of names: the smallest and the largest hash of its members, so that the
/// same set gives the same digest whatever the order and repetitions of its names.
fn names_digest<'n>(names: impl Iterator<Item = (&'n str, bool)>) -> (u64, u64) {
    names.fold((u64::MAX, 0), |(lo, hi), name| {
        let mut f = Fnv::new();
        name.hash(&mut f);
        let h = f.finish();
        (lo.min(h), hi.max(h))
    })
}

fn digest<'d, 'u>(
    connection: ConnectionType,
    databases: impl Iterator<Item = (&'d str, bool)>,
    users: impl Iterator<Item = (&'u str, bool)>,
    address: Option<&AddressKey>,
) -> u64 {
    let mut f = Fnv::new();
    connection.hash(&mut f);
    names_digest(databases).hash(&mut f);
    names_digest(users).hash(&mut f);
    address.hash(&mut f);
    f.finish()
}

impl RuleKey {
    /// A 64-bit digest of the identity: equal keys have equal digests (see
    /// [`RuleKey::digest_of`]), so a line whose digest differs cannot have this identity.
    pub(super) fn digest(&self) -> u64 {
        digest(
            self.connection,
            self.databases.iter().map(|(v, s)| (v.as_str(), *s)),
            self.users.iter().map(|(v, s)| (v.as_str(), *s)),
            self.address.as_ref(),
        )
    }

    /// [`RuleKey::digest`] of the key of the rule read as `rule`, without building the key
    /// (but for a host name or an IPv6 zone).
    pub(super) fn digest_of(rule: &RuleView<'_>) -> u64 {
        digest(
            rule.connection,
            rule.databases.iter().map(|t| (&*t.value, is_special(&t.value, t.quoted, true))),
            rule.users.iter().map(|t| (&*t.value, is_special(&t.value, t.quoted, false))),
            rule.address.as_ref().map(Address::key).as_ref(),
        )
    }
}

/// The value of the first token of a line.
fn first_value(lexed: &Lexed<'_>) -> String {
    lexed.toks.first().map(|t| t.value.to_string()).unwrap_or_default()
}

/// Whether the names `toks` are, as a set, the sorted and deduplicated `keys` (as
/// [`token_keys`] makes them).
fn same_names(toks: &[Tok<'_>], keys: &[(String, bool)], databases: bool) -> bool {
    fn key_of<'k>(t: &'k Tok<'_>, databases: bool) -> (&'k str, bool) {
        (&t.value, is_special(&t.value, t.quoted, databases))
    }
    toks.iter().all(|t| {
        let k = key_of(t, databases);
        keys.binary_search_by(|(v, s)| (v.as_str(), *s).cmp(&k)).is_ok()
    }) && keys
        .iter()
        .all(|(v, s)| toks.iter().any(|t| key_of(t, databases) == (v.as_str(), *s)))
}

/// How many leading fields identify a rule (type, databases, users, address, netmask).
fn key_field_count(lexed: &Lexed<'_>) -> usize {
    let Some(first) = lexed.field(0).and_then(|f| f.first()) else {
        return 1;
    };
    match ConnectionType::parse(&first.value) {
        Some(ConnectionType::Local) | None => 3,
        Some(_) => match lexed.field(3).and_then(|f| f.first()) {
            None => 4,
            Some(t) => {
                let ip_without_cidr = !t.is_keyword("all") && !t.value.contains('/') && numeric_host(&t.value).is_some();
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

/// Where [`HbaFile::upsert`](super::HbaFile::upsert) puts a rule that is not in the file yet.
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
