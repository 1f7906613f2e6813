//! Load errors: where in the file, and what rule was broken; never a cell's value.

use std::fmt;

/// Problems listed per rejected file; the rest are counted.
pub const MAX_PROBLEMS: usize = 20;

/// Longest piece of a source's own header shown in a message.
const MAX_NAME: usize = 60;

/// One thing wrong at one place in an extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line (row, item) in the file where the record starts.
    pub line: u64,
    /// 1-based column (field position) and the column's name, where one applies.
    pub column: Option<(usize, String)>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some((n, name)) => write!(
                f,
                "line {}, column {n} ({name}): {}",
                self.line, self.message
            ),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: the file is empty (0 bytes, no header row)")]
    Empty { file: String },
    #[error("{file}: {}", render(.problems, *.total))]
    Invalid {
        file: String,
        problems: Vec<Problem>,
        total: usize,
    },
}

impl LoadError {
    /// The problems found (empty for an empty file).
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Empty { .. } => &[],
            LoadError::Invalid { problems, .. } => problems,
        }
    }
}

fn render(problems: &[Problem], total: usize) -> String {
    let mut s = format!(
        "extract rejected, nothing loaded ({total} problem{})",
        if total == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if total > problems.len() {
        s.push_str(&format!("\n  ... and {} more", total - problems.len()));
    }
    s
}

/// A source's own header cell, safe to show: cut short, control bytes escaped. A header
/// cell that looks like data (it holds a digit, as ids and dates do) is not shown at all,
/// because a file without its header row has a child's row in its place.
pub fn shown_header(raw: &[u8]) -> Option<String> {
    if raw.iter().any(u8::is_ascii_digit) || raw.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(&raw[..raw.len().min(MAX_NAME * 4)]);
    let mut out: String = text
        .chars()
        .take(MAX_NAME)
        .flat_map(char::escape_default)
        .collect();
    if text.chars().count() > MAX_NAME || raw.len() > MAX_NAME * 4 {
        out.push_str("...");
    }
    Some(out)
}

/// Collects problems up to [`MAX_PROBLEMS`] (the earliest lines first), counting the rest.
#[derive(Debug, Default, Clone)]
pub struct Problems {
    pub list: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    pub fn push(&mut self, line: u64, column: Option<(usize, &str)>, message: impl Into<String>) {
        self.add(Problem {
            line,
            column: column.map(|(n, name)| (n, name.to_string())),
            message: message.into(),
        });
    }

    pub fn add(&mut self, p: Problem) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else if let Some(last) = self.list.iter().map(|q| q.line).max()
            && p.line < last
        {
            // Keep the earliest lines: late finds (repeated keys) may point above the rest.
            if let Some(i) = self.list.iter().position(|q| q.line == last) {
                self.list[i] = p;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    pub fn into_error(mut self, file: &str) -> LoadError {
        self.list.sort_by_key(|p| p.line);
        LoadError::Invalid {
            file: file.to_string(),
            problems: self.list,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_cells_that_look_like_data_are_not_shown() {
        assert_eq!(
            shown_header(b"free_text_notes").as_deref(),
            Some("free_text_notes")
        );
        assert_eq!(shown_header(b"C000001"), None);
        assert_eq!(shown_header(b"2020-01-05"), None);
        let long = vec![b'a'; 1_000_000];
        let shown = shown_header(&long).expect("letters only");
        assert!(shown.len() < 80, "{}", shown.len());
        assert_eq!(shown_header(b"a\x07b").as_deref(), Some("a\\u{7}b"));
    }

    #[test]
    fn only_twenty_are_listed_the_earliest_and_the_rest_counted() {
        let mut p = Problems::default();
        for line in (2..40).rev() {
            p.push(line, None, "x");
        }
        let err = p.into_error("f.csv");
        assert_eq!(err.problems().len(), MAX_PROBLEMS);
        assert_eq!(err.problems()[0].line, 2);
        assert!(err.to_string().contains("... and 18 more"), "{err}");
    }
}
