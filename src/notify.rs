//! Notify: turn slipped KPIs and changes of a risk's score into one digest per recipient
//! (every sub-group they are an owner of), queue it in the outbox unless it is no news, and
//! deliver it.
//!
//! Stages, one file each: [`group`] (which sub-group hears of which KPI), [`view`] (the digest
//! as strings already through disclosure control; its risk section in `risk`), [`render`]
//! (view to subject, text and HTML through the templates), [`chart`] (a slipping KPI's trend
//! as a PNG), [`data`] (news about a source for its data owner), [`admin`] (an abandoned run or a missed dead-man deadline, for the administrator), [`deliver`] (SMTP or `.eml` files, errors classified as
//! permanent or worth retrying). The outbox itself lives in [`crate::store`].

mod action_note;
pub mod admin;
pub mod chart;
mod context;
pub mod data;
pub mod deliver;
pub mod group;
mod mime;
mod probe;
pub mod render;
mod risk;
mod settings;
pub mod view;

pub use admin::{AdminNotice, DeadManNotice, render_admin_notice, render_dead_man_notice};
pub use data::{DataIssue, DataNotice, render_data_notice};
pub use deliver::{DeliveryError, DeliverySummary, Transport, deliver_pending};
pub use group::{
    ActionNote, Digest, RecipientDigest, Silenced, SourceNote, by_recipient, group_exceptions,
};
pub use probe::probe_smtp;
pub use render::{
    Image, Mail, RenderError, Rendered, Templates, beside, render, render_for, render_mail,
    suppress,
};
pub use settings::{
    DeliveryMode, DeliverySettings, NotifySettings, SmtpSettings, SmtpTls, SubGroup,
    sub_group_names,
};
