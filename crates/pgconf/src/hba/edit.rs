//! Editing a file: [`HbaFile::upsert`] and [`HbaFile::remove`], the check that an edit leaves
//! every other line reading as before, and the column layout new lines copy from the file's
//! existing rules (or the stock sample's columns).

use std::collections::BTreeMap;

use super::lex::{lex, lex_fields_into, Lexed};
use super::record::{parse_record, Record};
use super::{lines, Change, Format, HbaError, HbaFile, Kind, Method, Position, Rule, RuleKey};

impl HbaFile<'_> {
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
        let mut scratch = Lexed::default();
        let digest = [key.digest()];
        let found = self
            .lines
            .iter()
            .position(|l| self.has_key(l, std::slice::from_ref(&key), &digest, &mut scratch));
        if let Some(index) = found {
            if self.line_is(index, &key, rule) {
                return Ok(Change::Unchanged);
            }
        }
        // Undo information: an edit touches only the edited line and, when appending, the
        // last line (which may get its missing line break).
        let old_edited = found.map(|i| self.lines[i]);
        let old_last = self.lines.last().copied();
        let mut edited = found.unwrap_or(0);
        let change = if let Some(index) = found {
            let line = self.number(index);
            let raw = self.rewrite(index, rule);
            self.lines[index] = self.new_line(&raw);
            Change::Updated { line }
        } else {
            let index = match position {
                Position::End => None,
                Position::Beginning => self.lines.iter().position(|l| matches!(l.kind, Kind::Rule | Kind::Include)),
                Position::BeforeFirstReject => self.position_of(|r| r.method == Method::Reject),
            }
            .unwrap_or(self.lines.len());
            let mut body = self.layout().render(rule);
            if let Some(c) = comment.map(str::trim).filter(|c| !c.is_empty()) {
                body = format!("{body}\t# {c}");
            }
            let nl = lines::newline(self.lines.iter().map(|l| self.raw(l)));
            let line = self.number(index);
            let raw = match self.lines.last().filter(|_| index >= self.lines.len()).copied() {
                Some(last) => {
                    let mut last_raw = self.raw(&last).to_owned();
                    let raw = lines::new_line(Some(&mut last_raw), &body, nl);
                    if last_raw.len() != last.end - last.start {
                        // The last line got its line break.
                        let at = self.lines.len() - 1;
                        self.lines[at] = self.new_line(&last_raw);
                    }
                    raw
                }
                None => lines::new_line(None, &body, nl),
            };
            let at = index.min(self.lines.len());
            let new = self.new_line(&raw);
            self.lines.insert(at, new);
            edited = at;
            Change::Added { line }
        };
        // The edited line must read back as the rule, and no other line may read differently.
        let ok = self.line_is(edited, &key, rule) && self.reads_back_around(edited, edited);
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
        let mut scratch = Lexed::default();
        let digest = [key.digest()];
        let hits: Vec<(usize, usize)> = self
            .numbers()
            .enumerate()
            .filter(|(_, (_, l))| self.has_key(l, std::slice::from_ref(key), &digest, &mut scratch))
            .map(|(index, (number, _))| (index, number))
            .collect();
        if hits.is_empty() {
            return Change::Unchanged;
        }
        let before = self.lines.clone();
        // Where each removed line was, its neighbours now meet.
        let seams: Vec<usize> = hits.iter().enumerate().map(|(k, &(index, _))| index - k).collect();
        let mut next = hits.iter().map(|&(index, _)| index).peekable();
        let mut index = 0;
        self.lines.retain(|_| {
            let hit = next.next_if_eq(&index).is_some();
            index += 1;
            !hit
        });
        if !seams.iter().all(|&i| self.reads_back_around(i.saturating_sub(1), i)) {
            // Removing the lines would change how a neighbouring line is read (a backslash
            // continuation); keep the file as it was rather than change another rule.
            self.lines = before;
            return Change::Unchanged;
        }
        Change::Removed {
            lines: hits.into_iter().map(|(_, number)| number).collect(),
        }
    }

    /// The index of the first rule line for which `pred` holds.
    fn position_of(&self, mut pred: impl FnMut(&super::RuleView<'_>) -> bool) -> Option<usize> {
        let mut scratch = Lexed::default();
        self.lines
            .iter()
            .position(|l| self.with_rule(l, &mut scratch, &mut pred) == Some(true))
    }

    /// Whether line `index` reads as a rule with identity `key` and the method and options of
    /// `rule`.
    fn line_is(&self, index: usize, key: &RuleKey, rule: &Rule) -> bool {
        let Some(l) = self.lines.get(index) else { return false };
        self.with_rule(l, &mut Lexed::default(), |r| key.matches(r) && r.to_rule().same_effect(rule)) == Some(true)
    }

    /// The 1-based number of the first physical line of line `index` (one past the last line
    /// for `index` past the end).
    fn number(&self, index: usize) -> usize {
        1 + self.lines.iter().take(index).map(|l| self.physical(l)).sum::<usize>()
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
        let text: String = window.iter().map(|l| self.raw(l)).collect();
        let again = HbaFile::parse_borrowed(&text, self.format);
        again.lines.len() == window.len() && again.lines.iter().zip(window).all(|(a, b)| again.raw(a) == self.raw(b))
    }

    /// The new raw text of line `index` with `rule`'s method and options: on a single physical
    /// line only the method and options are replaced; a continued line is written anew on one
    /// line. The trailing comment and the line ending stay.
    fn rewrite(&self, index: usize, rule: &Rule) -> String {
        let line = &self.lines[index];
        let raw = self.raw(line);
        let ending = if raw.ends_with("\r\n") {
            "\r\n"
        } else if raw.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        let (_, _, text) = super::logical_at(raw, 0, self.format);
        let Ok(lexed) = lex(&text, self.format) else {
            return format!("{}{ending}", self.layout().render(rule));
        };
        let tail_start = if lexed.is_empty() { text.len() } else { lexed.end(lexed.len() - 1) };
        if self.physical(line) == 1 {
            if let Ok(Record::Rule(r)) = parse_record(&lexed, self.format) {
                let body = lines::strip_crlf(raw);
                let start = lexed.start(r.method_index);
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
        // How often each start column is used, per slot, by aligned rules.
        let mut counts: [BTreeMap<usize, usize>; 5] = Default::default();
        let (mut n_aligned, mut compact_space, mut compact_tab, mut tabbed) = (0usize, 0usize, 0usize, 0usize);
        let mut scratch = Lexed::default();
        for l in &self.lines {
            if l.kind != Kind::Rule || self.physical(l) != 1 {
                continue;
            }
            let method = usize::from(l.method);
            let raw = self.raw(l);
            // The fields up to the method, read again.
            let shape = if l.joined {
                let (_, _, body) = super::logical_at(raw, 0, self.format);
                let mut lexed = Lexed::default();
                lex_fields_into(&body, self.format, method + 1, &mut lexed)
                    .ok()
                    .and_then(|()| shape(&body, &lexed, method))
            } else {
                let body = raw.trim_end_matches(['\r', '\n']);
                lex_fields_into(body, self.format, method + 1, &mut scratch)
                    .ok()
                    .and_then(|()| shape(body, &scratch, method))
            };
            match shape {
                Some(Shape::Compact(" ")) => compact_space += 1,
                Some(Shape::Compact(_)) => compact_tab += 1,
                Some(Shape::Aligned(slots, tabs)) => {
                    tabbed += usize::from(tabs);
                    n_aligned += 1;
                    for (slot, counts) in slots.iter().zip(counts.iter_mut()) {
                        if let Some(c) = slot {
                            *counts.entry(*c).or_default() += 1;
                        }
                    }
                }
                None => {}
            }
        }
        if n_aligned == 0 && compact_space + compact_tab == 0 {
            return Layout::stock(self.format);
        }
        if compact_space > n_aligned || compact_tab > n_aligned {
            return Layout::Compact(if compact_tab > compact_space { "\t" } else { " " });
        }
        let mut columns = [0usize; 5];
        for (column, counts) in columns.iter_mut().zip(counts) {
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

/// How the rule `body` (its fields up to the method in `lexed`; the method is field `method`)
/// is laid out. `None` if it has fewer fields.
fn shape(body: &str, lexed: &Lexed<'_>, method: usize) -> Option<Shape> {
    if lexed.len() <= method {
        return None;
    }
    let mut separators = [""; 5];
    for (i, sep) in separators.iter_mut().enumerate().take(method) {
        *sep = body.get(lexed.end(i)..lexed.start(i + 1)).unwrap_or(" ");
    }
    let separators = &separators[..method];
    if separators.iter().all(|s| *s == " ") {
        return Some(Shape::Compact(" "));
    }
    if separators.iter().all(|s| *s == "\t") {
        return Some(Shape::Compact("\t"));
    }
    let tabs = separators.iter().any(|s| s.contains('\t'));
    let mut slots = [None; 5];
    // Fields type, databases, users, [address, [netmask,]] method: the netmask has no slot.
    let slot_of: &[Option<usize>] = match method {
        3 => &[Some(0), Some(1), Some(2), Some(4)],
        5 => &[Some(0), Some(1), Some(2), Some(3), None, Some(4)],
        _ => &[Some(0), Some(1), Some(2), Some(3), Some(4)],
    };
    let mut columns = Columns::new(body);
    for (field, slot) in (0..=method).zip(slot_of) {
        let column = columns.at(lexed.start(field));
        if let Some(s) = slot {
            slots[*s] = Some(column);
        }
    }
    Some(Shape::Aligned(slots, tabs))
}

/// How one rule line is laid out: fields joined by one separator, or the start columns of
/// its fields and whether tabs separate them.
enum Shape {
    Compact(&'static str),
    Aligned([Option<usize>; 5], bool),
}

/// The screen columns of increasing byte offsets of one line, read once from left to right.
struct Columns<'s> {
    line: &'s str,
    at: usize,
    col: usize,
}

impl<'s> Columns<'s> {
    fn new(line: &'s str) -> Self {
        Columns { line, at: 0, col: 0 }
    }

    /// [`visual_column`] of `at` (not before the last offset asked for).
    fn at(&mut self, at: usize) -> usize {
        match self.line.get(self.at..at) {
            Some(piece) => {
                self.col = advance(self.col, piece);
                self.at = at;
                self.col
            }
            None => visual_column(self.line, at),
        }
    }
}

/// The screen column after `s`, starting at column `col` (tabs to multiples of 8; every other
/// character one column).
fn advance(mut col: usize, s: &str) -> usize {
    for b in s.bytes() {
        if b == b'\t' {
            col = (col / 8 + 1) * 8;
        } else if b & 0xc0 != 0x80 {
            // Not a UTF-8 continuation byte: a character starts here.
            col += 1;
        }
    }
    col
}

/// The screen column of byte offset `at` (tabs to multiples of 8).
fn visual_column(s: &str, at: usize) -> usize {
    advance(0, s.get(..at).unwrap_or(s))
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
