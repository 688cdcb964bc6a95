//! Indicators of petitions, mediation and leader receptions for a year, each with the items
//! behind its number (the annual report and inspections ask for both).

use std::collections::{BTreeMap, BTreeSet};

use fazhi_domain::access::{PETITION_READ, Principal};
use fazhi_domain::mediation::MediationState;
use fazhi_domain::petition::{Stage, State};
use fazhi_store::mediation::{self as med_store, CaseQuery};
use fazhi_store::petitions as store;
use fazhi_store::receptions as rec_store;

use crate::{App, AppResult, require};

/// What an indicator counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behind {
    Petitions,
    Mediations,
    Receptions,
}

/// One number, or a rate with its numerator and denominator, and the items behind it.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub code: &'static str,
    pub label: &'static str,
    /// How it is counted, in words (shown beside the number).
    pub rule: &'static str,
    pub numerator: usize,
    /// `None` for a plain count.
    pub denominator: Option<usize>,
    pub behind: Behind,
    /// The items behind the numerator (and, for a rate, `others` the rest of the denominator).
    pub ids: Vec<i64>,
    pub others: Vec<i64>,
}

impl Indicator {
    /// `96.5%`, or the count.
    pub fn display(&self) -> String {
        match self.denominator {
            None => self.numerator.to_string(),
            Some(0) => "—".into(),
            Some(d) => format!("{:.1}%", self.numerator as f64 * 100.0 / d as f64),
        }
    }
}

/// The year's indicators plus receptions per leader.
#[derive(Debug, Clone)]
pub struct Indicators {
    pub year: i32,
    pub items: Vec<Indicator>,
    pub per_leader: Vec<(String, usize)>,
}

fn count(code: &'static str, label: &'static str, rule: &'static str, behind: Behind, ids: Vec<i64>) -> Indicator {
    Indicator { code, label, rule, numerator: ids.len(), denominator: None, behind, ids, others: Vec::new() }
}

fn rate(
    code: &'static str,
    label: &'static str,
    rule: &'static str,
    behind: Behind,
    yes: Vec<i64>,
    no: Vec<i64>,
) -> Indicator {
    Indicator {
        code,
        label,
        rule,
        numerator: yes.len(),
        denominator: Some(yes.len() + no.len()),
        behind,
        ids: yes,
        others: no,
    }
}

fn in_year(day: Option<&str>, from: &str, to: &str) -> bool {
    day.is_some_and(|d| d >= from && d <= to)
}

impl App {
    /// The indicators of `year` over the items within the principal's scope.
    #[expect(
        clippy::too_many_lines,
        reason = "the indicator formulas; they move to the domain as data with the report issue (16)"
    )]
    /// Petition indicators.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn petition_indicators(&self, who: &Principal, year: i32) -> AppResult<Indicators> {
        require(who, PETITION_READ)?;
        let filter = who.filter(PETITION_READ);
        let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
        let rows = store::for_indicators(&self.store.read, filter.as_ref(), &from, &to).await?;
        let first: Vec<_> = rows.iter().filter(|r| r.stage == Stage::First).collect();
        let received: Vec<i64> =
            first.iter().filter(|r| in_year(Some(&r.received_on), &from, &to)).map(|r| r.id).collect();
        let accepted: Vec<i64> =
            first.iter().filter(|r| in_year(r.accepted_on.as_deref(), &from, &to)).map(|r| r.id).collect();
        let closed: Vec<i64> = rows
            .iter()
            .filter(|r| r.state == State::Closed && in_year(r.closed_on.as_deref(), &from, &to))
            .map(|r| r.id)
            .collect();
        let received_set: BTreeSet<String> = received.iter().map(i64::to_string).collect();
        let clocks = store::clocks_in_scope(
            &self.store.read,
            filter.as_ref(),
            &["petition.notify_direct", "petition.notify_assigned", "petition.handle"],
        )
        .await?;
        let (mut notice_yes, mut notice_no, mut ontime_yes, mut ontime_no) = (vec![], vec![], vec![], vec![]);
        let year_ids: BTreeSet<String> =
            rows.iter().filter(|r| in_year(r.closed_on.as_deref(), &from, &to)).map(|r| r.id.to_string()).collect();
        for c in &clocks {
            let Ok(id) = c.record_id.parse::<i64>() else { continue };
            let notice = c.rule_id != "petition.handle";
            // A clock counts once it is decided: met, or missed (done late or overdue now).
            let (yes, no, counted) = if notice {
                (&mut notice_yes, &mut notice_no, received_set.contains(&c.record_id))
            } else {
                (
                    &mut ontime_yes,
                    &mut ontime_no,
                    year_ids.contains(&c.record_id) || received_set.contains(&c.record_id),
                )
            };
            if !counted {
                continue;
            }
            match c.state.as_str() {
                "met" => yes.push(id),
                "missed" => no.push(id),
                _ => {}
            }
        }
        // 复查/复核: of first-round items served in the year, those asked to be reviewed.
        let served: Vec<_> = first.iter().filter(|r| in_year(r.served_on.as_deref(), &from, &to)).collect();
        let parents = store::reviewed_parents(&self.store.read).await?;
        let reviewed: BTreeSet<i64> = parents.iter().map(|(p, _)| *p).collect();
        let (review_yes, review_no): (Vec<i64>, Vec<i64>) =
            served.iter().map(|r| r.id).partition(|id| reviewed.contains(id));
        let visited: Vec<_> = rows
            .iter()
            .filter(|r| in_year(r.visited_on.as_deref(), &from, &to) && !r.satisfaction.is_empty())
            .collect();
        let satisfied = |yes: bool| -> Vec<i64> {
            visited.iter().filter(|r| (r.satisfaction != "unsatisfied") == yes).map(|r| r.id).collect()
        };
        let (sat_yes, sat_no) = (satisfied(true), satisfied(false));
        let backlog: Vec<i64> = rows
            .iter()
            .filter(|r| {
                r.received_on.as_str() <= to.as_str()
                    && !matches!(r.state, State::NotAccepted | State::Merged)
                    && r.served_on.as_deref().is_none_or(|d| d > to.as_str())
                    && r.closed_on.as_deref().is_none_or(|d| d > to.as_str())
            })
            .map(|r| r.id)
            .collect();
        let collective: Vec<i64> = first
            .iter()
            .filter(|r| r.collective != 0 && in_year(Some(&r.received_on), &from, &to))
            .map(|r| r.id)
            .collect();
        // Mediation.
        let street = who.filter_for(&fazhi_domain::record::MEDIATION, fazhi_domain::access::PETITION_READ);
        let cases =
            med_store::cases(&self.store.read, street.as_ref(), &CaseQuery { limit: 5000, ..Default::default() })
                .await?;
        let mut success = (vec![], vec![]);
        let mut performed = (vec![], vec![]);
        for c in &cases {
            let state = Some(c.state);
            let ended = c.agreed_on.as_deref().or(c.ended_on.as_deref());
            if in_year(ended, &from, &to) {
                match state {
                    Some(MediationState::Agreed | MediationState::Performed | MediationState::NotPerformed) => {
                        success.0.push(c.id)
                    }
                    Some(MediationState::Failed) => success.1.push(c.id),
                    _ => {}
                }
            }
            if in_year(c.performance_checked_on.as_deref(), &from, &to) {
                match state {
                    Some(MediationState::Performed) => performed.0.push(c.id),
                    Some(MediationState::NotPerformed) => performed.1.push(c.id),
                    _ => {}
                }
            }
        }
        let receptions = rec_store::receptions(&self.store.read, street.as_ref(), &from, &to, None).await?;
        let mut per_leader: BTreeMap<String, usize> = BTreeMap::new();
        for r in &receptions {
            *per_leader.entry(r.leader_name.clone()).or_default() += 1;
        }
        let mut per_leader: Vec<(String, usize)> = per_leader.into_iter().collect();
        per_leader.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        use Behind::*;
        let items = vec![
            count("received", "收到信访件", "本年收到的初次信访事项（不含复查、复核）", Petitions, received),
            count("accepted", "受理", "本年受理的初次信访事项", Petitions, accepted),
            count("closed", "办结", "本年办结（书面答复送达后办结）的信访事项", Petitions, closed),
            rate(
                "notice_in_time",
                "15 日内书面告知率",
                "本年收到的件中，收到之日起 15 日内书面告知受理与否的比例（信访工作条例第二十三条）；未到期的不计",
                Petitions,
                notice_yes,
                notice_no,
            ),
            rate(
                "closed_in_time",
                "按期办结率",
                "受理之日起 60 日内（经批准延长的 90 日内）办结的比例（信访工作条例第三十四条）；未到期的不计",
                Petitions,
                ontime_yes,
                ontime_no,
            ),
            rate(
                "review_rate",
                "复查（复核）率",
                "本年送达书面答复的初次件中，信访人请求复查的比例（信访工作条例第三十五条）",
                Petitions,
                review_yes,
                review_no,
            ),
            rate(
                "satisfaction",
                "群众满意率",
                "本年回访的件中，评价为满意或基本满意的比例",
                Petitions,
                sat_yes,
                sat_no,
            ),
            count(
                "backlog",
                "年末积存件",
                "截至年末仍未送达书面答复的信访事项（不含不予受理、已合并的件）",
                Petitions,
                backlog,
            ),
            count("collective", "集体访（联名）件", "本年收到的集体访、联名信访事项", Petitions, collective),
            rate(
                "mediation_success",
                "调解成功率",
                "本年调解终结的纠纷中达成调解协议的比例（人民调解法第二十六、二十八条）",
                Mediations,
                success.0,
                success.1,
            ),
            rate(
                "agreement_performed",
                "调解协议履行率",
                "本年回访核实履行情况的协议中已履行的比例（人民调解法第三十一条）",
                Mediations,
                performed.0,
                performed.1,
            ),
            count(
                "receptions",
                "领导接访",
                "本年领导接待来访的次数（信访工作条例第十八条）",
                Receptions,
                receptions.iter().map(|r| r.id).collect(),
            ),
        ];
        Ok(Indicators { year, items, per_leader })
    }
}
