//! Routing: who hears of an item, as data (`[[notify.routes]]`, as in Alertmanager's routing
//! tree, flattened). Pure.
//!
//! Each route has matchers (`kpi=3/3`, `sub_group!=health`, `kind=~breach|no_data`; all must
//! hold), recipients (the item's sub-group's `owners`, the owners of named `sub_groups`,
//! explicit `to` addresses, named `lists` from `[notify.recipients]`, the source's data owner,
//! the administrator), `continue` (default false: the first matching route wins) and
//! `send_resolved` (default true). An item no route matches goes to the administrator
//! (`[admin] email`), the default route. The same matcher syntax serves silences.
//!
//! Owns: [`Router`] (the matchers are [`super::matcher`]'s). Must not: read the store or the
//! clock.

use std::collections::BTreeMap;

use super::item::Item;
use super::matcher::{Matcher, all_match, parse_matchers};
use super::settings::{RouteSettings, SubGroup};

/// One person who hears of an item, and in which sub-group's section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub recipient: String,
    /// Key of the sub-group whose section carries it (the item's own, or a named
    /// sub-group's for `sub_groups`: the risk log's holder files risk changes under itself).
    pub section: String,
    pub send_resolved: bool,
}

/// Everything routing needs: the routes and the directory of recipients.
#[derive(Debug, Clone)]
pub struct Router<'a> {
    routes: Vec<(Vec<Matcher>, &'a RouteSettings)>,
    pub sub_groups: &'a BTreeMap<String, SubGroup>,
    lists: &'a BTreeMap<String, Vec<String>>,
    /// Each source's data owner's address.
    source_owners: BTreeMap<String, String>,
    admin: Option<&'a str>,
}

impl<'a> Router<'a> {
    /// Build from checked settings; a route whose matchers do not parse (check-config refuses
    /// it) matches nothing.
    pub fn new(
        routes: &'a [RouteSettings],
        sub_groups: &'a BTreeMap<String, SubGroup>,
        lists: &'a BTreeMap<String, Vec<String>>,
        source_owners: BTreeMap<String, String>,
        admin: Option<&'a str>,
    ) -> Router<'a> {
        let routes = routes
            .iter()
            .filter_map(|r| Some((parse_matchers(&r.matchers).ok()?, r)))
            .collect();
        Router {
            routes,
            sub_groups,
            lists,
            source_owners,
            admin,
        }
    }

    /// Who hears of `item`: the recipients of each matching route down to the first without
    /// `continue`; the administrator when none matches. Each (recipient, section) once,
    /// addresses compared without regard to case.
    pub fn route(&self, item: &Item) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        let mut push = |recipient: &str, section: &str, send_resolved: bool| {
            let key = recipient.trim().to_ascii_lowercase();
            if let Some(t) = out
                .iter_mut()
                .find(|t| t.recipient.to_ascii_lowercase() == key && t.section == section)
            {
                t.send_resolved |= send_resolved;
            } else {
                out.push(Target {
                    recipient: recipient.trim().to_string(),
                    section: section.to_string(),
                    send_resolved,
                });
            }
        };
        let mut matched = false;
        for (matchers, r) in &self.routes {
            if !all_match(matchers, item) {
                continue;
            }
            matched = true;
            let resolved = r.send_resolved.unwrap_or(true);
            let own = item.sub_group.as_str();
            if r.owners
                && let Some(g) = self.sub_groups.get(own)
            {
                g.owners.iter().for_each(|o| push(o, own, resolved));
            }
            for key in &r.sub_groups {
                if let Some(g) = self.sub_groups.get(key) {
                    g.owners.iter().for_each(|o| push(o, key, resolved));
                }
            }
            for a in &r.to {
                push(a, own, resolved);
            }
            for l in &r.lists {
                for a in self.lists.get(l).into_iter().flatten() {
                    push(a, own, resolved);
                }
            }
            if r.source_owner
                && let Some(a) = item.source.as_ref().and_then(|s| self.source_owners.get(s))
            {
                push(a, own, resolved);
            }
            if r.admin
                && let Some(a) = self.admin
            {
                push(a, own, resolved);
            }
            if !r.continue_ {
                break;
            }
        }
        if !matched && let Some(a) = self.admin {
            push(a, &item.sub_group, true);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::item::{ItemKind, Severity};
    use crate::notify::matcher::MatcherError;

    fn item(kind: ItemKind, sub_group: &str, kpi: Option<&str>) -> Item {
        Item {
            kind,
            sub_group: sub_group.into(),
            kpi: kpi.map(str::to_string),
            risk: None,
            source: None,
            action: None,
            severity: Severity::Critical,
            period: "2021-07".into(),
            state: "RED".into(),
        }
    }

    fn m(s: &str) -> Matcher {
        s.parse().expect(s)
    }

    #[test]
    fn matchers_equal_not_equal_and_anchored_regex() {
        let i = item(ItemKind::Breach, "health", Some("1/5"));
        assert!(m("kpi=1/5").matches(&i));
        assert!(!m("kpi=1/50").matches(&i));
        assert!(m("kpi!=3/3").matches(&i));
        assert!(m("sub_group=~heal.*").matches(&i));
        assert!(!m("sub_group=~heal").matches(&i), "anchored");
        assert!(m("kind=~breach|no_data").matches(&i));
        assert!(m("kind!~risk_.*").matches(&i));
        assert!(m("severity=critical").matches(&i));
        assert!(m(" kpi = \"1/5\" ").matches(&i), "spaces and quotes");
        // An absent label reads as empty.
        assert!(m("risk=").matches(&i));
        assert!(!m("risk=~.+").matches(&i));
        assert!(m("risk!=R10").matches(&i));
    }

    #[test]
    fn bad_matchers_say_why() {
        assert!(matches!(
            "kpi".parse::<Matcher>(),
            Err(MatcherError::Syntax(_))
        ));
        assert!(matches!(
            "colour=red".parse::<Matcher>(),
            Err(MatcherError::Label(_))
        ));
        assert!(matches!(
            "kpi=~(".parse::<Matcher>(),
            Err(MatcherError::Regex { .. })
        ));
        let long = format!("kpi=~{}", "a".repeat(300));
        assert!(matches!(
            long.parse::<Matcher>(),
            Err(MatcherError::TooLong(_))
        ));
        // Bounded: a huge repetition does not compile.
        assert!("kpi=~(a{1000}){1000}".parse::<Matcher>().is_err());
        assert_eq!(
            parse_matchers(&["kpi=1/5".into(), "x=1".into()]).map(|_| ()),
            Err((1, MatcherError::Label("x".into())))
        );
    }

    fn groups() -> BTreeMap<String, SubGroup> {
        let g = |name: &str, owners: &[&str]| SubGroup {
            name: name.into(),
            owners: owners.iter().map(|s| s.to_string()).collect(),
            lead: None,
        };
        BTreeMap::from([
            ("health".into(), g("Health", &["h@x.org", "dco@x.org"])),
            ("governance".into(), g("Governance", &["gov@x.org"])),
        ])
    }

    fn route(matchers: &[&str]) -> RouteSettings {
        RouteSettings {
            matchers: matchers.iter().map(|s| s.to_string()).collect(),
            ..RouteSettings::default()
        }
    }

    fn who(targets: &[Target]) -> Vec<(String, String, bool)> {
        targets
            .iter()
            .map(|t| (t.recipient.clone(), t.section.clone(), t.send_resolved))
            .collect()
    }

    #[test]
    fn first_match_wins_continue_goes_on_and_the_default_is_the_administrator() {
        let groups = groups();
        let lists = BTreeMap::from([(
            "ccg".to_string(),
            vec!["\"Smith, John\" <john@ccg.example>".to_string()],
        )]);
        let routes = vec![
            RouteSettings {
                lists: vec!["ccg".into()],
                continue_: true,
                send_resolved: Some(false),
                ..route(&["kpi=1/5"])
            },
            RouteSettings {
                owners: true,
                ..route(&["kind=~breach|no_data"])
            },
            RouteSettings {
                to: vec!["never@x.org".into()],
                ..route(&["sub_group=health"])
            },
        ];
        let r = Router::new(
            &routes,
            &groups,
            &lists,
            BTreeMap::new(),
            Some("admin@x.org"),
        );
        // 1/5: the CCG list (continue), then the owners; the third route is not reached.
        assert_eq!(
            who(&r.route(&item(ItemKind::Breach, "health", Some("1/5")))),
            [
                (
                    "\"Smith, John\" <john@ccg.example>".into(),
                    "health".into(),
                    false
                ),
                ("h@x.org".into(), "health".into(), true),
                ("dco@x.org".into(), "health".into(), true),
            ]
        );
        // 5/4: the owners only (first match wins).
        assert_eq!(
            r.route(&item(ItemKind::Breach, "health", Some("5/4")))
                .len(),
            2
        );
        // A failed run matches no route: the administrator.
        assert_eq!(
            who(&r.route(&Item::run_failed("monthly"))),
            [("admin@x.org".into(), String::new(), true)]
        );
        // No administrator: nobody (the caller logs it).
        let r = Router::new(&routes, &groups, &lists, BTreeMap::new(), None);
        assert!(r.route(&Item::run_failed("monthly")).is_empty());
    }

    #[test]
    fn a_named_sub_group_files_the_item_under_its_own_section_once_per_person() {
        let groups = groups();
        let lists = BTreeMap::new();
        let routes = vec![RouteSettings {
            owners: true,
            sub_groups: vec!["governance".into()],
            ..route(&["kind=~risk_raised|risk_lowered"])
        }];
        let r = Router::new(&routes, &groups, &lists, BTreeMap::new(), None);
        let mut i = item(ItemKind::RiskRaised, "health", None);
        i.risk = Some("R10".into());
        assert_eq!(
            who(&r.route(&i)),
            [
                ("h@x.org".into(), "health".into(), true),
                ("dco@x.org".into(), "health".into(), true),
                ("gov@x.org".into(), "governance".into(), true),
            ]
        );
        // The holder's own risk: said once.
        i.sub_group = "governance".into();
        assert_eq!(
            who(&r.route(&i)),
            [("gov@x.org".into(), "governance".into(), true)]
        );
    }

    #[test]
    fn a_source_item_goes_to_the_source_owner() {
        let groups = groups();
        let lists = BTreeMap::new();
        let routes = vec![RouteSettings {
            source_owner: true,
            ..route(&["kind=~stale_data|data_quality"])
        }];
        let owners = BTreeMap::from([("tracker".to_string(), "data@x.org".to_string())]);
        let r = Router::new(&routes, &groups, &lists, owners, Some("admin@x.org"));
        let t = r.route(&Item::of_source("tracker", true, "stale"));
        assert_eq!(t[0].recipient, "data@x.org");
        // A source with no owner: the route matched, so not the administrator either.
        assert!(r.route(&Item::of_source("other", true, "stale")).is_empty());
    }
}
