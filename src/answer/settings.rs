//! `[answer]`: an area's answering from the digest: how long a link lasts, how many answers
//! the daemon takes a minute, and who approves drafts besides each sub-group's lead. The
//! public URL and the signing key are the deployment's (`[http] public_url`, `link_key`).

use serde::Deserialize;

/// `[answer]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSettings {
    /// Days a link opens its form after the digest that carried it (1 to 90).
    #[serde(default = "default_link_days")]
    pub link_days: u32,
    /// The performance officers: addresses that may approve any draft of the area (a
    /// sub-group's `lead` approves its own sub-group's). With neither, drafts wait for
    /// `sendwatch answers approve`.
    #[serde(default)]
    pub approvers: Vec<String>,
}

fn default_link_days() -> u32 {
    14
}

/// The range `link_days` may take.
pub const LINK_DAYS: (u32, u32) = (1, 90);

impl Default for AnswerSettings {
    fn default() -> AnswerSettings {
        AnswerSettings {
            link_days: default_link_days(),
            approvers: Vec::new(),
        }
    }
}

impl AnswerSettings {
    pub fn check(&self, bad: &mut impl FnMut(String, String)) {
        let (least, most) = LINK_DAYS;
        if !(least..=most).contains(&self.link_days) {
            bad(
                "answer.link_days".into(),
                format!("must be between {least} and {most} (is {})", self.link_days),
            );
        }
        for a in &self.approvers {
            if a.parse::<lettre::message::Mailbox>().is_err() {
                bad(
                    "answer.approvers".into(),
                    format!("`{a}` is not an email address"),
                );
            }
        }
    }
}
