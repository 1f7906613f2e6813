//! Reading the layered configuration into [`Settings`] while collecting every problem, so
//! that `check-config` (and the daemon, which refuses the same file with the same list) names
//! them all in one pass rather than stopping at the first.
//!
//! Owns: the merged tree of the layers, the paths into it, and the loop that deserializes,
//! notes a fault with its dotted key and file, sets that key aside and tries again. Must not:
//! know any section's keys (serde's `deny_unknown_fields` on each type is the one list), nor
//! check values (that is [`Settings::validate`]).
//!
//! Why a loop over serde rather than a second schema: the settings types stay the only
//! description of the file. An unknown key is dropped and never comes back; a value of the
//! wrong type (or missing) is replaced by a stand-in (a value of the kind serde asks for, or
//! the shipped example's), so the keys after it are still read; the checks then skip whatever
//! lies under a stand-in, which would otherwise be reported twice. A reading that needed a
//! stand-in has an issue, so its settings are checked but never run.

use std::collections::{BTreeSet, HashMap};

use config::{ConfigError as Raw, Map, Value, ValueKind};
use serde::Deserialize as _;

use super::{Issue, Settings};

/// How many faults one reading may step past (each step deserializes the tree again).
const MAX_STEPS: usize = 256;

/// One step into the tree: a table's key or an array's index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Seg {
    Key(String),
    Index(usize),
}

/// What one reading found: the settings, if a stand-in could be found for every fault, and
/// every problem, each naming its key and, where one file set it, that file.
pub(super) struct Gathered {
    pub settings: Option<Settings>,
    pub issues: Vec<Issue>,
    /// The merged layers as read, to find which file set a key.
    tree: Value,
    /// Keys replaced by a stand-in: a check's issue under one of them is not reported.
    stood_in: Vec<Vec<Seg>>,
}

/// The layers' merged tables as one tree.
pub(super) fn tree(map: Map<String, Value>) -> Value {
    Value::new(None, ValueKind::Table(map))
}

/// Deserialize `tree` into [`Settings`], stepping past each fault.
pub(super) fn read(tree: Value) -> Gathered {
    let mut work = tree.clone();
    let mut issues = Vec::new();
    let mut stood_in: Vec<Vec<Seg>> = Vec::new();
    // The stand-ins each key has had (a bit each); dropped keys are in `given_up`.
    let mut tries: HashMap<Vec<Seg>, u16> = HashMap::new();
    let mut given_up: Vec<Vec<Seg>> = Vec::new();
    let example = example();
    let mut settings = None;
    for _ in 0..MAX_STEPS {
        let err = match Settings::deserialize(work.clone()) {
            Ok(s) => {
                settings = Some(s);
                break;
            }
            Err(e) => e,
        };
        let (path, message, kind, missing) = match Fault::of(err, &work) {
            Fault::Unknown { path, message } => {
                issues.push(issue(&tree, &path, message));
                if put(&mut work, &path, None) {
                    continue;
                }
                break;
            }
            Fault::Value {
                path,
                message,
                kind,
            } => (path, message, kind, false),
            Fault::Missing { path } => (path, "missing: this key is required".into(), None, true),
            Fault::Whole(message) => {
                issues.push(Issue::new(String::new(), message));
                break;
            }
        };
        // A fault under a stand-in comes of the stand-in: said once, at the key itself.
        if !stood_in.iter().any(|s| path.starts_with(s)) {
            issues.push(issue(&tree, &path, message));
            stood_in.push(path.clone());
        }
        if !given_up.contains(&path) {
            let tried = tries.entry(path.clone()).or_default();
            if let Some(value) = stand_in(&path, kind, missing, example.as_ref(), tried) {
                if put(&mut work, &path, value) {
                    continue;
                }
                break;
            }
        }
        // No stand-in will do: drop the key, or if it was dropped already (it is required),
        // its table. serde says a key is missing only after reading the rest of its table,
        // so the neighbours' faults are all found first.
        let drop = match (given_up.contains(&path), path.last()) {
            (false, Some(Seg::Key(_))) => path,
            _ => path[..path.len().saturating_sub(1)].to_vec(),
        };
        if drop.is_empty() {
            break;
        }
        if !stood_in.iter().any(|s| drop.starts_with(s)) {
            stood_in.push(drop.clone());
        }
        given_up.push(drop.clone());
        if !put(&mut work, &drop, None) {
            break;
        }
    }
    issues.sort_by(|a, b| a.key.cmp(&b.key));
    Gathered {
        settings,
        issues,
        tree,
        stood_in,
    }
}

impl Gathered {
    /// A check's issues: each given its file, those under a stand-in left out.
    pub fn checked(&self, found: Vec<Issue>) -> impl Iterator<Item = Issue> + '_ {
        found.into_iter().filter_map(|mut i| {
            let path = parse(&i.key);
            if self.stood_in.iter().any(|s| path.starts_with(s)) {
                return None;
            }
            if i.file.is_none() {
                i.file = get(&self.tree, &path).and_then(origin);
            }
            Some(i)
        })
    }
}

fn issue(tree: &Value, path: &[Seg], message: String) -> Issue {
    // A missing key was set by no file: name the table's, if one file set it all.
    let at = get(tree, path).or_else(|| get(tree, &path[..path.len().saturating_sub(1)]));
    Issue {
        key: render(path),
        message,
        file: at.and_then(origin),
    }
}

/// What serde stopped at.
enum Fault {
    /// A key no settings type has.
    Unknown { path: Vec<Seg>, message: String },
    /// A value of the wrong type or form; `kind` is what was asked for, where config says.
    Value {
        path: Vec<Seg>,
        message: String,
        kind: Option<&'static str>,
    },
    /// A required key no layer sets.
    Missing { path: Vec<Seg> },
    /// A fault with no key to it.
    Whole(String),
}

impl Fault {
    fn of(err: Raw, tree: &Value) -> Fault {
        match err {
            Raw::Type {
                unexpected,
                expected,
                key,
                ..
            } => Fault::Value {
                path: resolve(tree, key.as_deref().unwrap_or_default()),
                message: format!("invalid type: {unexpected}, expected {expected}"),
                kind: Some(expected),
            },
            Raw::NotFound(key) => Fault::Missing {
                path: resolve(tree, &key),
            },
            Raw::At { error, key, .. } => {
                let table = resolve(tree, key.as_deref().unwrap_or_default());
                Fault::inner(*error, table)
            }
            Raw::Message(m) => Fault::inner(Raw::Message(m), Vec::new()),
            other => Fault::Whole(other.to_string()),
        }
    }

    /// A message at `path`: serde's unknown field is a key under it, anything else its value.
    fn inner(error: Raw, mut path: Vec<Seg>) -> Fault {
        let text = error.to_string();
        if let Some((field, rest)) = unknown_field(&text) {
            path.push(Seg::Key(field.to_string()));
            return Fault::Unknown {
                path,
                message: format!("unknown key ({rest})"),
            };
        }
        if path.is_empty() {
            return Fault::Whole(text);
        }
        Fault::Value {
            path,
            message: text,
            kind: None,
        }
    }
}

/// serde's "unknown field `F`, expected one of ..." as (F, "expected one of ...").
fn unknown_field(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    Some((field, rest.trim_start_matches(',').trim()))
}

/// The stand-ins, in the order they are tried at one key (each at most once).
#[derive(Clone, Copy)]
enum StandIn {
    /// A value of the kind config says was asked for.
    Asked,
    /// The shipped example's value at the same key: a required choice (`delivery.mode`) has
    /// no stand-in of any plain kind, and a sensible value says least of its own.
    Example,
    /// None: the key's default, if it has one (never an array's item: its neighbours would
    /// shift).
    Leave,
    Text,
    Table,
    List,
    Number,
    Flag,
}

const STAND_INS: [StandIn; 8] = [
    StandIn::Asked,
    StandIn::Example,
    StandIn::Leave,
    StandIn::Text,
    StandIn::Table,
    StandIn::List,
    StandIn::Number,
    StandIn::Flag,
];

/// The shipped example configuration, only as a source of stand-ins. A stand-in is never
/// run: the reading that needed one has an issue, so the configuration is refused.
const EXAMPLE: &str = include_str!("../../config/sendwatch.toml");

fn example() -> Option<Value> {
    use config::{Config, File, FileFormat, Source as _};
    let example = Config::builder()
        .add_source(File::from_str(EXAMPLE, FileFormat::Toml))
        .build()
        .ok()?;
    Some(tree(example.collect().ok()?))
}

/// The next stand-in at `path` not yet in `tried` (a bit per [`STAND_INS`] entry), and the
/// value to put there; None when every one has been tried.
fn stand_in(
    path: &[Seg],
    asked: Option<&str>,
    missing: bool,
    example: Option<&Value>,
    tried: &mut u16,
) -> Option<Option<Value>> {
    let value = |kind: ValueKind| Some(Value::new(None, kind));
    let item = matches!(path.last(), Some(Seg::Index(_)));
    for (bit, s) in STAND_INS.iter().enumerate() {
        if *tried & (1 << bit) != 0 {
            continue;
        }
        *tried |= 1 << bit;
        let put = match (s, asked) {
            (StandIn::Asked, Some(asked)) => value(if asked.contains("integer") {
                ValueKind::I64(0)
            } else if asked.contains("floating") {
                ValueKind::Float(0.0)
            } else if asked.contains("boolean") {
                ValueKind::Boolean(false)
            } else if asked.contains("string") {
                ValueKind::String(String::new())
            } else if asked.contains("array") {
                ValueKind::Array(Vec::new())
            } else {
                ValueKind::Table(Map::new())
            }),
            (StandIn::Asked, None) => continue,
            (StandIn::Leave, _) if item || missing => continue,
            (StandIn::Leave, _) => None,
            (StandIn::Example, _) => match example.and_then(|e| get(e, path)) {
                Some(v) => Some(v.clone()),
                None => continue,
            },
            (StandIn::Text, _) => value(ValueKind::String(String::new())),
            (StandIn::Table, _) => value(ValueKind::Table(Map::new())),
            (StandIn::List, _) => value(ValueKind::Array(Vec::new())),
            (StandIn::Number, _) => value(ValueKind::I64(0)),
            (StandIn::Flag, _) => value(ValueKind::Boolean(false)),
        };
        return Some(put);
    }
    None
}

/// The file that set `v`: its own origin, or for a table the one file that set all of it.
fn origin(v: &Value) -> Option<String> {
    fn gather(v: &Value, out: &mut BTreeSet<String>) {
        match (v.origin(), &v.kind) {
            (Some(o), _) => {
                out.insert(o.to_string());
            }
            (None, ValueKind::Table(t)) => t.values().for_each(|c| gather(c, out)),
            (None, ValueKind::Array(a)) => a.iter().for_each(|c| gather(c, out)),
            (None, _) => {}
        }
    }
    let mut all = BTreeSet::new();
    gather(v, &mut all);
    match all.len() {
        1 => all.pop_first().map(shown),
        _ => None,
    }
}

/// A file as config names it, relative to the working directory, unless that climbs out of
/// it (`../../../etc/sendwatch/sendwatch.toml` from `/var/lib/sendwatch`): then in full.
fn shown(origin: String) -> String {
    let path = std::path::Path::new(&origin);
    let climbs = matches!(
        path.components().next(),
        Some(std::path::Component::ParentDir)
    );
    match climbs.then(|| std::fs::canonicalize(path).ok()).flatten() {
        Some(full) => full.display().to_string(),
        None => origin,
    }
}

fn get<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for seg in path {
        v = match (seg, &v.kind) {
            (Seg::Key(k), ValueKind::Table(t)) => t.get(k)?,
            (Seg::Index(i), ValueKind::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Set the value at `path` (None: remove it); false if its table or array is not there.
fn put(tree: &mut Value, path: &[Seg], value: Option<Value>) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    let mut v = tree;
    for seg in parent {
        v = match (seg, &mut v.kind) {
            (Seg::Key(k), ValueKind::Table(t)) => match t.get_mut(k) {
                Some(c) => c,
                None => return false,
            },
            (Seg::Index(i), ValueKind::Array(a)) => match a.get_mut(*i) {
                Some(c) => c,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, &mut v.kind, value) {
        (Seg::Key(k), ValueKind::Table(t), Some(value)) => {
            t.insert(k.clone(), value);
        }
        (Seg::Key(k), ValueKind::Table(t), None) => {
            t.remove(k);
        }
        (Seg::Index(i), ValueKind::Array(a), Some(value)) if *i < a.len() => a[*i] = value,
        _ => return false,
    }
    true
}

/// config's flat key (`kpis.1/5.milestones[0].from`, a key not quoted) as steps, matched
/// against the tree so that a key holding a dot stays one step.
fn resolve(tree: &Value, flat: &str) -> Vec<Seg> {
    let mut path = Vec::new();
    let mut at = Some(tree);
    let mut rest = flat;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('[')
            && let Some((n, r)) = r.split_once(']')
            && let Ok(i) = n.parse::<usize>()
        {
            path.push(Seg::Index(i));
            at = at.and_then(|v| get(v, &[Seg::Index(i)]));
            rest = r;
            continue;
        }
        let known = match at.map(|v| &v.kind) {
            Some(ValueKind::Table(t)) => t
                .keys()
                .filter(|k| {
                    rest.strip_prefix(k.as_str())
                        .is_some_and(|r| r.is_empty() || r.starts_with(['.', '[']))
                })
                .max_by_key(|k| k.len())
                .cloned(),
            _ => None,
        };
        let key = known.unwrap_or_else(|| {
            let end = rest.find(['.', '[']).unwrap_or(rest.len()).max(1);
            rest[..end].to_string()
        });
        rest = &rest[key.len()..];
        at = at.and_then(|v| get(v, &[Seg::Key(key.clone())]));
        path.push(Seg::Key(key));
    }
    path
}

/// A key as the checks write it: `kpis."1/5".milestones[0]` (a key that is not bare quoted).
fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The steps of a key as the checks write it ([`render`]'s inverse); stops at what it cannot
/// read (a `*`, say), which then names no value.
fn parse(key: &str) -> Vec<Seg> {
    let mut path = Vec::new();
    let mut rest = key;
    while let Some(c) = rest.chars().next() {
        match c {
            '.' => rest = &rest[1..],
            '[' => {
                let Some((n, r)) = rest[1..].split_once(']') else {
                    break;
                };
                let Ok(i) = n.parse() else {
                    break;
                };
                path.push(Seg::Index(i));
                rest = r;
            }
            '"' => {
                let mut key = String::new();
                let mut chars = rest[1..].char_indices();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => key.extend(chars.next().map(|(_, c)| c)),
                        '"' => {
                            end = Some(i + 2);
                            break;
                        }
                        c => key.push(c),
                    }
                }
                let Some(end) = end else {
                    break;
                };
                path.push(Seg::Key(key));
                rest = &rest[end..];
            }
            _ => {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                path.push(Seg::Key(rest[..end].to_string()));
                rest = &rest[end..];
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_renders_and_parses_back() {
        let path = vec![
            Seg::Key("kpis".into()),
            Seg::Key("1/5".into()),
            Seg::Key("milestones".into()),
            Seg::Index(2),
            Seg::Key("from".into()),
        ];
        let key = render(&path);
        assert_eq!(key, "kpis.\"1/5\".milestones[2].from");
        assert_eq!(parse(&key), path);
        assert_eq!(
            parse("sources.*.password"),
            vec![
                Seg::Key("sources".into()),
                Seg::Key("*".into()),
                Seg::Key("password".into())
            ]
        );
    }

    #[test]
    fn a_flat_key_keeps_a_dotted_table_key_whole() {
        let mut kpis = Map::new();
        kpis.insert(
            "1.5".to_string(),
            Value::new(None, ValueKind::Table(Map::new())),
        );
        let mut top = Map::new();
        top.insert("kpis".to_string(), Value::new(None, ValueKind::Table(kpis)));
        let path = resolve(&tree(top), "kpis.1.5.owner");
        assert_eq!(render(&path), "kpis.\"1.5\".owner");
    }

    #[test]
    fn a_file_outside_the_working_directory_is_named_in_full() {
        let cwd = std::env::current_dir().expect("cwd");
        let name = cwd.file_name().expect("a folder").to_string_lossy();
        let climbing = format!("../{name}/Cargo.toml");
        assert_eq!(
            shown(climbing),
            cwd.join("Cargo.toml")
                .canonicalize()
                .expect("canonical")
                .display()
                .to_string()
        );
        assert_eq!(shown("config/x.toml".into()), "config/x.toml");
        assert_eq!(shown("the environment".into()), "the environment");
    }

    #[test]
    fn serdes_unknown_field_message_is_read() {
        assert_eq!(
            unknown_field("unknown field `mdoe`, expected one of `mode`, `folder`"),
            Some(("mdoe", "expected one of `mode`, `folder`"))
        );
        assert_eq!(unknown_field("invalid type: string"), None);
    }
}
