//! Notify: turn slipped KPIs and changes of a risk's score into one digest per recipient
//! (every sub-group they are an owner of), queue it in the outbox unless it is no news, and
//! deliver it.
//!
//! Stages, one file each: [`item`] (news as labelled items), [`route`] (who hears of which item), [`silence`] (items held back), [`group`] (one digest per recipient), [`view`] (the digest
//! as strings already through disclosure control, its rows from [`crate::view`]), [`render`]
//! (view to subject, text and HTML through the templates, a slipping KPI's trend drawn as a
//! PNG by [`crate::view::chart`]), [`data`] (news about a source for its data owner), [`admin`] (an abandoned run
//! or a missed dead-man deadline, for the administrator), [`deliver`] (SMTP or `.eml` files,
//! each row claimed, errors classified as permanent, worth retrying later, or ambiguous; its
//! MIME shape in `mime`). [`outbox`] is the one way from news to the outbox: one
//! [`Outgoing`] shape for every message ([`crate::news`]); [`data_news`] routes, keys and
//! queues a run's data notices. The outbox's tables live in [`crate::store`].

mod action_note;
pub mod admin;
pub mod answer_mail;
pub mod chase;
mod context;
pub mod data;
pub mod data_news;
pub mod deliver;
pub mod group;
pub mod item;
pub mod matcher;
mod mime;
pub mod outbox;
pub mod plan;
mod probe;
pub mod render;
pub mod route;
mod run_mail;
mod settings;
pub mod silence;
pub mod view;

pub use crate::news::{Decision, NewsKey, Outgoing, Part, Reason};
pub use admin::{
    AdminNotice, DeadManNotice, DeliveryNotice, render_admin_notice, render_dead_man_notice,
    render_delivery_notice,
};
pub use data::{DataIssue, DataNotice, render_data_notice};
pub use data_news::SourceNews;
pub use deliver::{DeliveryError, DeliverySummary, Pass, Transport, deliver_pending};
pub use group::{ActionNote, Digest, RecipientDigest, Silenced, by_recipient, group_exceptions};
pub use outbox::{ADMIN_GROUP, PackMail, RunMail, queue_for_admin, queue_run};
pub use plan::{PlanInputs, Planned, plan};
pub use probe::probe_smtp;

/// What a run tells people with: the way mail leaves (SMTP or a folder) and the templates
/// its digests and notices are laid out in (built in, or a council's from
/// `[notify] templates_dir`).
#[derive(Debug, Clone)]
pub struct Notifier {
    pub transport: Transport,
    pub templates: std::sync::Arc<Templates>,
}

impl Notifier {
    pub fn build(
        delivery: &DeliverySettings,
        notify: &NotifySettings,
    ) -> Result<Notifier, BuildNotifierError> {
        Ok(Notifier {
            transport: Transport::build(delivery)?,
            templates: std::sync::Arc::new(Templates::load(notify.templates_dir.as_deref())?),
        })
    }
}

/// Why a [`Notifier`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildNotifierError {
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error(transparent)]
    Templates(#[from] RenderError),
}
pub use render::{
    Image, Mail, Prepared, RenderError, Rendered, Stop, Templates, beside, lay_out, prepare,
    render, render_for, render_mail,
};
pub use settings::{
    DeliveryMode, DeliverySettings, NotifySettings, RetrySettings, RouteSettings, SmtpSettings,
    SmtpTls, SubGroup, check_address, is_loopback_host, sub_group_names,
};
