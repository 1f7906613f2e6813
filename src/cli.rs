//! The command line: `daemon`, `run-now [JOB]`, `load FILE --source NAME`, `load approve ID`,
//! `check-config [--connect]`, `kpi show [KPI]`, `runs [JOB]`, `status`, `risks`, `db migrate`,
//! `bench load`, `bench kpi`, `action list|set|history|import`, `comment KPI ...|import|list`,
//! `silence add|list|expire`, `init AREA` (a starter configuration and plan),
//! `stats import|show`.
//!
//! Exit codes: 0 all well; 1 a run failed (a source or a delivery); 2 usage; 78 the
//! configuration is wrong (EX_CONFIG, so systemd and scripts can tell).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::config::{ConfigError, Deployment, Settings, Sources, override_file, redact_url};
use crate::job::App;
use crate::schedule::Entry;
use crate::store::Store;

mod action;
mod answers;
mod comment;
mod connect;
mod init;
mod kpi;
mod load;
mod pack;
mod preview;
mod report;
mod risks;
mod run_now;
mod runs;
mod silence;
mod stats;
mod status;

pub use kpi::KpiCommand;

pub const EXIT_FAILED: u8 = 1;
/// The command was asked wrongly: an unknown KPI, action or silence, a value its rules refuse.
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_CONFIG: u8 = 78;
/// The job was already running and this run was not started (EX_TEMPFAIL: try again later).
pub const EXIT_BUSY: u8 = 75;

#[derive(Debug, Parser)]
#[command(
    name = "sendwatch",
    version,
    about = "Watches a SEND improvement plan's KPIs and emails exception reports"
)]
pub struct Cli {
    /// Configuration file (also $SENDWATCH_CONFIG); default config/sendwatch.toml if the
    /// working directory has it, else /etc/sendwatch/sendwatch.toml.
    #[arg(short, long, global = true)]
    pub config: Option<PathBuf>,
    /// The area a command is for (its id, as `check-config` lists them): required when the
    /// configuration serves several areas (`[areas] dir`).
    #[arg(long, global = true, value_name = "ID")]
    pub area: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the configured jobs on their schedules until SIGTERM.
    Daemon,
    /// Run a job once now (every enabled job if none is named) and print a summary.
    RunNow {
        /// The job, as `[jobs.NAME]` in the configuration; every enabled job if not given.
        job: Option<String>,
        /// Report on the periods complete by the end of this one (YYYY-MM, YYYY-Qn, AYyyyy/yy,
        /// FYyyyy/yy or YYYY) instead of those complete by the data's as-of date.
        #[arg(long)]
        period: Option<crate::kpi::Period>,
        /// Mail a `--period` that starts after the loaded data ends (refused without it).
        #[arg(long, requires = "period")]
        force: bool,
        /// Refuse (exit 75) rather than wait when the job is already running: one run of a
        /// job at a time, so that two never tell the same news.
        #[arg(long)]
        no_wait: bool,
    },
    /// Show what a run of a job (every enabled job if none is named) would mail, to whom, from
    /// the data already loaded: nothing is fetched, recorded, queued or sent.
    Preview {
        /// The job, as `[jobs.NAME]` in the configuration; every enabled job if not given.
        job: Option<String>,
        /// As `run-now --period`.
        #[arg(long)]
        period: Option<crate::kpi::Period>,
        /// Write each email as .eml, .html and .txt into this folder (0700; files 0600).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Validate the configuration and print each job's next fire time.
    CheckConfig {
        /// Also try the database, the SMTP server (EHLO only) and each source.
        #[arg(long)]
        connect: bool,
    },
    /// Load an extract file by hand through the same checks as a run (`load FILE --source
    /// NAME [--dry-run]`), or approve a held load (`load approve LOAD_ID`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Load {
        #[command(subcommand)]
        action: Option<LoadCommand>,
        /// The extract file.
        #[arg(required = true)]
        file: Option<PathBuf>,
        /// The configured source it is an extract of (its kind and reading rules apply).
        #[arg(long, required = true)]
        source: Option<String>,
        /// Check everything, store nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The run ledger, newest first: runs and skipped fire times, who ran them, the notes.
    Runs {
        /// One job's rows only.
        job: Option<String>,
        /// At most this many rows.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// A table to read, or JSON for scripts.
        #[arg(long, value_enum, default_value_t = runs::Format::Table)]
        format: runs::Format,
    },
    /// Each job's last run and next fire time, runs under way, the outbox, each source's load.
    Status,
    /// The KPI catalogue with the latest stored values.
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// The action log: `list`, `set` (a meeting's update), `history`, `import` (a meeting's CSV).
    Action {
        #[command(subcommand)]
        command: action::ActionCommand,
    },
    /// An owner's commentary and recovery plan for a KPI's exception (`comment KPI --period P
    /// --reason ... --actions ...`), a meeting's from a CSV (`comment import`), or the record
    /// (`comment list`).
    Comment(comment::CommentArgs),
    /// The risk register: each risk's likelihood, impact, score and band now, what raised it
    /// and since when; `--history` adds every change.
    Risks(risks::RisksArgs),
    /// Hold back matching items from the reports until a date: `silence add --match kpi=3/3
    /// --until 2027-06-30 --comment TEXT --author NAME`, `silence list [--all]`, `silence
    /// expire ID`.
    Silence {
        #[command(subcommand)]
        command: silence::SilenceCommand,
    },
    /// Answers sent from the digests' links: `answers list [--state S]`, `answers approve ID`,
    /// `answers reject ID`, `answers link --to ADDRESS ...` (a link made by hand).
    Answers {
        #[command(subcommand)]
        command: answers::AnswersCommand,
    },
    /// The board pack: one self-contained HTML file laid out like the plan's appendices (KPI
    /// table with milestones and trends, exceptions and recovery plans, risk log, provenance),
    /// and a PDF of it when Chromium is installed.
    Report(pack::ReportArgs),
    /// Write a commented starter configuration and plan for an area (needs no configuration):
    /// DIR/sendwatch.toml and DIR/plans/SLUG/, an empty plan or a copy of a shipped one.
    Init(init::InitArgs),
    /// The DfE's published statistics: `stats import PATH` (a release's zip, folder or CSV
    /// file), `stats show` (the area beside its region and England).
    Stats {
        #[command(subcommand)]
        command: stats::StatsCommand,
    },
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Benchmarks (need no configuration file): runs `sendwatch-bench` from beside this
    /// binary (`sendwatch bench load --help`, `bench kpi --help`, `bench stats --help`).
    #[command(disable_help_flag = true)]
    Bench {
        /// `load ...`, `kpi ...`, `sen2 ...` or `stats ...`, passed on as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LoadCommand {
    /// Swap in a load the shrink guard held, as the source's current data.
    Approve {
        /// The held load's number, as the notice, `status` and `load` name it.
        load_id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations.
    Migrate,
}

/// Why the binary stops early.
enum Failure {
    Config(ConfigError),
    /// What was asked names nothing there is, or a value the rules refuse: exit 2, as clap's
    /// own usage errors, so that a script can tell it from a run that failed.
    Usage(anyhow::Error),
    Other(anyhow::Error),
}

/// A usage failure with this message.
fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Usage(e.into())
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Other(e)
    }
}

pub fn main(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sendwatch: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let outcome = runtime.block_on(dispatch(cli));
    // A blocking read stuck in the kernel (a hung network file system) must not keep the
    // process alive: give blocking tasks a moment, then exit regardless.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match outcome {
        Ok(code) => code,
        Err(Failure::Config(e)) => {
            eprintln!("sendwatch: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("sendwatch: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Other(e)) => {
            eprintln!("sendwatch: {e:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// Where the configuration comes from: the file `--config` or $SENDWATCH_CONFIG names, and the
/// environment.
fn config_sources(cli: &Cli) -> Sources {
    Sources {
        file: override_file(cli.config.as_deref()),
        env: true,
    }
}

fn load_deployment(cli: &Cli) -> Result<Deployment, Failure> {
    Deployment::load(&config_sources(cli)).map_err(Failure::Config)
}

/// Load the settings and run the command; each command group has its own function.
async fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    // The bench reads no configuration of the user's: it runs before the settings load.
    if let Command::Bench { args } = &cli.command {
        return Ok(bench(args).await?);
    }
    // Nor does init, which writes the configuration.
    if let Command::Init(args) = &cli.command {
        return init::run(args);
    }
    let deployment = load_deployment(&cli)?;
    // Logging is the deployment's: every area has the same `[log]`.
    crate::telemetry::init(deployment.areas[0].log.format);
    let sources = config_sources(&cli);
    // The commands for every area at once.
    match cli.command {
        Command::CheckConfig { connect } if cli.area.is_none() => {
            return Ok(check_every_area(&deployment, connect).await);
        }
        Command::Daemon if cli.area.is_none() => {
            // One pool for every area: the deployment's `[store]`.
            let base = Store::connect(&deployment.areas[0].store)
                .await
                .context("starting")?;
            base.migrate().await.context("starting")?;
            let mut apps = Vec::new();
            for settings in deployment.areas {
                let id = settings.area_id();
                let app = App::build_on(settings, &base)
                    .await
                    .with_context(|| format!("starting area `{id}`"))?;
                apps.push(app);
            }
            crate::daemon::run(apps, sources).await?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let settings = deployment
        .pick(cli.area.as_deref())
        .map_err(|e| usage(anyhow::anyhow!(e)))?
        .clone();
    match cli.command {
        Command::Bench { .. } | Command::Init(_) => {
            unreachable!("bench and init run before the settings load")
        }
        Command::CheckConfig { connect } => Ok(check_config_command(&settings, connect).await),
        Command::Db {
            command: DbCommand::Migrate,
        } => db_migrate(&settings, deployment.several).await,
        Command::Kpi { command } => kpi::run(&settings, command).await,
        Command::Risks(args) => risks::run(&settings, args).await,
        Command::Silence { command } => silence::run(&settings, command).await,
        Command::Answers { command } => answers::run(&settings, command).await,
        Command::Stats { command } => stats::run(&settings, command).await,
        Command::Action { command } => action::run(&settings, command).await,
        Command::Comment(args) => comment::run(&settings, args).await,
        Command::Report(args) => pack::run(&settings, args).await,
        Command::Runs { job, limit, format } => {
            runs::run(&settings, job.as_deref(), limit, format).await
        }
        Command::Status => status::run(&settings).await,
        Command::Load {
            action,
            file,
            source,
            dry_run,
        } => load::run(settings, action, file, source, dry_run).await,
        Command::Daemon => {
            let app = App::build(settings).await.context("starting")?;
            crate::daemon::run(vec![app], sources).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Preview { job, period, out } => {
            preview::run(settings, job, period, out.as_deref()).await
        }
        Command::RunNow {
            job,
            period,
            force,
            no_wait,
        } => run_now::run(settings, job, period, force, no_wait).await,
    }
}

/// `check-config [--connect]`: the templates load, the settings as understood, and with
/// `--connect` the database, SMTP server and sources answer; EX_CONFIG when any does not.
async fn check_config_command(settings: &Settings, connect: bool) -> ExitCode {
    if let Err(e) = crate::notify::Templates::load(settings.notify.templates_dir.as_deref()) {
        eprintln!("sendwatch: [notify] templates_dir: {e}");
        return ExitCode::from(EXIT_CONFIG);
    }
    // A file source's extract that is not there is said, not "configuration OK" (`--connect`
    // probes every source, files too, and says each on its own line).
    let unreadable = if connect {
        Vec::new()
    } else {
        connect::unreadable_sources(settings)
    };
    if !unreadable.is_empty() {
        eprintln!("sendwatch: {}", ConfigError::Invalid(unreadable));
        return ExitCode::from(EXIT_CONFIG);
    }
    check_config(settings);
    if connect && !connect::check(settings).await {
        return ExitCode::from(EXIT_CONFIG);
    }
    ExitCode::SUCCESS
}

/// `check-config` of every area: each one's checks under its id when there are several.
async fn check_every_area(deployment: &Deployment, connect: bool) -> ExitCode {
    let mut code = ExitCode::SUCCESS;
    for settings in &deployment.areas {
        if deployment.several {
            println!("area {} ({}):", settings.area_id(), settings.general.area);
        }
        let this = check_config_command(settings, connect).await;
        if this != ExitCode::SUCCESS {
            code = this;
        }
    }
    code
}

/// `db migrate`: apply pending migrations and say which database is up to date. Rows from
/// before areas become the area's: a single area's at once, one of several's when named.
async fn db_migrate(settings: &Settings, several: bool) -> Result<ExitCode, Failure> {
    let store = Store::connect(&settings.store)
        .await
        .context("connecting to the database")?
        .for_area(settings.area_id().as_str());
    store.migrate().await.context("migrating")?;
    let moved = crate::job::adopt(&store).await.context("migrating")?;
    if moved > 0 {
        println!(
            "{moved} rows from before areas are now area `{}`'s",
            settings.area_id()
        );
    }
    let _ = several;
    println!(
        "database {} ({}) is up to date",
        redact_url(secrecy::ExposeSecret::expose_secret(&settings.store.url)),
        store.backend()
    );
    Ok(ExitCode::SUCCESS)
}

/// The job named, or every enabled job when none is (`run-now`, `preview`).
fn job_names(settings: &Settings, job: Option<String>) -> Result<Vec<String>, Failure> {
    let jobs: Vec<String> = match job {
        Some(j) => vec![j],
        None => settings
            .jobs
            .iter()
            .filter(|(_, j)| j.enabled)
            .map(|(n, _)| n.clone())
            .collect(),
    };
    if jobs.is_empty() {
        return Err(anyhow::anyhow!("no enabled jobs in the configuration").into());
    }
    Ok(jobs)
}

fn check_config(s: &Settings) {
    let tz = s.time_zone();
    let now = Utc::now();
    println!("configuration OK");
    println!(
        "  store:    {}",
        redact_url(secrecy::ExposeSecret::expose_secret(&s.store.url))
    );
    match s.delivery.mode {
        crate::notify::DeliveryMode::Folder => {
            println!("  delivery: .eml files in {}", s.delivery.folder.display())
        }
        crate::notify::DeliveryMode::Smtp => println!(
            "  delivery: SMTP {}:{} ({:?})",
            s.delivery.smtp.host, s.delivery.smtp.port, s.delivery.smtp.tls
        ),
    }
    match s.http.addr() {
        Some(a) => println!("  http:     the daemon serves /healthz and /metrics on {a}"),
        None => println!("  http:     off"),
    }
    match &s.plan.dir {
        // A plan with no KPIs (a skeleton from `init`) rates nothing: said, not left to guess.
        Some(dir) if s.kpis.is_empty() => println!(
            "  plan:     {}: no KPIs (its kpis.toml lists none yet)",
            dir.display()
        ),
        Some(dir) => println!("  plan:     {}", dir.display()),
        None => println!("  plan:     none named ([plan] dir): no KPIs, risks or actions"),
    }
    for (name, src) in &s.sources {
        println!(
            "  source {name}: {} from {}",
            src.kind,
            redact_url(&src.url)
        );
    }
    for (id, k) in s.kpis.iter() {
        let computed = if k.measure.is_some() { "" } else { " (manual)" };
        let state = if k.enabled { "" } else { " (disabled)" };
        println!("  KPI {id}: {} -> {}{computed}{state}", k.title, k.owner);
    }
    for (id, r) in s.risks.ordered() {
        println!(
            "  risk {id}: {} -> {} (score {}, {} trigger{})",
            r.title,
            r.owner,
            r.level().score(),
            r.triggers.len(),
            if r.triggers.len() == 1 { "" } else { "s" }
        );
    }
    for (reference, a) in s.actions.ordered() {
        println!(
            "  action {reference}: {} -> {} (due {}, {})",
            a.title, a.owner, a.due, a.status
        );
    }
    if !s.stats.neighbours.is_empty() {
        println!(
            "  benchmarks: {} beside its region, England and {} (`--connect` checks the \
             imported release names them)",
            s.stats.area.as_deref().unwrap_or(&s.general.area),
            s.stats.neighbours.join(", ")
        );
    }
    let log = &s.action_log;
    match log.next_meeting(now.with_timezone(&tz).date_naive()) {
        Some(m) => println!(
            "  board:    next meeting {m}; an action without an update in the {} days before a \
             meeting is asked for one {} days ahead",
            log.update_days, log.ask_days_before
        ),
        None => println!(
            "  board:    no meeting ahead in [action_log] meetings: no update is asked for"
        ),
    }
    for (name, job) in &s.jobs {
        match Entry::new(name, &job.cron, tz, now)
            .ok()
            .and_then(|e| e.next_due)
        {
            Some(next) => println!(
                "  job {name}: `{}` next fires {} ({}), {} UTC{}",
                job.cron,
                next.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z"),
                tz,
                next.format("%Y-%m-%d %H:%M"),
                if job.enabled { "" } else { " (disabled)" }
            ),
            None => println!("  job {name}: `{}` never fires", job.cron),
        }
    }
}

/// `sendwatch bench ARGS`: the benchmarks live in their own binary, `sendwatch-bench`, beside
/// this one, so that the daemon links none of their code; its exit status is ours.
async fn bench(args: &[std::ffi::OsString]) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let me = std::env::current_exe().context("finding this binary")?;
    let exe = me.with_file_name("sendwatch-bench");
    if !exe.is_file() {
        anyhow::bail!(
            "the benchmarks are a binary of their own, {}, which is not there (cargo build --release builds it)",
            exe.display()
        );
    }
    let status = tokio::process::Command::new(&exe)
        .args(args)
        .status()
        .await
        .with_context(|| format!("running {}", exe.display()))?;
    Ok(match status.code() {
        Some(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        None => ExitCode::from(EXIT_FAILED),
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every command, with no help text: (command path, argument).
    fn without_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if matches!(id, "help" | "version") {
                continue;
            }
            let said = a
                .get_help()
                .is_some_and(|h| !h.to_string().trim().is_empty());
            if !said {
                out.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            without_help(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_argument_of_every_command_says_what_it_is() {
        let mut missing = Vec::new();
        without_help(&super::Cli::command(), "sendwatch", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
