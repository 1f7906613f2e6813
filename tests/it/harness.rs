//! Building a real `App` for a test: a config file laid over the repository's example (its
//! `base`, which names the Sefton plan's folder), pointing at a test database, a source URL
//! and a delivery target; plus readers for what came out.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use sendwatch::config::{Settings, Sources};
use sendwatch::job::{App, RunOptions, RunReport};
use sendwatch::kpi::{Evaluation, TRACKER_COLUMNS, TrackerCase};
use sendwatch::load::{
    Batch, KindDef, LoadError, LoadSettings, ParseSummary, Value, builtin_kinds, parse_bytes,
};
use sendwatch::store::RunStatus;

/// Where a test's mail goes.
pub enum Delivery<'a> {
    Folder(&'a Path),
    /// Plain SMTP to the loopback sink, optionally with credentials.
    Smtp {
        port: u16,
        auth: Option<(&'a str, &'a str)>,
    },
}

/// Path of a file under the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The repository's example configuration, `config/sendwatch.toml` (it names the Sefton plan).
pub fn example_config() -> PathBuf {
    repo("config/sendwatch.toml")
}

/// `text` as a config file laid over the example: `base = "<example>"` first (a top-level key
/// goes before any table).
pub fn over_example(text: &str) -> String {
    format!(
        "base = {:?}\n\n{text}",
        example_config().display().to_string()
    )
}

/// Path of a generated fault fixture, e.g. `fixture("bad-dates")`; `none` is the clean file.
pub fn fixture(fault: &str) -> PathBuf {
    let name = if fault == "none" {
        "tracker.csv".to_string()
    } else {
        format!("tracker__{fault}.csv")
    };
    repo("tests/fixtures/extracts").join(name)
}

/// The generator's record of what it did to a fixture.
pub fn fixture_meta(fault: &str) -> serde_json::Value {
    let mut p = fixture(fault).into_os_string();
    p.push(".meta.json");
    serde_json::from_slice(&std::fs::read(p).expect("meta file")).expect("meta json")
}

/// Write a config override (laid over the example, [`over_example`]) into `dir` and return
/// its path. `extra` is appended verbatim, and
/// the example job reads the tracker only unless `extra` gives its `sources`.
pub fn write_config(
    dir: &Path,
    store_url: &str,
    source_url: &str,
    delivery: Delivery<'_>,
    extra: &str,
) -> PathBuf {
    let delivery = match delivery {
        Delivery::Folder(folder) => format!(
            "[delivery]\nmode = \"folder\"\nfolder = {:?}\n",
            folder.display().to_string()
        ),
        Delivery::Smtp { port, auth } => {
            let mut s = format!(
                "[delivery]\nmode = \"smtp\"\n[delivery.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\ntimeout_secs = 10\n"
            );
            if let Some((u, p)) = auth {
                s.push_str(&format!("username = {u:?}\npassword = {p:?}\n"));
            }
            s
        }
    };
    // The example job also reads the example provider extract and rates the KPIs entered by
    // hand; tests that do not say otherwise run it on the tracker alone (its `sources` given
    // in `extra` win) and leave the manual KPIs out (unless `extra` gives `manual_kpis`).
    const JOB: &str = "[jobs.monthly-exceptions]\n";
    const TRACKER_ONLY: &str = "sources = [\"tracker\"]\n";
    let mut extra = if extra.contains(&format!("{JOB}sources")) {
        extra.to_string()
    } else if extra.contains(JOB) {
        extra.replace(JOB, &format!("{JOB}{TRACKER_ONLY}"))
    } else {
        format!("{extra}\n{JOB}{TRACKER_ONLY}")
    };
    if !extra.contains("manual_kpis") {
        extra = extra.replace(JOB, &format!("{JOB}manual_kpis = false\n"));
    }
    // Daemons in tests serve no HTTP unless the test asks (`[http]` in `extra`): several run
    // at once, and the default port is one.
    if !extra.contains("[http]") {
        extra.push_str("\n[http]\nlisten = \"\"\n");
    }
    let text = over_example(&format!(
        "[general]\ndata_dir = {data:?}\n\n[store]\nurl = {store_url:?}\n\n[sources.tracker]\nkind = \"tracker\"\nurl = {source_url:?}\ntimeout_secs = 2\n\n{delivery}\n{extra}\n",
        data = dir.join("data").display().to_string()
    ));
    let path = dir.join("sendwatch-test.toml");
    std::fs::write(&path, text).expect("write test config");
    path
}

/// A config writing mail as `.eml` files into `dir/outbox`, with nothing extra.
pub fn folder_config(dir: &Path, store_url: &str, source_url: &str) -> PathBuf {
    folder_config_with(dir, store_url, source_url, "")
}

/// [`folder_config`] plus `extra` (see [`write_config`]).
pub fn folder_config_with(dir: &Path, store_url: &str, source_url: &str, extra: &str) -> PathBuf {
    write_config(
        dir,
        store_url,
        source_url,
        Delivery::Folder(&outbox(dir)),
        extra,
    )
}

/// Where [`folder_config`] delivers.
pub fn outbox(dir: &Path) -> PathBuf {
    dir.join("outbox")
}

/// Load settings from an override file, without the caller's environment.
pub fn settings(config: &Path) -> Settings {
    Settings::load(&Sources {
        file: Some(config.to_path_buf()),
        env: false,
    })
    .expect("test config is valid")
}

pub async fn app(config: &Path) -> App {
    App::build(settings(config)).await.expect("app builds")
}

/// Run the binary in `dir` with `cfg` as its configuration and only `env` in
/// its environment; (success, stdout, stderr).
pub fn binary(
    dir: &Path,
    cfg: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (bool, String, String) {
    let (code, out, err) = binary_status(dir, cfg, env, args);
    (code == Some(0), out, err)
}

/// [`binary`] with the exit code (`None` if a signal ended it).
pub fn binary_status(
    dir: &Path,
    cfg: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sendwatch"))
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .arg("--config")
        .arg(cfg)
        .args(args)
        .output()
        .expect("run the binary");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Where the example configuration sends the risk log's changes (its holder, governance).
pub const RISK_LOG_HOLDER: &str = "governance@example.org";

/// Mails apart from the report to the risk log's holder: (the others, the holder's).
pub fn apart_from_the_risk_log(mails: Vec<Mail>) -> (Vec<Mail>, Vec<Mail>) {
    mails
        .into_iter()
        .partition(|m| m.header("To").as_deref() != Some(RISK_LOG_HOLDER))
}

/// Decode a quoted-printable body (soft line breaks and =XX escapes), as a mail client would.
pub fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

/// A message's headers (unfolded) and decoded body: for a digest with an HTML part, `body` is
/// its text part, beside the HTML and the inline images by Content-ID.
pub struct Mail {
    pub headers: String,
    pub body: String,
    pub html: Option<String>,
    pub images: Vec<(String, Vec<u8>)>,
}

impl Mail {
    pub fn parse(raw: &str) -> Mail {
        let unix = raw.replace("\r\n", "\n");
        let (headers, body) = unix.split_once("\n\n").unwrap_or((&unix, ""));
        let headers = headers.replace("\n ", " ").replace("\n\t", " ");
        if headers
            .to_ascii_lowercase()
            .contains("content-type: multipart/")
        {
            return Mail::parse_multipart(raw, headers);
        }
        let body = if headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: quoted-printable")
        {
            decode_qp(body)
        } else {
            body.to_string()
        };
        Mail {
            headers,
            body,
            html: None,
            images: Vec::new(),
        }
    }

    fn parse_multipart(raw: &str, headers: String) -> Mail {
        use mail_parser::{MimeHeaders, PartType};
        let m = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("a MIME message");
        let mut mail = Mail {
            headers,
            body: String::new(),
            html: None,
            images: Vec::new(),
        };
        for part in &m.parts {
            match &part.body {
                PartType::Text(t) if mail.body.is_empty() => {
                    mail.body = t.replace("\r\n", "\n");
                }
                PartType::Html(h) => mail.html = Some(h.replace("\r\n", "\n")),
                PartType::Binary(b) | PartType::InlineBinary(b) => {
                    let cid = part.content_id().unwrap_or_default().to_string();
                    mail.images.push((cid, b.to_vec()));
                }
                _ => {}
            }
        }
        mail
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
}

/// The `.eml` files a folder delivery wrote, parsed.
pub fn folder_mail(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|p| {
            let raw = std::fs::read_to_string(p).expect("read eml");
            // Every message the suite receives is scanned (DOMAIN 8).
            crate::support::assert_nothing_disclosive(&raw, &p.display().to_string());
            Mail::parse(&raw)
        })
        .collect()
}

/// An oracle for the figures, written apart from the crate: for one month, how many rows of a
/// clean tracker CSV stopped their clock in that month, and how many of those within `limit`
/// days. `start_col`/`stop_col` are column names; `from` filters on the start date.
pub fn oracle(
    csv_path: &Path,
    start_col: &str,
    stop_col: &str,
    limit: i64,
    month: &str,
    from: Option<&str>,
) -> (u64, u64) {
    let text = std::fs::read_to_string(csv_path).expect("read csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (s, e) = (col(start_col), col(stop_col));
    let (mut on_time, mut total) = (0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f[e].is_empty() || !f[e].starts_with(month) || f[s].is_empty() {
            continue;
        }
        if from.is_some_and(|from| f[s] < from) {
            continue;
        }
        let d = |x: &str| NaiveDate::parse_from_str(x, "%Y-%m-%d").expect("date");
        total += 1;
        if (d(f[e]) - d(f[s])).num_days() <= limit {
            on_time += 1;
        }
    }
    (on_time, total)
}

/// A percentage as the emails print it.
pub fn pct(num: u64, den: u64) -> String {
    format!("{:.1}%", num as f64 * 100.0 / den as f64)
}

/// A value with its counts as the emails print it, "53.1% (26 of 49", written apart from
/// the crate's disclosure rule: the percentage and both counts only when neither count nor
/// their difference is under 5.
pub fn share(num: u64, den: u64) -> String {
    if num >= 5 && den >= 5 && den - num >= 5 {
        format!("{} ({num} of {den}", pct(num, den))
    } else {
        let n = if num < 5 { "<5" } else { "all but <5" };
        format!("not shown: <5 in a count ({n} of {}", count(den))
    }
}

/// A count as the emails print it.
pub fn count(n: u64) -> String {
    if n < 5 { "<5".into() } else { n.to_string() }
}

/// A successful run and the load it left current: the "last good data" of fault tests.
pub struct GoodLoad {
    pub report: RunReport,
    pub load_id: i64,
    pub rows: usize,
}

/// Run the example job (`monthly-exceptions`) once by hand; it must complete (any status).
pub async fn run_example(app: &App) -> RunReport {
    app.run_job("monthly-exceptions", RunOptions::manual())
        .await
        .expect("run")
}

impl GoodLoad {
    /// Run the example job and expect it to load cleanly.
    pub async fn run(app: &App) -> GoodLoad {
        let report = run_example(app).await;
        assert_eq!(report.status, RunStatus::Ok, "{report:?}");
        let (load_id, rows) = current(app).await;
        GoodLoad {
            report,
            load_id,
            rows,
        }
    }

    /// The same load is current, with the same rows, and `after` read the same figures.
    pub async fn assert_still_current(&self, app: &App, after: &RunReport) {
        assert_eq!(
            current(app).await,
            (self.load_id, self.rows),
            "the current load changed"
        );
        assert_eq!(
            figures(after),
            figures(&self.report),
            "the KPIs no longer read the last good data"
        );
    }
}

/// One KPI's evaluation in a run.
pub fn evaluation(r: &RunReport, id: &str) -> Evaluation {
    r.evaluations
        .iter()
        .find(|e| e.kpi_id == id)
        .unwrap_or_else(|| panic!("KPI {id} not evaluated"))
        .clone()
}

/// What a run stored for one KPI and period (`2021-07`): (rag, value).
pub async fn stored(app: &App, run_id: i64, id: &str, period: &str) -> (String, Option<f64>) {
    let rows = app.store.run_results(run_id).await.expect("results");
    let row = rows
        .into_iter()
        .find(|r| r.0 == id && r.1 == period)
        .unwrap_or_else(|| panic!("KPI {id} not stored for {period}"));
    (row.2, row.3)
}

/// Every line of `want` is in `body`.
pub fn assert_lines(body: &str, want: &[&str], what: &str) {
    for w in want {
        assert!(body.contains(w), "{what}: `{w}` not in:\n{body}");
    }
}

/// (kpi, period, value, rag) of a run.
pub fn figures(r: &RunReport) -> Vec<(String, String, Option<f64>, String)> {
    r.evaluations
        .iter()
        .map(|e| {
            (
                e.kpi_id.clone(),
                e.period.to_string(),
                e.value(),
                e.rag.to_string(),
            )
        })
        .collect()
}

/// (id of the tracker's current load, rows it holds).
pub async fn current(app: &App) -> (i64, usize) {
    current_of(app, "tracker", "tracker").await
}

/// (id of `source`'s current load, rows it holds), counted from the stored rows.
pub async fn current_of(app: &App, source: &str, kind_name: &str) -> (i64, usize) {
    let load = app
        .store
        .current_load(source)
        .await
        .expect("query")
        .expect("a current load");
    let k = kind(kind_name);
    let mut rows = 0;
    app.store
        .scan(&load, &k, &[k.key[0].as_str()], |b| rows += b.len())
        .await
        .expect("scan");
    (load.id, rows)
}

/// A shipped extract kind.
pub fn kind(name: &str) -> KindDef {
    builtin_kinds().expect("kinds parse")[name].clone()
}

/// The day the tests pretend to fetch on.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

/// A row as (line, cells as text).
pub type TextRow = (u64, Vec<String>);

/// Parse an extract in memory, in `settings.format`: every accepted row as (line, cells as
/// text), plus the summary.
pub fn parse_rows(
    bytes: &[u8],
    kind_name: &str,
    settings: &LoadSettings,
) -> Result<(ParseSummary, Vec<TextRow>), LoadError> {
    let (summary, batches) = parse_bytes(bytes, "t", &kind(kind_name), settings, today())?;
    Ok((summary, text_rows(&batches)))
}

/// Accepted rows as (line, cells as text): dates ISO, flags Y/N, blanks empty.
pub fn text_rows(batches: &[Batch]) -> Vec<TextRow> {
    let mut rows = Vec::new();
    for b in batches {
        for (line, values) in b.rows() {
            let cells = values
                .iter()
                .map(|v| match v {
                    Value::Null => String::new(),
                    Value::Text(..) => b.str(v).unwrap_or_default().to_string(),
                    Value::Int(n) => n.to_string(),
                    Value::Dec(x) => x.to_string(),
                    Value::Date(d) => d.to_string(),
                    Value::Flag(f) => if *f { "Y" } else { "N" }.to_string(),
                })
                .collect();
            rows.push((line, cells));
        }
    }
    rows
}

/// Parse an extract of a shipped kind and hand each row's `columns` (in that order) to `f`, as
/// a store scan would: the KPI folds' view of a file. Returns its as-of date and its rows.
pub fn scan_bytes(
    bytes: &[u8],
    kind_name: &str,
    columns: &[&str],
    mut f: impl FnMut(&Batch, &[Value]),
) -> (NaiveDate, usize) {
    let k = kind(kind_name);
    let (summary, batches) =
        parse_bytes(bytes, "t", &k, &LoadSettings::default(), today()).expect("a valid extract");
    let at: Vec<usize> = columns
        .iter()
        .map(|c| k.position(c).expect("a column of the kind"))
        .collect();
    let mut rows = 0;
    for b in &batches {
        for (_, values) in b.rows() {
            let picked: Vec<Value> = at.iter().map(|i| values[*i]).collect();
            f(b, &picked);
            rows += 1;
        }
    }
    (summary.as_of.expect("as-of"), rows)
}

/// A tracker extract as the KPIs see it: its cases and its as-of date.
pub fn tracker_cases(bytes: &[u8]) -> (Vec<TrackerCase>, NaiveDate) {
    let mut cases = Vec::new();
    let (as_of, _) = scan_bytes(bytes, "tracker", &TRACKER_COLUMNS, |b, row| {
        cases.push(TrackerCase::from_row(b, row).expect("request date"));
    });
    (cases, as_of)
}

/// A tracker of `copies` × the example's rows, with ids made unique by `tag`.
pub fn big_tracker(copies: usize, tag: &str) -> String {
    let text = std::fs::read_to_string(repo("examples/tracker.csv")).expect("example");
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().expect("header"));
    let rows: Vec<&str> = lines.collect();
    for k in 0..copies {
        for row in &rows {
            let (id, rest) = row.split_once(',').expect("row");
            out.push_str(&format!("{id}-{tag}{k},{rest}\n"));
        }
    }
    out
}

/// The README's layout in a fresh folder: the three example extracts under `examples/` and the
/// example configuration with the Sefton plan under `config/`, the binary's default there, so
/// that its `run-now` with no `--config` is the README's.
pub fn example_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("examples")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("config/plans/sefton")).expect("mkdir");
    // The binary's default configuration in a checkout, and the plan it names.
    let plan = sendwatch::config::plan::PLAN_FILES.map(|f| format!("config/plans/sefton/{f}"));
    for file in [
        "examples/tracker.csv",
        "examples/reviews.csv",
        "examples/provider.csv",
        "config/sendwatch.toml",
    ]
    .into_iter()
    .chain(plan.iter().map(String::as_str))
    {
        std::fs::copy(repo(file), dir.path().join(file)).expect("copy");
    }
    dir
}
