//! Editing a file: [`HbaFile::upsert`] and [`HbaFile::remove`], the check that an edit leaves
//! every other line reading as before, and the column layout new lines copy from the file's
//! existing rules (or the stock sample's columns).

use std::collections::HashMap;

use super::lex::{tokenize, RawField};
use super::record::{parse_record, Record};
use super::{lines, Change, Format, HbaError, HbaFile, Kind, Line, Method, Position, Rule, RuleKey};

impl HbaFile {
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
