//! The PostgreSQL 12-17 parameter catalog: what a postgresql.conf setting may be, how its
//! value is checked and compared, and whether changing it needs a restart.
//!
//! The PostgreSQL 15 core of the table is generated from a real server
//! (`crates/pgconf/gen/pg_params.sh`, file `pg_params/pg15.rs`); what differs in 12, 13,
//! 14, 16 and 17 is kept by hand in `pg_params/versions.rs`.
//!
//! Values are checked the way the server checks them (`parse_bool`, `parse_int`,
//! `parse_real` and `config_enum_lookup_by_name` in PostgreSQL's `guc.c`): booleans accept
//! `on/off/true/false/yes/no/1/0` and unique prefixes, case-insensitively; integers accept
//! hex and octal, fractions and a unit (`128MB`, `1.5GB`, `5min`; unit names are
//! case-sensitive) and are rounded like the server rounds them; enums are
//! case-insensitive and include the aliases the server accepts but does not list
//! (`wal_level = hot_standby`).

mod pg15;
mod versions;

/// The first PostgreSQL major version in the catalog.
pub const FIRST_MAJOR: u32 = 12;
/// The last PostgreSQL major version in the catalog.
pub const LAST_MAJOR: u32 = 17;

/// A parameter's value type (`pg_settings.vartype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarType {
    /// on/off
    Bool,
    /// an integer, maybe with a unit
    Integer,
    /// a floating-point number, maybe with a unit
    Real,
    /// any string
    String,
    /// one of [`Param::enum_values`]
    Enum,
}

/// The unit a parameter's bare numbers are in (`pg_settings.unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `B`
    Bytes,
    /// `kB`
    Kilobytes,
    /// `MB`
    Megabytes,
    /// `8kB` (pages: shared_buffers, wal_buffers, ...)
    Blocks8k,
    /// `ms`
    Milliseconds,
    /// `s`
    Seconds,
    /// `min`
    Minutes,
}

impl Unit {
    /// How many bytes (memory) or microseconds (time) one unit is.
    fn size(self) -> f64 {
        match self {
            Unit::Bytes => 1.0,
            Unit::Kilobytes => 1024.0,
            Unit::Megabytes => 1024.0 * 1024.0,
            Unit::Blocks8k => 8192.0,
            Unit::Milliseconds => 1e3,
            Unit::Seconds => 1e6,
            Unit::Minutes => 60e6,
        }
    }

    fn is_memory(self) -> bool {
        matches!(self, Unit::Bytes | Unit::Kilobytes | Unit::Megabytes | Unit::Blocks8k)
    }

    /// The unit names a value may carry, largest first, with their size in bytes or
    /// microseconds (PostgreSQL's conversion tables).
    fn names(self) -> &'static [(&'static str, f64)] {
        const KB: f64 = 1024.0;
        if self.is_memory() {
            &[
                ("TB", KB * KB * KB * KB),
                ("GB", KB * KB * KB),
                ("MB", KB * KB),
                ("kB", KB),
                ("B", 1.0),
            ]
        } else {
            &[("d", 86_400e6), ("h", 3_600e6), ("min", 60e6), ("s", 1e6), ("ms", 1e3), ("us", 1.0)]
        }
    }

    fn valid_list(self) -> &'static str {
        if self.is_memory() {
            "\"B\", \"kB\", \"MB\", \"GB\", and \"TB\""
        } else {
            "\"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\""
        }
    }
}

/// When a parameter can change (`pg_settings.context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Fixed at build or initdb time; cannot be set.
    Internal,
    /// Server start only: a change needs a restart.
    Postmaster,
    /// Reload (SIGHUP).
    Sighup,
    /// Reload; applies to sessions started afterwards; superusers may set it at connect.
    SuperuserBackend,
    /// Reload; applies to sessions started afterwards.
    Backend,
    /// Reload, or `SET` by a superuser.
    Superuser,
    /// Reload, or `SET` by anyone.
    User,
}

/// One parameter as it is in a given PostgreSQL major version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// The name as PostgreSQL spells it (`DateStyle`; lookups ignore case).
    pub name: &'static str,
    /// The value type.
    pub vartype: VarType,
    /// The unit of bare numbers, for parameters that take units.
    pub unit: Option<Unit>,
    /// When it can change.
    pub context: Context,
    /// The enum values `pg_settings` lists.
    pub enum_values: &'static [&'static str],
    /// Other accepted enum values and what they become (`hot_standby` -> `replica`).
    pub enum_aliases: &'static [(&'static str, &'static str)],
    /// The smallest allowed number, in [`unit`](Self::unit)s.
    pub min: Option<f64>,
    /// The largest allowed number, in [`unit`](Self::unit)s.
    pub max: Option<f64>,
    /// The first major version that has it.
    pub since: u32,
    /// The last major version that has it.
    pub until: u32,
}

/// A row of the generated table (no version information).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) vartype: VarType,
    pub(crate) unit: Option<Unit>,
    pub(crate) context: Context,
    pub(crate) values: &'static [&'static str],
    pub(crate) aliases: &'static [(&'static str, &'static str)],
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
}

/// Why a postgresql.conf setting is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// The catalog has no such version.
    #[error("PostgreSQL {major} is not in the parameter catalog ({FIRST_MAJOR}-{LAST_MAJOR})")]
    UnsupportedVersion {
        /// The major version asked for.
        major: u32,
    },
    /// No such parameter (and no `.`, so it is not an extension's).
    #[error("unrecognized configuration parameter \"{name}\"")]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The parameter exists, but not in this version.
    #[error("parameter \"{name}\" does not exist in PostgreSQL {major} (only {since}-{until}){}", suffix("; ", .hint.unwrap_or_default(), ""))]
    NotInVersion {
        /// The name given.
        name: String,
        /// The version asked for.
        major: u32,
        /// First version that has it.
        since: u32,
        /// Last version that has it.
        until: u32,
        /// What to use instead.
        hint: Option<&'static str>,
    },
    /// A read-only (internal) parameter: setting it in a file stops the server.
    #[error("parameter \"{name}\" cannot be changed")]
    ReadOnly {
        /// The name.
        name: String,
    },
    /// The value does not fit the type.
    #[error("invalid value for parameter \"{name}\": \"{value}\"{}", suffix(" (", .hint, ")"))]
    InvalidValue {
        /// The name.
        name: String,
        /// The value given.
        value: String,
        /// What would be valid.
        hint: String,
    },
}

/// `before + text + after`, or nothing when `text` is empty (for error messages).
fn suffix(before: &str, text: &str, after: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{before}{text}{after}")
    }
}

/// The parameter `name` (any case) as it is in PostgreSQL `major`, if it exists there.
pub fn lookup(name: &str, major: u32) -> Option<Param> {
    find(name)
        .filter(|p| (p.since..=p.until).contains(&major))
        .map(|p| versions::adjust(p, major))
}

/// The parameter `name` (any case) in whichever version has it (the newest description).
pub fn find(name: &str) -> Option<Param> {
    let row = pg15::PG15.iter().find(|r| r.name.eq_ignore_ascii_case(name));
    if let Some(r) = row {
        let (since, until) = versions::availability(r.name);
        return Some(Param {
            name: r.name,
            vartype: r.vartype,
            unit: r.unit,
            context: r.context,
            enum_values: r.values,
            enum_aliases: r.aliases,
            min: r.min,
            max: r.max,
            since,
            until,
        });
    }
    versions::extra_param(name)
}

/// Checks that `name = value` is a setting PostgreSQL `major` accepts in postgresql.conf.
///
/// `value` is unquoted. A name with a `.` (`repmgr.x`, `pg_stat_statements.max`) is an
/// extension's and takes any value. Ranges are checked; check hooks (e.g. the syntax of
/// `listen_addresses`) are not.
pub fn validate(name: &str, value: &str, major: u32) -> Result<(), ParamError> {
    if !(FIRST_MAJOR..=LAST_MAJOR).contains(&major) {
        return Err(ParamError::UnsupportedVersion { major });
    }
    let Some(p) = find(name) else {
        if name.contains('.') {
            return Ok(());
        }
        return Err(ParamError::Unknown { name: name.to_string() });
    };
    if !(p.since..=p.until).contains(&major) {
        return Err(ParamError::NotInVersion {
            name: name.to_string(),
            major,
            since: p.since,
            until: p.until,
            hint: versions::hint(p.name),
        });
    }
    let p = versions::adjust(p, major);
    if p.context == Context::Internal {
        return Err(ParamError::ReadOnly { name: name.to_string() });
    }
    parse(&p, value).map(|_| ()).map_err(|hint| ParamError::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        hint,
    })
}

/// A canonical form of `value` for comparing settings: equal results mean the server
/// would see the same setting (`on` = `true` = `yes` -> `on`; `128MB` = `131072kB` ->
/// `16384` for shared_buffers, i.e. the number in the parameter's unit, as
/// `postgres -C` prints it; enum values lower-cased and aliases resolved). Unknown
/// parameters, strings and values that do not parse are returned unchanged.
pub fn normalize(name: &str, value: &str) -> String {
    match find(name) {
        Some(p) => parse(&p, value).unwrap_or_else(|_| value.to_string()),
        None => value.to_string(),
    }
}

/// Whether changing `name` needs a server restart in PostgreSQL `major` (postmaster
/// context: shared_preload_libraries, wal_level, max_wal_senders, port, ...). Everything
/// else needs a reload to take effect from the file, `user` parameters included. Unknown
/// names (extensions' included) report `false`: a reload.
pub fn restart_required(name: &str, major: u32) -> bool {
    let p = lookup(name, major).or_else(|| find(name));
    p.is_some_and(|p| versions::adjust(p, major).context == Context::Postmaster)
}

/// Parses `value` for `p` and returns its canonical form, or a hint on failure.
fn parse(p: &Param, value: &str) -> Result<String, String> {
    match p.vartype {
        VarType::String => Ok(value.to_string()),
        VarType::Bool => parse_bool(value)
            .map(|b| if b { "on" } else { "off" }.to_string())
            .ok_or_else(|| "a Boolean: on, off, true, false, yes, no, 1, 0".to_string()),
        VarType::Enum => {
            if let Some((_, canon)) = p.enum_aliases.iter().find(|(a, _)| a.eq_ignore_ascii_case(value)) {
                return Ok(canon.to_string());
            }
            p.enum_values
                .iter()
                .find(|v| v.eq_ignore_ascii_case(value))
                .map(|v| v.to_string())
                .ok_or_else(|| format!("available values: {}", p.enum_values.join(", ")))
        }
        VarType::Integer | VarType::Real => {
            let integer = p.vartype == VarType::Integer;
            let v = parse_number(value, integer, p.unit)?;
            let v = if integer { v.round_ties_even() } else { v };
            if integer && !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&v) {
                return Err("value is out of range for an integer".to_string());
            }
            if p.min.is_some_and(|m| v < m) || p.max.is_some_and(|m| v > m) {
                return Err(format!(
                    "{} is outside the valid range ({} .. {})",
                    fmt_num(v),
                    p.min.map(fmt_num).unwrap_or_default(),
                    p.max.map(fmt_num).unwrap_or_default()
                ));
            }
            Ok(fmt_num(v))
        }
    }
}

fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        // no "-0"
        "0".to_string()
    } else {
        format!("{v}")
    }
}

/// PostgreSQL's `parse_bool`: on/off/true/false/yes/no/1/0 and unique prefixes.
pub fn parse_bool(value: &str) -> Option<bool> {
    let v = value.to_ascii_lowercase();
    let prefix_of = |word: &str| !v.is_empty() && word.starts_with(v.as_str());
    match v.as_bytes().first()? {
        b't' if prefix_of("true") => Some(true),
        b'f' if prefix_of("false") => Some(false),
        b'y' if prefix_of("yes") => Some(true),
        b'n' if prefix_of("no") => Some(false),
        b'o' if v == "on" => Some(true),
        b'o' if v.len() >= 2 && prefix_of("off") => Some(false),
        b'1' if v.len() == 1 => Some(true),
        b'0' if v.len() == 1 => Some(false),
        _ => None,
    }
}

/// `parse_int` / `parse_real`: a number (integers: `strtol` base 0, then `strtod` when a
/// `.` or exponent follows), optional whitespace, an optional unit; returns the value in
/// the parameter's unit, not yet rounded.
pub(crate) fn parse_number(value: &str, integer: bool, unit: Option<Unit>) -> Result<f64, String> {
    let bad = || {
        if integer {
            "an integer, optionally with a unit".to_string()
        } else {
            "a number, optionally with a unit".to_string()
        }
    };
    let (v, rest) = if integer {
        match strtol(value) {
            Some((v, rest)) if !rest.starts_with(['.', 'e', 'E']) => (v, rest),
            _ => strtod(value).ok_or_else(bad)?,
        }
    } else {
        strtod(value).ok_or_else(bad)?
    };
    let rest = rest.trim_start_matches(is_c_space);
    if rest.is_empty() {
        return Ok(v);
    }
    let Some(unit) = unit else {
        return Err("this parameter takes no unit".to_string());
    };
    let word = rest.trim_end_matches(is_c_space);
    let table = unit.names();
    let Some(i) = table.iter().position(|(n, _)| *n == word) else {
        return Err(format!("valid units for this parameter are {}", unit.valid_list()));
    };
    let mut scaled = v * table[i].1;
    // "30.1GB" is rounded to a whole number of the next smaller unit, as PostgreSQL does.
    if let Some((_, smaller)) = table.get(i + 1) {
        scaled = (scaled / smaller).round_ties_even() * smaller;
    }
    Ok(scaled / unit.size())
}

fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

/// C `strtol(s, &end, 0)`: leading space, sign, `0x` hex, leading-`0` octal, decimal.
fn strtol(s: &str) -> Option<(f64, &str)> {
    let t = s.trim_start_matches(is_c_space);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits_at) = if (t.starts_with("0x") || t.starts_with("0X")) && t[2..].starts_with(|c: char| c.is_ascii_hexdigit()) {
        (16, 2)
    } else if t.starts_with('0') {
        (8, 0)
    } else {
        (10, 0)
    };
    let body = &t[digits_at..];
    let n = body.chars().take_while(|c| c.is_digit(radix)).count();
    if n == 0 {
        return None;
    }
    let v = i64::from_str_radix(&body[..n], radix).ok()?;
    let v = if neg { -v } else { v };
    // Past i32 range the server re-parses as a float and then fails the range check.
    Some((v as f64, &body[n..]))
}

/// C `strtod` for decimal input: `[space][sign]digits[.digits][e[sign]digits]`.
fn strtod(s: &str) -> Option<(f64, &str)> {
    let t = s.trim_start_matches(is_c_space);
    let b = t.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        frac = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int + frac > 0 {
            i += 1 + frac;
        }
    }
    if int + frac == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        j += usize::from(matches!(b.get(j), Some(b'-' | b'+')));
        let d = b[j.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d > 0 {
            i = j + d;
        }
    }
    let v: f64 = t[..i].parse().ok()?;
    v.is_finite().then_some((v, &t[i..]))
}

#[cfg(test)]
mod tests;
