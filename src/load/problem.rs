//! Load errors: where in the file, and what is wrong.

use std::fmt;

/// Problems kept per rejected file; the total is still counted.
pub const MAX_PROBLEMS: usize = 50;

/// One thing wrong at one place in an extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the file where the record starts.
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

/// Collects problems up to [`MAX_PROBLEMS`], counting the rest.
#[derive(Debug, Default)]
pub(super) struct Problems {
    pub list: Vec<Problem>,
    pub total: usize,
}

impl Problems {
    pub fn push(&mut self, line: u64, column: Option<(usize, &str)>, message: impl Into<String>) {
        self.total += 1;
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                line,
                column: column.map(|(n, name)| (n, name.to_string())),
                message: message.into(),
            });
        }
    }

    pub fn into_result<T>(self, file: &str, ok: T) -> Result<T, LoadError> {
        if self.total == 0 {
            Ok(ok)
        } else {
            Err(LoadError::Invalid {
                file: file.to_string(),
                problems: self.list,
                total: self.total,
            })
        }
    }
}
