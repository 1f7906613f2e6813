//! One run of a job as its steps see it ([`Run`]: its id, its job, its one `now`, its period
//! and whether it records), and the step sequence a run and `sendwatch preview` share
//! ([`App::find`]): the KPIs, the values entered by hand, the action log, the risk register
//! and what stands in the store, read from the sources as they now are. A run records what
//! it finds as it goes; a preview finds the same and records nothing.

use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};

use super::stages::{Stage, Stages};
use super::standing::{Standing, overlay};
use super::{App, JobError};
use crate::kpi::manual::{Entered, Overdue};
use crate::kpi::{Evaluation, Period, StoredResult};
use crate::notify::ActionNote;
use crate::risk::RiskChange;
use crate::schedule::JobSettings;
use crate::store::Sources;

/// One run of a job.
#[derive(Debug, Clone)]
pub(crate) struct Run<'a> {
    pub job: &'a str,
    pub settings: &'a JobSettings,
    /// The run in the ledger, whose findings are recorded with it; `None` for a preview,
    /// which records nothing.
    pub id: Option<i64>,
    /// The run's one reading of the clock: every timestamp it writes is this instant.
    pub now: DateTime<Utc>,
    /// `now`'s day where the area is.
    pub today: NaiveDate,
    /// The month reported on, when asked for (else each KPI's last complete period).
    pub period: Option<Period>,
}

/// What a run found, from which its digests are made.
pub(crate) struct Findings {
    /// The job's KPIs rated for the report period.
    pub evaluations: Vec<Evaluation>,
    pub entered: Vec<Entered>,
    pub overdue: Vec<Overdue>,
    /// The action log's slipped actions and updates wanted.
    pub actions: Vec<ActionNote>,
    /// The changes of a risk's score this run made (a preview: would make).
    pub risks: Vec<RiskChange>,
    /// The risk changes the digests tell: a run's own and any an ended run recorded but
    /// never told (it was killed or failed between the two).
    pub risk_news: Vec<RiskChange>,
    /// The KPI history the triggers and charts read: the latest result of each period.
    pub history: Vec<StoredResult>,
    /// What stands in the store besides the findings (commentary, silences, last told).
    pub standing: Standing,
    /// How long rating the KPIs and assessing the risks took.
    pub stages: Stages,
}

impl App {
    /// `job` as a run at `now`: recorded as run `id`, or a preview with none.
    pub(crate) fn run_of<'a>(
        &'a self,
        job: &'a str,
        id: Option<i64>,
        now: DateTime<Utc>,
        period: Option<Period>,
    ) -> Result<Run<'a>, JobError> {
        Ok(Run {
            job,
            settings: self.job_settings(job)?,
            id,
            now,
            today: now.with_timezone(&self.settings.time_zone()).date_naive(),
            period,
        })
    }

    /// The steps from the sources' current loads to what the digests tell, the same for a
    /// run and a preview: rate the KPIs (a run records each result), read the values entered
    /// by hand and the action log, assess the risk register (a run records its changes, so
    /// the history is read back from the store; a preview puts its own evaluations in place
    /// of the stored ones), and read what stands in the store.
    pub(crate) async fn find(&self, run: &Run<'_>, notes: &Sources) -> Result<Findings, JobError> {
        let mut stages = Stages::default();
        let mut lap = Instant::now();
        let mut window = Vec::new();
        let evaluations = self
            .evaluate_into(
                run.id,
                run.settings,
                notes,
                run.period,
                run.today,
                &mut window,
            )
            .await?;
        stages.lap(Stage::Kpis, &mut lap);
        let (entered, overdue) = self.manual_inputs(run.settings, run.today).await?;
        let actions = self.action_news(run.settings, run.today).await?;
        lap = Instant::now();
        let (risks, risk_news, history) = match run.id {
            Some(id) => {
                let risks = self.assess_risks(id, notes, run.now).await?;
                super::pause_point("risks-recorded");
                let news = self.store.take_untold_risk_news(id).await?;
                let news = news.into_iter().map(|e| e.change).collect();
                (risks, news, self.store.stored_results().await?)
            }
            None => {
                let history = overlay(self.store.stored_results().await?, &window);
                let events = self.store.risk_events().await?;
                let risks = self
                    .risk_changes(history.clone(), &events, notes, run.now)
                    .await?;
                (risks.clone(), risks, history)
            }
        };
        stages.lap(Stage::Risks, &mut lap);
        let standing = self.standing(&evaluations, run.now).await?;
        Ok(Findings {
            evaluations,
            entered,
            overdue,
            actions,
            risks,
            risk_news,
            history,
            standing,
            stages,
        })
    }
}
