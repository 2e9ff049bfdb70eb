//! Reading one record from its fields, with the checks PostgreSQL 15 and Pgpool-II 4.3 make:
//! connection type, address (numeric hosts as glibc reads them, CIDR and netmask columns),
//! method per format and connection type, and the options each method takes.

use std::net::IpAddr;

use super::lex::{Lexed, Tok};
use super::{Address, AuthOption, ConnectionType, Format, HbaError, Include, IncludeKind, Mask, Method, Rule, Token};

pub(super) enum Record<'r> {
    Empty,
    Include(Include),
    Rule(RuleView<'r>),
}

/// A rule as read from a line, borrowing its names and options from the line's tokens; turned
/// into an owned [`Rule`] only when one is asked for.
pub(super) struct RuleView<'r> {
    pub(super) connection: ConnectionType,
    pub(super) databases: &'r [Tok<'r>],
    pub(super) users: &'r [Tok<'r>],
    pub(super) address: Option<Address>,
    pub(super) method: Method,
    /// The index of the method field.
    pub(super) method_index: usize,
    /// The option tokens (`name=value`, checked), every field after the method's.
    pub(super) options: &'r [Tok<'r>],
}

impl RuleView<'_> {
    /// The options as name and value.
    pub(super) fn options(&self) -> impl Iterator<Item = (&str, &str)> {
        // Every option token was checked to hold a '='.
        self.options.iter().filter_map(|t| t.value.split_once('='))
    }

    /// The rule, owned.
    pub(super) fn to_rule(&self) -> Rule {
        let tokens = |toks: &[Tok<'_>]| {
            toks.iter()
                .map(|t| Token {
                    value: t.value.to_string(),
                    quoted: t.quoted,
                })
                .collect()
        };
        Rule {
            connection: self.connection,
            databases: tokens(self.databases),
            users: tokens(self.users),
            address: self.address.clone(),
            method: self.method,
            options: self.options().map(|(n, v)| AuthOption::new(n, v)).collect(),
        }
    }
}

fn single<'a, 't>(field: &'a [Tok<'t>], what: &'static str) -> Result<&'a Tok<'t>, HbaError> {
    match field {
        [t] => Ok(t),
        _ => Err(HbaError::MultipleValues(what)),
    }
}

/// The field at `*next` (then advances), or the error for a missing `what` field.
fn take<'a, 't>(lexed: &'a Lexed<'t>, next: &mut usize, what: &'static str) -> Result<&'a [Tok<'t>], HbaError> {
    let field = lexed.field(*next).ok_or(HbaError::MissingField(what))?;
    *next += 1;
    Ok(field)
}

pub(super) fn parse_record<'r>(lexed: &'r Lexed<'_>, format: Format) -> Result<Record<'r>, HbaError> {
    let Some(first) = lexed.field(0) else {
        return Ok(Record::Empty);
    };
    let conn_token = single(first, "connection type")?;
    if format == Format::PgHba && !conn_token.quoted {
        let kind = match &*conn_token.value {
            "include" => Some(IncludeKind::File),
            "include_if_exists" => Some(IncludeKind::FileIfExists),
            "include_dir" => Some(IncludeKind::Directory),
            _ => None,
        };
        if let Some(kind) = kind {
            return match (lexed.len(), lexed.field(1)) {
                (2, Some([path])) => Ok(Record::Include(Include {
                    kind,
                    path: path.value.to_string(),
                })),
                _ => Err(HbaError::BadInclude),
            };
        }
    }
    let connection =
        ConnectionType::parse(&conn_token.value).ok_or_else(|| HbaError::InvalidConnectionType(conn_token.value.to_string()))?;
    if !connection.allowed_in(format) {
        return Err(HbaError::InvalidConnectionType(conn_token.value.to_string()));
    }
    let mut next = 1;
    let databases = take(lexed, &mut next, "database")?;
    let users = take(lexed, &mut next, "user")?;
    let address = if connection.has_address() {
        let token = single(take(lexed, &mut next, "address")?, "address")?;
        let (address, needs_mask) = parse_address(&token.value, token.quoted, None)?;
        if needs_mask {
            let mask = single(take(lexed, &mut next, "netmask")?, "netmask")?;
            Some(parse_address(&token.value, token.quoted, Some(&mask.value))?.0)
        } else {
            Some(address)
        }
    } else {
        None
    };
    let method_index = next;
    let method_token = single(take(lexed, &mut next, "authentication method")?, "authentication method")?;
    let method = Method::parse(&method_token.value).ok_or_else(|| HbaError::InvalidMethod(method_token.value.to_string()))?;
    check_method(method, connection, format)?;
    let options = lexed.fields_from(method_index + 1);
    // A Vec only for a line with options.
    let mut pairs = Vec::new();
    for t in options {
        pairs.push(
            t.value
                .split_once('=')
                .ok_or_else(|| HbaError::OptionNotNameValue(t.value.to_string()))?,
        );
    }
    check_options(method, connection, &pairs, format)?;
    Ok(Record::Rule(RuleView {
        connection,
        databases,
        users,
        address,
        method,
        method_index,
        options,
    }))
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
fn check_options(method: Method, connection: ConnectionType, options: &[(&str, &str)], format: Format) -> Result<(), HbaError> {
    use Method::*;
    // PostgreSQL treats ident on a local socket as peer.
    let method = if connection == ConnectionType::Local && method == Ident {
        Peer
    } else {
        method
    };
    let bad = |name: &str, reason| HbaError::BadOption {
        option: name.to_owned(),
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
    for &(name, value) in options {
        let (methods, reason): (&[Method], &'static str) = match (format, name) {
            (_, "pamservice" | "pam_use_hostname") => (&[Pam], "only valid for authentication method pam"),
            (_, n) if LDAP.contains(&n) => (&[Ldap], "only valid for authentication method ldap"),
            (Format::PoolHba, "backend_use_passwd") => (&[Ldap], "only valid for authentication method ldap"),
            (Format::PoolHba, _) => return Err(HbaError::UnknownOption(name.to_owned())),
            (Format::PgHba, "map") => (
                &[Ident, Peer, Gss, Sspi, Cert],
                "only valid for authentication methods ident, peer, gssapi, sspi, and cert",
            ),
            (Format::PgHba, "clientcert") => {
                if connection != ConnectionType::HostSsl {
                    return Err(bad(name, "can only be configured for hostssl rows"));
                }
                match (value, method) {
                    ("verify-full", _) => {}
                    ("verify-ca", Cert) => return Err(bad(name, "only verify-full goes with cert authentication")),
                    ("verify-ca", _) => {}
                    _ => return Err(bad(name, "the value must be verify-ca or verify-full")),
                }
                continue;
            }
            (Format::PgHba, "clientname") => {
                if connection != ConnectionType::HostSsl {
                    return Err(bad(name, "can only be configured for hostssl rows"));
                }
                if !matches!(value, "CN" | "DN") {
                    return Err(bad(name, "the value must be CN or DN"));
                }
                continue;
            }
            (Format::PgHba, "krb_realm" | "include_realm") => (&[Gss, Sspi], "only valid for authentication methods gssapi and sspi"),
            (Format::PgHba, "compat_realm" | "upn_username") => (&[Sspi], "only valid for authentication method sspi"),
            (Format::PgHba, "radiusservers" | "radiusports" | "radiussecrets" | "radiusidentifiers") => {
                (&[Radius], "only valid for authentication method radius")
            }
            (Format::PgHba, _) => return Err(HbaError::UnknownOption(name.to_owned())),
        };
        if !methods.contains(&method) {
            return Err(bad(name, reason));
        }
    }
    if format == Format::PoolHba {
        return Ok(());
    }
    // The last occurrence of an option wins.
    let get = |name: &str| options.iter().rev().find(|(n, _)| *n == name).map(|&(_, v)| v);
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

/// Reads the address token (its text, and whether it was quoted) and the netmask token, when
/// given. Returns the address and
/// whether a netmask column is needed (an IP address without CIDR suffix).
pub(super) fn parse_address(text: &str, quoted: bool, mask: Option<&str>) -> Result<(Address, bool), HbaError> {
    match text {
        "all" if !quoted => return Ok((Address::All, false)),
        "samehost" if !quoted => return Ok((Address::SameHost, false)),
        "samenet" if !quoted => return Ok((Address::SameNet, false)),
        _ => {}
    }
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
    let (m, _) = numeric_host(mask).ok_or_else(|| HbaError::InvalidNetmask(mask.to_owned()))?;
    if m.is_ipv4() != addr.is_ipv4() {
        return Err(HbaError::MaskFamilyMismatch);
    }
    Ok((make(Mask::Netmask(m)), false))
}

/// A numeric host as glibc's `getaddrinfo(AI_NUMERICHOST)` reads it: IPv6 (with an optional
/// `%zone`), or IPv4 in any `inet_aton` form (`10.1`, `0x7f.1`, `012.0.0.1`).
pub(super) fn numeric_host(s: &str) -> Option<(IpAddr, Option<&str>)> {
    if !s.contains(':') {
        // Not IPv6 (every IPv6 address has a colon), with or without a zone.
        return match s.contains('%') {
            true => None,
            false => inet_aton(s).map(|v4| (IpAddr::V4(v4), None)),
        };
    }
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
    let mut values = [0u32; 4];
    let mut n = 0;
    for p in s.split('.') {
        if n == 4 {
            return None;
        }
        let p = p.as_bytes();
        let (digits, radix) = match p {
            [b'0', b'x' | b'X', h @ ..] => (h, 16),
            [b'0', o @ ..] if !o.is_empty() => (o, 8),
            d => (d, 10),
        };
        if digits.is_empty() {
            return None;
        }
        let mut value = 0u32;
        for &b in digits {
            let digit = char::from(b).to_digit(radix)?;
            value = value.checked_mul(radix)?.checked_add(digit)?;
        }
        values[n] = value;
        n += 1;
    }
    let (last, head) = values[..n].split_last()?;
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
pub(super) fn cidr_bits(s: &str, max: u8) -> Option<u8> {
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
