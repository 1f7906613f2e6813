//! Filing a run's items into each recipient's sections while routing ([`super::route_digests`]):
//! the KPIs in exception, the chase, risks, actions, early warnings, back on course and
//! resolved, each through one `file` that honours silences.

use std::collections::BTreeMap;

use super::{Chase, Digest, Item, Overdue, RouteInputs, Router, Silenced, Slot, Target};
use super::{chase, silencing, told_exception, told_warning};

/// The sections being filed while routing, and what they are routed by and from.
pub(super) struct Filing<'r, 'g, 'a> {
    pub(super) router: &'r Router<'g>,
    pub(super) inp: &'r RouteInputs<'a>,
    pub(super) slots: BTreeMap<Slot, Digest<'a>>,
}

impl<'a> Filing<'_, '_, 'a> {
    /// File `item` in target `t`'s section with `put`, or list it there as silenced.
    fn file(&mut self, t: &Target, item: &Item, put: impl FnOnce(&mut Digest<'a>)) {
        let slot = (t.recipient.to_ascii_lowercase(), t.section.clone());
        let router = self.router;
        let d = self.slots.entry(slot).or_insert_with(|| Digest {
            sub_group: t.section.clone(),
            sub_group_name: router
                .sub_groups
                .get(&t.section)
                .map_or_else(|| t.section.clone(), |g| g.name.clone()),
            recipients: vec![t.recipient.clone()],
            items: Vec::new(),
            overdue: Vec::new(),
            risks: Vec::new(),
            resolved: Vec::new(),
            actions: Vec::new(),
            warnings: Vec::new(),
            silenced: Vec::new(),
        });
        match silencing(self.inp.silences, item, self.inp.now) {
            Some(s) => {
                let what = item.describe();
                if !d.silenced.iter().any(|x| x.item == what) {
                    d.silenced.push(Silenced {
                        item: what,
                        silence_id: s.id,
                        until: s.ends_at,
                        comment: s.comment.clone(),
                        author: s.author.clone(),
                    });
                }
            }
            None => put(d),
        }
    }

    fn chase(&self) -> Chase<'a> {
        Chase {
            overdue: self.inp.overdue,
            told: self.inp.chase_told,
        }
    }

    fn source(&self, kpi_id: &str) -> Option<&'a str> {
        self.inp.sources.get(kpi_id).map(String::as_str)
    }

    /// The KPIs in exception (and a manual KPI's card for its missing value, with its chase).
    pub(super) fn evaluations(&mut self) {
        let (inp, router, chase) = (self.inp, self.router, self.chase());
        for e in inp.evaluations {
            let Some(item) = Item::of_evaluation(e, self.source(&e.kpi_id)) else {
                continue;
            };
            // A manual KPI's missing value is told by its chase, on the chase's schedule: not
            // once the chase has ended (nor before it begins), not as NO DATA beside its
            // overdue item, and its BASELINE OVERDUE card only with the chase item it goes
            // with, to whom that stage is untold (not on the exceptions' repeat interval).
            let chased = if chase::value_missing(e) {
                match chase.of(&e.kpi_id) {
                    Some(o) if e.rag != crate::kpi::Rag::NoData => Some(o),
                    _ => continue,
                }
            } else {
                None
            };
            for t in router.route(&item) {
                match chased {
                    Some(o) if !chase.untold(&t.recipient, &t.section, o) => {}
                    Some(o) => self.file(&t, &item, |d| {
                        d.items.push(e);
                        add_chase(d, o);
                    }),
                    None => self.file(&t, &item, |d| d.items.push(e)),
                }
            }
        }
    }

    /// The manual values chased this run, to whom their stage is untold (and an escalation
    /// to the sub-group's lead).
    pub(super) fn overdue(&mut self) {
        let (inp, router, chase) = (self.inp, self.router, self.chase());
        for o in inp.overdue {
            let item = Item::of_overdue(o);
            let mut targets = router.route(&item);
            // Escalated: the sub-group's lead hears of it too, in the sub-group's section.
            let lead = router
                .sub_groups
                .get(&o.owner)
                .and_then(|g| g.lead.as_ref());
            if let (crate::kpi::manual::chase::Stage::Escalated { .. }, Some(lead)) =
                (o.stage, lead)
                && !targets
                    .iter()
                    .any(|t| t.recipient.eq_ignore_ascii_case(lead))
            {
                targets.push(crate::notify::route::Target {
                    recipient: lead.clone(),
                    section: o.owner.clone(),
                    send_resolved: false,
                });
            }
            // Told in the runs its stage is untold only: a digest sent for other news does
            // not carry a reminder already given.
            for t in targets
                .iter()
                .filter(|t| chase.untold(&t.recipient, &t.section, o))
            {
                self.file(t, &item, |d| add_chase(d, o));
            }
        }
    }

    pub(super) fn risks_actions_and_warnings(&mut self) {
        let (inp, router) = (self.inp, self.router);
        for c in inp.risks {
            let item = Item::of_risk(c);
            for t in router.route(&item) {
                self.file(&t, &item, |d| d.risks.push(c));
            }
        }
        for a in inp.actions {
            let item = Item::of_action(a);
            for t in router.route(&item) {
                self.file(&t, &item, |d| d.actions.push(a));
            }
        }
        for w in inp.warnings.iter().filter(|w| w.needs_telling()) {
            let item = Item::of_warning(w, self.source(&w.kpi_id));
            for t in router.route(&item) {
                self.file(&t, &item, |d| d.warnings.push(w));
            }
        }
    }

    /// Back on course: a warning the recipient's last digest told, whose KPI is now on
    /// course for the same milestone, is told once more as recovered (its line's band
    /// `on_course`), routed as the warning it takes back: so that a later warning for that
    /// milestone is news again ([`crate::news::decide`]).
    pub(super) fn back_on_course(&mut self) {
        let (inp, router) = (self.inp, self.router);
        for (who, lines) in inp.last_told {
            for (id, milestone, was) in lines.iter().filter_map(|l| told_warning(l)) {
                let Some(w) = inp.warnings.iter().find(|w| {
                    w.kpi_id == id
                        && w.milestone.to_string() == milestone
                        && w.band() == crate::kpi::forecast::Band::OnCourse
                }) else {
                    continue;
                };
                let item = Item::of_recovery(w, was, self.source(&w.kpi_id));
                for t in router
                    .route(&item)
                    .iter()
                    .filter(|t| t.recipient.to_ascii_lowercase() == *who)
                {
                    self.file(t, &item, |d| {
                        if !d.warnings.iter().any(|x| x.kpi_id == w.kpi_id) {
                            d.warnings.push(w)
                        }
                    });
                }
            }
        }
    }

    /// A KPI the recipient's last digest told in exception that is rated and not in
    /// exception now, where the route says `send_resolved`.
    pub(super) fn resolved(&mut self) {
        let (inp, router) = (self.inp, self.router);
        for (who, lines) in inp.last_told {
            for (id, was) in lines.iter().filter_map(|l| told_exception(l)) {
                let Some(e) = inp
                    .evaluations
                    .iter()
                    .find(|e| e.kpi_id == id && !e.rag.is_exception() && e.rated())
                else {
                    continue;
                };
                let item = Item::of_kpi(e, was, self.source(&e.kpi_id));
                for t in router
                    .route(&item)
                    .iter()
                    .filter(|t| t.send_resolved && t.recipient.to_ascii_lowercase() == *who)
                {
                    self.file(t, &item, |d| {
                        if !d.resolved.iter().any(|r| r.kpi_id == e.kpi_id) {
                            d.resolved.push(e)
                        }
                    });
                }
            }
        }
    }
}

/// File chase item `o` in `d`, once per digest, whether the card or the overdue item filed it.
fn add_chase<'a>(d: &mut Digest<'a>, o: &'a Overdue) {
    if !d.overdue.iter().any(|x| x.kpi_id == o.kpi_id) {
        d.overdue.push(o);
    }
}
