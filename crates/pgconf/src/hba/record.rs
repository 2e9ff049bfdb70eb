//! Reading one record from its fields, with the checks PostgreSQL 15 and Pgpool-II 4.3 make:
//! connection type, address (numeric hosts as glibc reads them, CIDR and netmask columns),
//! method per format and connection type, and the options each method takes.

use std::net::IpAddr;

use super::lex::RawField;
use super::{Address, AuthOption, ConnectionType, Format, HbaError, Include, IncludeKind, Mask, Method, Rule, Token};

pub(super) enum Record {
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

pub(super) fn parse_record(fields: &[RawField], format: Format) -> Result<Record, HbaError> {
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
pub(super) fn parse_address(token: &Token, mask: Option<&Token>) -> Result<(Address, bool), HbaError> {
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
pub(super) fn numeric_host(s: &str) -> Option<(IpAddr, Option<&str>)> {
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
