//! The integration binary's harness (libtest-mimic, `harness = false`): each test fn is
//! registered as a [`Spec`] (`trial!(fn_name)` plus what it needs) in its module's `tests()`,
//! and becomes one trial, or two (`::sqlite`, `::postgres`) for a test run on each backend.
//! What the trials need (PostgreSQL, the SMTP sink, systemd-analyze, Chromium, root, the
//! kernel's PR_SET_MDWE) is probed once at start; a trial whose need is missing is listed as
//! ignored, and under `CI=true` runs and fails saying why, unless what is missing is the
//! kernel's (no install step can bring it: such a trial stays ignored). Each trial runs on a thread of its own named after it, with a tokio
//! runtime of its own for an async test, and the thread knows its trial (see [`require`]).

use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

/// Something outside the test binary a trial needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    Postgres,
    Smtp,
    SystemdAnalyze,
    Chromium,
    Root,
    /// `prctl(PR_SET_MDWE)`, Linux 6.3 or later: the kernel's, so ignored even under CI.
    Mdwe,
}

impl Need {
    /// As shown in brackets before a trial's name (`test [smtp] ...`); the backend is not
    /// shown there, the name's `::postgres` says it.
    fn label(self) -> &'static str {
        match self {
            Need::Postgres => "postgres",
            Need::Smtp => "smtp",
            Need::SystemdAnalyze => "systemd",
            Need::Chromium => "chromium",
            Need::Root => "root",
            Need::Mdwe => "mdwe",
        }
    }

    /// What it is, in messages.
    fn what(self) -> &'static str {
        match self {
            Need::Postgres => "PostgreSQL",
            Need::Smtp => "the SMTP sink",
            Need::SystemdAnalyze => "systemd-analyze",
            Need::Chromium => "Chromium",
            Need::Root => "root",
            Need::Mdwe => "the kernel's PR_SET_MDWE",
        }
    }

    /// How a test says it needs this, for the message when it did not.
    fn registration(self) -> &'static str {
        match self {
            Need::Postgres => ".each_backend() or .postgres()",
            Need::Smtp => ".smtp()",
            Need::SystemdAnalyze => ".systemd_analyze()",
            Need::Chromium => ".chromium()",
            Need::Root => ".root()",
            Need::Mdwe => ".mdwe()",
        }
    }

    /// Whether `.ci/run` can bring it: not a kernel feature, which the machine has or not.
    fn installable(self) -> bool {
        self != Need::Mdwe
    }

    /// Whether it is here: `Err` says why not. Probed once per process, bounded (a few
    /// seconds), and only when a trial that is going to be listed needs it.
    pub fn probe(self) -> Result<(), String> {
        static DONE: [OnceLock<Result<(), String>>; 6] = [const { OnceLock::new() }; 6];
        DONE[self as usize]
            .get_or_init(|| match self {
                Need::Postgres => super::db::probe(),
                Need::Smtp => super::smtp::probe(),
                Need::SystemdAnalyze => super::tools::probe_systemd_analyze(),
                Need::Chromium => super::tools::probe_chromium(),
                Need::Root => super::tools::probe_root(),
                Need::Mdwe => super::tools::probe_mdwe(),
            })
            .clone()
    }
}

/// The database a per-backend trial runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// A registered test fn, blocking or async.
#[derive(Clone)]
pub enum Body {
    Blocking(Arc<dyn Fn() + Send + Sync>),
    Async(Arc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>> + Send + Sync>),
}

/// Marks for [`IntoBody`]: a plain `fn()` or an `async fn()`.
pub struct Blocking;
pub struct Awaited;

/// Lets `trial!` take either a `fn()` or an `async fn()`.
pub trait IntoBody<M> {
    fn into_body(self) -> Body;
}

impl<F> IntoBody<Blocking> for F
where
    F: Fn() + Send + Sync + 'static,
{
    fn into_body(self) -> Body {
        Body::Blocking(Arc::new(self))
    }
}

impl<F, Fut> IntoBody<Awaited> for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    fn into_body(self) -> Body {
        Body::Async(Arc::new(move || Box::pin(self())))
    }
}

/// Registers a test fn of this module under `<module>::<fn>`: `trial!(fn_name)`, then what it
/// needs (`.each_backend()`, `.postgres()`, `.smtp()`, ...). See tests/it/main.rs.
macro_rules! trial {
    ($f:ident) => {
        $crate::support::trials::Spec::new(concat!(module_path!(), "::", stringify!($f)), $f)
    };
}
pub(crate) use trial;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backends {
    None,
    Each,
    PostgresOnly,
}

/// One registered test: its name, body and needs; see the builder methods.
pub struct Spec {
    name: &'static str,
    body: Body,
    backends: Backends,
    needs: BTreeSet<Need>,
    workers: Option<usize>,
}

impl Spec {
    /// Use `trial!(fn_name)`, which names it.
    pub fn new<M>(name: &'static str, body: impl IntoBody<M>) -> Spec {
        Spec {
            name,
            body: body.into_body(),
            backends: Backends::None,
            needs: BTreeSet::new(),
            workers: None,
        }
    }

    /// Two trials, `::sqlite` and `::postgres`; in each, `support::backends()` gives that one.
    pub fn each_backend(mut self) -> Spec {
        self.backends = Backends::Each;
        self
    }

    /// One trial, `::postgres`, for a test that calls `support::pg_database()` itself.
    pub fn postgres(mut self) -> Spec {
        self.backends = Backends::PostgresOnly;
        self
    }

    /// Starts `support::SmtpSink` (aiosmtpd under Debian's python3).
    pub fn smtp(self) -> Spec {
        self.needs(Need::Smtp)
    }

    /// Runs `support::chromium()`.
    pub fn chromium(self) -> Spec {
        self.needs(Need::Chromium)
    }

    /// Runs systemd's offline tools (`systemd-analyze` and friends).
    pub fn systemd_analyze(self) -> Spec {
        self.needs(Need::SystemdAnalyze)
    }

    /// Must run as root.
    pub fn root(self) -> Spec {
        self.needs(Need::Root)
    }

    /// Sets `prctl(PR_SET_MDWE)` on a child (`support::tools::mdwe`); ignored where the
    /// kernel lacks it, under `CI=true` too.
    pub fn mdwe(self) -> Spec {
        self.needs(Need::Mdwe)
    }

    /// An async test on a multi-thread runtime with this many workers (what
    /// `#[tokio::test(flavor = "multi_thread", worker_threads = N)]` said); else current-thread.
    pub fn multi_thread(mut self, workers: usize) -> Spec {
        self.workers = Some(workers);
        self
    }

    fn needs(mut self, need: Need) -> Spec {
        self.needs.insert(need);
        self
    }

    /// The trials this spec stands for, before probing.
    fn expand(self) -> Vec<Unit> {
        let name = self
            .name
            .split_once("::")
            .map_or(self.name, |(_, rest)| rest);
        let kind = self
            .needs
            .iter()
            .map(|n| n.label())
            .collect::<Vec<_>>()
            .join(",");
        let unit = |suffix: &str, backend: Option<BackendKind>| {
            let mut needs = self.needs.clone();
            if backend == Some(BackendKind::Postgres) {
                needs.insert(Need::Postgres);
            }
            Unit {
                name: format!("{name}{suffix}"),
                kind: kind.clone(),
                context: Arc::new(Context {
                    backend,
                    needs: needs.into_iter().collect(),
                    panics: Mutex::new(Vec::new()),
                }),
                body: self.body.clone(),
                workers: self.workers,
            }
        };
        match self.backends {
            Backends::None => vec![unit("", None)],
            Backends::Each => vec![
                unit("::sqlite", Some(BackendKind::Sqlite)),
                unit("::postgres", Some(BackendKind::Postgres)),
            ],
            Backends::PostgresOnly => vec![unit("::postgres", Some(BackendKind::Postgres))],
        }
    }
}

/// One trial to be.
struct Unit {
    name: String,
    kind: String,
    context: Arc<Context>,
    body: Body,
    workers: Option<usize>,
}

impl Unit {
    /// Whether the command line selects it (ignoring `--ignored`, which is about the flag).
    fn selected(&self, args: &Arguments) -> bool {
        let probe = Trial::test(self.name.clone(), || Ok(()))
            .with_kind(self.kind.clone())
            .with_ignored_flag(true);
        !args.is_filtered_out(&probe)
    }
}

/// What the running trial is: set on its thread and on its runtime's threads.
struct Context {
    backend: Option<BackendKind>,
    needs: Vec<Need>,
    /// Panic messages from the trial's threads, kept for its failure message instead of
    /// printed at once (as libtest captures them): a test that catches a panic on purpose
    /// leaves no noise, a failing one shows every panic it had.
    panics: Mutex<Vec<(String, Backtrace)>>,
}

thread_local! {
    static CONTEXT: RefCell<Option<Arc<Context>>> = const { RefCell::new(None) };
}

fn context() -> Arc<Context> {
    CONTEXT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        panic!("not on a trial's thread: the test helpers run inside a registered test")
    })
}

/// The backend of the running per-backend trial, `None` in any other.
pub fn backend() -> Option<BackendKind> {
    context().backend
}

/// Panics unless the running trial was registered as needing `need`: a test that uses a
/// server it did not declare would pass silently where that server is missing.
pub fn require(need: Need) {
    if !context().needs.contains(&need) {
        panic!(
            "this test uses {} but is not registered as needing it: add {} to its trial!(...) \
             in its module's tests()",
            need.what(),
            need.registration()
        );
    }
}

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Runs the registered tests as libtest does (same arguments and output), and returns the
/// process's exit code.
pub fn run(specs: Vec<Spec>) -> ExitCode {
    let args = Arguments::from_args();
    let units: Vec<Unit> = specs.into_iter().flat_map(Spec::expand).collect();
    let mut seen = BTreeSet::new();
    for u in &units {
        assert!(seen.insert(&u.name), "{} is registered twice", u.name);
    }

    // Probe, side by side, what the selected trials need.
    let wanted: BTreeSet<Need> = units
        .iter()
        .filter(|u| u.selected(&args))
        .flat_map(|u| u.context.needs.iter().copied())
        .collect();
    std::thread::scope(|s| {
        for need in &wanted {
            s.spawn(|| need.probe());
        }
    });

    let ci = ci();
    if !args.list {
        for need in &wanted {
            if let Err(why) = need.probe() {
                let n = units
                    .iter()
                    .filter(|u| u.selected(&args) && u.context.needs.contains(need))
                    .count();
                let tests = if n == 1 { "test" } else { "tests" };
                if ci && need.installable() {
                    eprintln!("{why}; CI=true, so its {n} {tests} fail");
                } else {
                    eprintln!("{why}; {n} {tests} ignored");
                }
            }
        }
    }

    keep_panics_of_trials();
    let trials = units.into_iter().map(|u| to_trial(u, ci)).collect();
    libtest_mimic::run(&args, trials).exit_code()
}

fn to_trial(u: Unit, ci: bool) -> Trial {
    let missing: Vec<String> = u
        .context
        .needs
        .iter()
        .filter_map(|n| n.probe().err())
        .collect();
    // Under CI a missing need fails the trial, unless one of them is the kernel's.
    let kernel_lacks = u
        .context
        .needs
        .iter()
        .any(|n| !n.installable() && n.probe().is_err());
    let ignored = !missing.is_empty() && (!ci || kernel_lacks);
    let Unit {
        name,
        kind,
        context,
        body,
        workers,
    } = u;
    let thread_name = name.clone();
    Trial::test(name, move || {
        if !missing.is_empty() {
            let why = if ci {
                "CI=true: .ci/run installs and starts what the tests need"
            } else {
                "asked to run all the same with --ignored or --include-ignored"
            };
            return Err(format!("{} ({why})", missing.join("; ")).into());
        }
        let on_thread = context.clone();
        let joined = std::thread::Builder::new()
            .name(thread_name)
            .spawn(move || run_body(on_thread, body, workers))
            .map_err(|e| Failed::from(format!("cannot start the test's thread: {e}")))?
            .join();
        joined.map_err(|payload| {
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            let panics = context
                .panics
                .lock()
                .map(|p| p.iter().map(shown).collect::<Vec<_>>().join("\n"))
                .unwrap_or_default();
            format!("test panicked: {msg}\n\n{panics}").into()
        })
    })
    .with_kind(kind)
    .with_ignored_flag(ignored)
}

fn shown((msg, trace): &(String, Backtrace)) -> String {
    if trace.status() == BacktraceStatus::Captured {
        format!("{msg}\nstack backtrace:\n{trace}")
    } else {
        msg.clone()
    }
}

/// A panic on a trial's thread goes into the trial's list; any other is printed as usual.
fn keep_panics_of_trials() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let Some(context) = CONTEXT.try_with(|c| c.borrow().clone()).ok().flatten() else {
            return default(info);
        };
        let thread = std::thread::current();
        let msg = format!("thread '{}' {info}", thread.name().unwrap_or("<unnamed>"));
        // As the default hook: a backtrace when RUST_BACKTRACE asks for one (resolved only
        // if the trial fails: symbols are slow to look up in a debug build).
        if let Ok(mut panics) = context.panics.lock() {
            panics.push((msg, Backtrace::capture()));
        }
    }));
}

/// On the trial's own thread: a blocking body as is, an async one on a runtime like the one
/// `#[tokio::test]` builds.
fn run_body(context: Arc<Context>, body: Body, workers: Option<usize>) {
    CONTEXT.with(|c| *c.borrow_mut() = Some(context.clone()));
    match body {
        Body::Blocking(f) => f(),
        Body::Async(f) => {
            let mut builder = match workers {
                None => tokio::runtime::Builder::new_current_thread(),
                Some(n) => {
                    let mut b = tokio::runtime::Builder::new_multi_thread();
                    b.worker_threads(n);
                    b
                }
            };
            let runtime = builder
                .enable_all()
                // Tasks on worker and blocking threads see the trial too.
                .on_thread_start(move || {
                    CONTEXT.with(|c| *c.borrow_mut() = Some(context.clone()));
                })
                .build()
                .expect("build the test's tokio runtime");
            runtime.block_on(f());
        }
    }
}
