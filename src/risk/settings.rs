//! Risk settings: the register's entries (`[risks.ID]`), their triggers, and the log's holder
//! and score bands (`[risk_log]`).
//!
//! Owns: the settings types and the reading of a trigger's condition from its fields. The
//! shipped register is in `config/plans/sefton/`, checked by [`super::catalogue`]. Must not:
//! read files or know a particular risk.

use serde::Deserialize;

use crate::kpi::Rag;

/// `[risk_log]`: who holds the log and how scores are banded. The default (no holder, no
/// bands) is a plan's without a register.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLogSettings {
    /// The `[sub_groups]` key that holds the log and hears of every change (System Leadership
    /// and Governance, 004:1038).
    pub holder: String,
    /// Bands in score order, each from its lowest score up to the next band's.
    pub bands: Vec<BandSettings>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSettings {
    pub name: String,
    /// Lowest score (1-25) in the band.
    pub from: i64,
}

impl RiskLogSettings {
    /// The band a score falls in: the last whose `from` it reaches (bands are checked to be in
    /// order and to start at 1).
    pub fn band(&self, score: u8) -> &str {
        self.bands
            .iter()
            .rev()
            .find(|b| b.from <= i64::from(score))
            .or(self.bands.first())
            .map_or("", |b| b.name.as_str())
    }
}

/// One risk of the register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSettings {
    pub title: String,
    /// Key of the owning sub-group in `[sub_groups]`.
    pub owner: String,
    /// The person the seeds name for it, if any (shown; mail goes to the owner sub-group).
    pub contact: Option<Contact>,
    /// 1-5, as the register scores it when no trigger fires.
    pub likelihood: i64,
    /// 1-5.
    pub impact: i64,
    /// As the seeds give it.
    pub mitigation: String,
    /// Seed lines the risk comes from ("004:1039-1049").
    #[serde(default)]
    pub cites: Vec<String>,
    #[serde(default)]
    pub triggers: Vec<TriggerSettings>,
}

impl RiskSettings {
    /// The register's level (clamped into 1-5; the check refuses anything outside).
    pub fn level(&self) -> Level {
        Level::new(self.likelihood, self.impact)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
}

/// Likelihood and impact, each 1-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Level {
    pub likelihood: u8,
    pub impact: u8,
}

impl Level {
    /// From configured or stored numbers, clamped into 1-5.
    pub fn new(likelihood: i64, impact: i64) -> Level {
        let clamp = |n: i64| n.clamp(1, 5) as u8;
        Level {
            likelihood: clamp(likelihood),
            impact: clamp(impact),
        }
    }

    pub fn score(self) -> u8 {
        self.likelihood * self.impact
    }

    /// Each of likelihood and impact at the higher of the two.
    pub fn max(self, other: Level) -> Level {
        Level {
            likelihood: self.likelihood.max(other.likelihood),
            impact: self.impact.max(other.impact),
        }
    }
}

/// Which kind of trigger, as written in `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Red,
    NoData,
    Figure,
    Stale,
}

/// Which figure of a KPI's latest result a `figure` trigger compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// The value for the period (a percentage, an average wait).
    Value,
    /// Cases still open past the KPI's limit (backlog, advice outstanding, referrals waiting
    /// over 18 weeks); computed KPIs only.
    OverdueOpen,
}

/// A trigger as written: `kind` and the fields that kind takes, and the level it raises the
/// risk to. Read with [`TriggerSettings::condition`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSettings {
    pub kind: TriggerKind,
    pub kpi: Option<String>,
    /// `red` and `no_data`: how many periods running, 1 to 24 (checked by
    /// [`TriggerSettings::condition`]).
    pub periods: Option<i64>,
    pub figure: Option<Figure>,
    pub above: Option<f64>,
    pub below: Option<f64>,
    pub source: Option<String>,
    /// 1-5: the likelihood while the trigger fires (the register's if not given).
    pub likelihood: Option<i64>,
    /// 1-5: the impact while the trigger fires (the register's if not given).
    pub impact: Option<i64>,
}

/// A threshold and which side of it fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Above(f64),
    Below(f64),
}

impl Bound {
    pub fn passed_by(self, v: f64) -> bool {
        match self {
            Bound::Above(t) => v > t,
            Bound::Below(t) => v < t,
        }
    }
}

/// What a trigger watches, read from its fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The KPI rated `rag` (RED or NO DATA) for its latest `periods` periods running.
    Rated { kpi: String, rag: Rag, periods: u32 },
    /// A figure of the KPI's latest result past a threshold.
    Figure {
        kpi: String,
        figure: Figure,
        bound: Bound,
    },
    /// The source has brought no new data past its deadline.
    Stale { source: String },
}

impl TriggerSettings {
    /// The condition, or why the fields given make no sense together.
    pub fn condition(&self) -> Result<Condition, String> {
        let given = |fields: &[(&str, bool)]| -> Vec<String> {
            fields
                .iter()
                .filter(|(_, set)| *set)
                .map(|(n, _)| (*n).to_string())
                .collect()
        };
        let (kpi, source) = (self.kpi.is_some(), self.source.is_some());
        let (figure, above, below) = (
            self.figure.is_some(),
            self.above.is_some(),
            self.below.is_some(),
        );
        let stray = match self.kind {
            TriggerKind::Red | TriggerKind::NoData => given(&[
                ("source", source),
                ("figure", figure),
                ("above", above),
                ("below", below),
            ]),
            TriggerKind::Figure => {
                given(&[("source", source), ("periods", self.periods.is_some())])
            }
            TriggerKind::Stale => given(&[
                ("kpi", kpi),
                ("periods", self.periods.is_some()),
                ("figure", figure),
                ("above", above),
                ("below", below),
            ]),
        };
        if !stray.is_empty() {
            return Err(format!(
                "{} does not go with kind = \"{}\"",
                stray.join(" and "),
                self.kind_str()
            ));
        }
        let need_kpi = || {
            self.kpi
                .clone()
                .ok_or_else(|| format!("kind = \"{}\" needs kpi", self.kind_str()))
        };
        match self.kind {
            TriggerKind::Red | TriggerKind::NoData => {
                let periods = match self.periods {
                    Some(n @ 1..=24) => n as u32,
                    Some(_) => return Err("periods must be 1 to 24".into()),
                    None => return Err("needs periods (how many periods running)".into()),
                };
                let rag = if self.kind == TriggerKind::Red {
                    Rag::Red
                } else {
                    Rag::NoData
                };
                Ok(Condition::Rated {
                    kpi: need_kpi()?,
                    rag,
                    periods,
                })
            }
            TriggerKind::Figure => {
                let figure = self.figure.ok_or_else(|| {
                    "kind = \"figure\" needs figure (\"value\" or \"overdue_open\")".to_string()
                })?;
                let bound = match (self.above, self.below) {
                    (Some(t), None) => Bound::Above(t),
                    (None, Some(t)) => Bound::Below(t),
                    _ => return Err("give one of above and below".into()),
                };
                let (Bound::Above(t) | Bound::Below(t)) = bound;
                if !t.is_finite() {
                    return Err("the threshold must be a number".into());
                }
                Ok(Condition::Figure {
                    kpi: need_kpi()?,
                    figure,
                    bound,
                })
            }
            TriggerKind::Stale => Ok(Condition::Stale {
                source: self
                    .source
                    .clone()
                    .ok_or_else(|| "kind = \"stale\" needs source".to_string())?,
            }),
        }
    }

    /// The level while the trigger fires: its own likelihood and impact where given, the
    /// register's otherwise.
    pub fn level(&self, register: Level) -> Level {
        Level::new(
            self.likelihood.unwrap_or(i64::from(register.likelihood)),
            self.impact.unwrap_or(i64::from(register.impact)),
        )
    }

    fn kind_str(&self) -> &'static str {
        match self.kind {
            TriggerKind::Red => "red",
            TriggerKind::NoData => "no_data",
            TriggerKind::Figure => "figure",
            TriggerKind::Stale => "stale",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(fields: &str) -> TriggerSettings {
        let text = format!("t = {{ {fields} }}");
        #[derive(Deserialize)]
        struct W {
            t: TriggerSettings,
        }
        let w: W = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("parses");
        w.t
    }

    #[test]
    fn each_kind_is_read_from_its_fields() {
        assert_eq!(
            t("kind = \"red\", kpi = \"1/3a\", periods = 2").condition(),
            Ok(Condition::Rated {
                kpi: "1/3a".into(),
                rag: Rag::Red,
                periods: 2
            })
        );
        assert_eq!(
            t("kind = \"no_data\", kpi = \"1/2a\", periods = 3").condition(),
            Ok(Condition::Rated {
                kpi: "1/2a".into(),
                rag: Rag::NoData,
                periods: 3
            })
        );
        assert_eq!(
            t("kind = \"figure\", kpi = \"5/4\", figure = \"value\", above = 18.0").condition(),
            Ok(Condition::Figure {
                kpi: "5/4".into(),
                figure: Figure::Value,
                bound: Bound::Above(18.0)
            })
        );
        assert_eq!(
            t("kind = \"figure\", kpi = \"1/2a\", figure = \"overdue_open\", below = 3.0")
                .condition(),
            Ok(Condition::Figure {
                kpi: "1/2a".into(),
                figure: Figure::OverdueOpen,
                bound: Bound::Below(3.0)
            })
        );
        assert_eq!(
            t("kind = \"stale\", source = \"provider\"").condition(),
            Ok(Condition::Stale {
                source: "provider".into()
            })
        );
    }

    #[test]
    fn fields_that_make_no_sense_together_are_refused() {
        let err = |f: &str| t(f).condition().expect_err(f);
        assert!(err("kind = \"red\", kpi = \"1/3\"").contains("needs periods"));
        assert!(err("kind = \"red\", kpi = \"1/3\", periods = 0").contains("1 to 24"));
        assert!(err("kind = \"red\", periods = 2").contains("needs kpi"));
        assert!(
            err("kind = \"red\", kpi = \"1/3\", periods = 2, source = \"x\"")
                .contains("source does not go with kind = \"red\"")
        );
        assert!(err("kind = \"figure\", kpi = \"5/4\", above = 1.0").contains("needs figure"));
        assert!(
            err("kind = \"figure\", kpi = \"5/4\", figure = \"value\", above = 1.0, below = 2.0")
                .contains("one of above and below")
        );
        assert!(err("kind = \"figure\", kpi = \"5/4\", figure = \"value\"").contains("one of"));
        assert!(err("kind = \"stale\"").contains("needs source"));
        assert!(err("kind = \"stale\", source = \"x\", kpi = \"1/3\"").contains("kpi does not go"));
    }

    #[test]
    fn a_level_multiplies_and_bands_read_from_their_lowest_score() {
        let l = Level::new(4, 5);
        assert_eq!(l.score(), 20);
        assert_eq!(Level::new(9, 0), Level::new(5, 1), "clamped into 1-5");
        assert_eq!(Level::new(2, 5).max(Level::new(4, 1)), Level::new(4, 5));
        let log = RiskLogSettings {
            holder: "governance".into(),
            bands: [("low", 1), ("medium", 5), ("high", 10), ("very high", 16)]
                .into_iter()
                .map(|(name, from)| BandSettings {
                    name: name.into(),
                    from,
                })
                .collect(),
        };
        let bands: Vec<&str> = [1, 4, 5, 9, 10, 15, 16, 25]
            .into_iter()
            .map(|s| log.band(s))
            .collect();
        assert_eq!(
            bands,
            [
                "low",
                "low",
                "medium",
                "medium",
                "high",
                "high",
                "very high",
                "very high"
            ]
        );
    }
}
