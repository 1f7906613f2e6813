//! Matchers over an item's labels (`kpi=3/3`, `sub_group!=health`, `kind=~breach|no_data`,
//! `source!~tracker`): one syntax for routes and silences, as in Alertmanager. A regular
//! expression must match the whole value, and is bounded in length and compiled size. Pure.
//!
//! Owns: [`Matcher`], its parse and its errors.

use super::item::{Item, LABELS};

/// Longest regular expression a matcher accepts, and the compiled size it may take: a
/// matcher is operator input, and a pathological one must not stall a run.
const MAX_PATTERN: usize = 256;
const MAX_REGEX_BYTES: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    #[error(
        "`{0}` is not a matcher: write LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX"
    )]
    Syntax(String),
    #[error("`{0}` is not a label; use one of {labels}", labels = LABELS.join(", "))]
    Label(String),
    #[error("`{0}`: regular expression longer than {MAX_PATTERN} characters")]
    TooLong(String),
    #[error("`{pattern}` is not a usable regular expression: {error}")]
    Regex { pattern: String, error: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Re => "=~",
            Op::NotRe => "!~",
        }
    }
}

/// One condition on one label. Regular expressions are anchored at both ends.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub label: String,
    pub op: Op,
    pub value: String,
    re: Option<regex::Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        (&self.label, self.op, &self.value) == (&other.label, other.op, &other.value)
    }
}

impl std::fmt::Display for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.label, self.op.as_str(), self.value)
    }
}

impl std::str::FromStr for Matcher {
    type Err = MatcherError;

    fn from_str(s: &str) -> Result<Matcher, MatcherError> {
        let s = s.trim();
        let cut = s
            .find(['=', '!'])
            .ok_or_else(|| MatcherError::Syntax(s.into()))?;
        let (label, rest) = (s[..cut].trim(), &s[cut..]);
        let (op, value) = if let Some(v) = rest.strip_prefix("=~") {
            (Op::Re, v)
        } else if let Some(v) = rest.strip_prefix("!~") {
            (Op::NotRe, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (Op::Ne, v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (Op::Eq, v)
        } else {
            return Err(MatcherError::Syntax(s.into()));
        };
        if label.is_empty() {
            return Err(MatcherError::Syntax(s.into()));
        }
        if !LABELS.contains(&label) {
            return Err(MatcherError::Label(label.into()));
        }
        let value = value.trim().trim_matches('"').to_string();
        let re = match op {
            Op::Eq | Op::Ne => None,
            Op::Re | Op::NotRe => {
                if value.chars().count() > MAX_PATTERN {
                    return Err(MatcherError::TooLong(value));
                }
                let re = regex::RegexBuilder::new(&format!("^(?:{value})$"))
                    .size_limit(MAX_REGEX_BYTES)
                    .dfa_size_limit(MAX_REGEX_BYTES)
                    .build()
                    .map_err(|e| MatcherError::Regex {
                        pattern: value.clone(),
                        error: e.to_string().lines().last().unwrap_or("").trim().into(),
                    })?;
                Some(re)
            }
        };
        Ok(Matcher {
            label: label.to_string(),
            op,
            value,
            re,
        })
    }
}

impl Matcher {
    pub fn matches(&self, item: &Item) -> bool {
        let v = item.label(&self.label);
        match (self.op, &self.re) {
            (Op::Eq, _) => v == self.value,
            (Op::Ne, _) => v != self.value,
            (Op::Re, Some(re)) => re.is_match(v),
            (Op::NotRe, Some(re)) => !re.is_match(v),
            (Op::Re | Op::NotRe, None) => false,
        }
    }
}

/// True when every matcher holds (an empty list matches everything).
pub fn all_match(matchers: &[Matcher], item: &Item) -> bool {
    matchers.iter().all(|m| m.matches(item))
}

/// Parse a list of matchers, naming the first one at fault.
pub fn parse_matchers(list: &[String]) -> Result<Vec<Matcher>, (usize, MatcherError)> {
    list.iter()
        .enumerate()
        .map(|(i, m)| m.parse().map_err(|e| (i, e)))
        .collect()
}
