//! Reviewing a holiday schedule before it replaces a year's arrangement: what changes
//! against the arrangement in force ([`diff_year`]), and whether the candidate still gives
//! every statutory holiday of 《全国年节及纪念日放假办法》 ([`statutory_shortfalls`]).
//!
//! The calendar is law: an import moves statutory deadlines. A one-line file for a year
//! that is already known must not silently drop 春节 or 国庆节, so the import shows this
//! review and refuses an incomplete year unless the importer overrides it with a reason.
//!
//! The completeness rule counts the days off per named festival. The schedule format names
//! the festival on every line (`off 2026-10-01..2026-10-07 国庆节`), so the lunar festivals
//! (春节, 清明节, 端午节, 中秋节) are checked by name and number of days without a table of
//! lunar dates; the solar ones (元旦, 劳动节, 国庆节) are also checked on their fixed dates.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::schedule::{SpecialKind, YearSchedule};

/// A festival every citizen has off (全体公民放假的节日), as one revision of the 办法 sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Festival {
    /// The name in the 办法 (元旦, 春节 ...), as shown in messages.
    pub name: &'static str,
    /// Words that name it on a schedule line (the 2013 text says 新年 for 元旦).
    aliases: &'static [&'static str],
    /// Days off the 办法 gives it.
    pub days: u32,
    /// Its fixed solar dates (month, day), which must be off; empty for lunar festivals.
    fixed: &'static [(u32, u32)],
    /// The item of the article that sets it, e.g. "第二条第（七）项".
    pub item: &'static str,
}

/// One revision of 《全国年节及纪念日放假办法》 and the schedule years it governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HolidayLaw {
    /// Citation, e.g. "《全国年节及纪念日放假办法》（2024年11月10日修订）".
    pub title: &'static str,
    /// First and last schedule year it governs.
    pub first_year: i32,
    pub last_year: i32,
    pub festivals: &'static [Festival],
}

/// 《全国年节及纪念日放假办法》 第二条 as revised 2024-11-10 (in force on publication; the
/// 2025 schedule is the first under it): 13 days. Source: /work/shared/laws, DOMAIN.md §10.
const LAW_2024: HolidayLaw = HolidayLaw {
    title: "《全国年节及纪念日放假办法》（2024年11月10日修订）",
    first_year: 2025,
    last_year: i32::MAX,
    festivals: &[
        Festival {
            name: "元旦", aliases: &["元旦", "新年"], days: 1, fixed: &[(1, 1)], item: "第二条第（一）项"
        },
        Festival { name: "春节", aliases: &["春节"], days: 4, fixed: &[], item: "第二条第（二）项" },
        Festival { name: "清明节", aliases: &["清明"], days: 1, fixed: &[], item: "第二条第（三）项" },
        Festival {
            name: "劳动节",
            aliases: &["劳动节", "五一"],
            days: 2,
            fixed: &[(5, 1), (5, 2)],
            item: "第二条第（四）项",
        },
        Festival { name: "端午节", aliases: &["端午"], days: 1, fixed: &[], item: "第二条第（五）项" },
        Festival { name: "中秋节", aliases: &["中秋"], days: 1, fixed: &[], item: "第二条第（六）项" },
        Festival {
            name: "国庆节",
            aliases: &["国庆"],
            days: 3,
            fixed: &[(10, 1), (10, 2), (10, 3)],
            item: "第二条第（七）项",
        },
    ],
};

/// 《全国年节及纪念日放假办法》 第二条 as revised 2013-12-11 (schedules 2014–2024): 11 days,
/// 春节 3 (初一至初三), 劳动节 1. Source: /work/shared/laws, DOMAIN.md §10.
const LAW_2013: HolidayLaw = HolidayLaw {
    title: "《全国年节及纪念日放假办法》（2013年12月11日修订）",
    first_year: 2014,
    last_year: 2024,
    festivals: &[
        Festival {
            name: "元旦", aliases: &["元旦", "新年"], days: 1, fixed: &[(1, 1)], item: "第二条第（一）项"
        },
        Festival { name: "春节", aliases: &["春节"], days: 3, fixed: &[], item: "第二条第（二）项" },
        Festival { name: "清明节", aliases: &["清明"], days: 1, fixed: &[], item: "第二条第（三）项" },
        Festival {
            name: "劳动节", aliases: &["劳动节", "五一"], days: 1, fixed: &[(5, 1)], item: "第二条第（四）项"
        },
        Festival { name: "端午节", aliases: &["端午"], days: 1, fixed: &[], item: "第二条第（五）项" },
        Festival { name: "中秋节", aliases: &["中秋"], days: 1, fixed: &[], item: "第二条第（六）项" },
        Festival {
            name: "国庆节",
            aliases: &["国庆"],
            days: 3,
            fixed: &[(10, 1), (10, 2), (10, 3)],
            item: "第二条第（七）项",
        },
    ],
};

/// The revisions whose text this program holds, newest first. Earlier years (under the
/// 2007 revision and before) cannot be checked: an import of one needs the override.
const LAWS: [HolidayLaw; 2] = [LAW_2024, LAW_2013];

/// The revision of the 办法 that governs the schedule of `year`, if this program knows it.
pub fn holiday_law(year: i32) -> Option<&'static HolidayLaw> {
    LAWS.iter().find(|l| (l.first_year..=l.last_year).contains(&year))
}

/// A statutory holiday a schedule does not give (fully).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shortfall {
    /// The festival's name in the 办法 (empty when no revision governs the year).
    pub festival: &'static str,
    /// Chinese explanation naming the festival, the rule and its source.
    pub message: String,
}

/// The canonical festival a label part names, or the part itself.
fn festival_of<'a>(law: Option<&'static HolidayLaw>, part: &'a str) -> std::borrow::Cow<'a, str> {
    law.into_iter()
        .flat_map(|l| l.festivals.iter())
        .find(|f| f.aliases.iter().any(|a| part.contains(a)))
        .map_or(std::borrow::Cow::Borrowed(part), |f| std::borrow::Cow::Borrowed(f.name))
}

/// The parts of a label: "国庆节、中秋节" names two festivals.
fn label_parts(label: &str) -> impl Iterator<Item = &str> {
    label.split(['、', '，', ',', '/', ' ']).map(str::trim).filter(|p| !p.is_empty())
}

/// The statutory holidays the schedule of its year lacks under the revision of the 办法
/// that governs the year: a festival with no day off named after it, fewer days off than
/// the 办法 gives, or a fixed date (元旦 1月1日, 劳动节, 国庆节) not off. Empty when complete.
///
/// A line may name several festivals (`国庆节、中秋节`): its days count for each, and
/// together they must cover the sum of what the 办法 gives them.
pub fn statutory_shortfalls(schedule: &YearSchedule) -> Vec<Shortfall> {
    let year = schedule.year();
    let Some(law) = holiday_law(year) else {
        return vec![Shortfall {
            festival: "",
            message: format!(
                "本程序只收录 2014 年起适用的《全国年节及纪念日放假办法》（2013年、2024年修订），无法核对 {year} 年的安排是否包含全部法定节日"
            ),
        }];
    };
    // Days off per set of festivals a line names, and per festival.
    let mut per_set: BTreeMap<BTreeSet<&'static str>, BTreeSet<NaiveDate>> = BTreeMap::new();
    let mut per_festival: BTreeMap<&'static str, BTreeSet<NaiveDate>> = BTreeMap::new();
    for e in schedule.entries().iter().filter(|e| e.kind == SpecialKind::Off) {
        let named: BTreeSet<&'static str> = law
            .festivals
            .iter()
            .filter(|f| label_parts(&e.label).any(|p| f.aliases.iter().any(|a| p.contains(a))))
            .map(|f| f.name)
            .collect();
        for f in &named {
            per_festival.entry(f).or_default().extend(e.dates());
        }
        if named.len() > 1 {
            per_set.entry(named).or_default().extend(e.dates());
        }
    }
    let mut out = Vec::new();
    let rule = |f: &Festival| format!("{}{}：{}放假{}天", law.title, f.item, f.name, f.days);
    for f in law.festivals {
        let days = per_festival.get(f.name);
        let n = days.map_or(0, |d| u32::try_from(d.len()).unwrap_or(u32::MAX));
        if n == 0 {
            out.push(Shortfall {
                festival: f.name,
                message: format!("{year} 年的安排缺少“{}”的放假日（{}）", f.name, rule(f)),
            });
            continue;
        }
        if n < f.days {
            out.push(Shortfall {
                festival: f.name,
                message: format!("{year} 年的安排只给“{}”放假 {n} 天，少于法定的 {} 天（{}）", f.name, f.days, rule(f)),
            });
            continue;
        }
        let missing: Vec<String> = f
            .fixed
            .iter()
            .filter_map(|&(m, d)| NaiveDate::from_ymd_opt(year, m, d))
            .filter(|d| !days.is_some_and(|s| s.contains(d)))
            .map(|d| format!("{}月{}日", d.month(), d.day()))
            .collect();
        if !missing.is_empty() {
            out.push(Shortfall {
                festival: f.name,
                message: format!(
                    "{year} 年的安排没有把 {} 列为“{}”的放假日（{}）",
                    missing.join("、"),
                    f.name,
                    rule(f)
                ),
            });
        }
    }
    for (set, dates) in per_set {
        let need: u32 = law.festivals.iter().filter(|f| set.contains(f.name)).map(|f| f.days).sum();
        let n = u32::try_from(dates.len()).unwrap_or(u32::MAX);
        let names: Vec<&str> = set.iter().copied().collect();
        if n < need && !out.iter().any(|s| set.contains(s.festival)) {
            out.push(Shortfall {
                festival: names.first().copied().unwrap_or_default(),
                message: format!(
                    "{year} 年的安排把“{}”合并放假 {n} 天，少于两者法定假日之和 {need} 天（{}第二条）",
                    names.join("、"),
                    law.title
                ),
            });
        }
    }
    out
}

/// What a listed day is: its kind and the festival it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayMark {
    pub kind: SpecialKind,
    pub label: String,
}

/// A run of consecutive dates that change the same way between two arrangements.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DayChange {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// How the days are listed now (`None`: ordinary days, by their weekday).
    pub before: Option<DayMark>,
    /// How the candidate lists them.
    pub after: Option<DayMark>,
}

impl DayChange {
    /// Number of days in the run.
    pub fn days(&self) -> i64 {
        (self.last - self.first).num_days() + 1
    }
}

/// How a candidate schedule changes one year's arrangement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct YearDiff {
    pub year: i32,
    /// Whether the year had an arrangement before (built-in or imported).
    pub existed: bool,
    /// Source line of the arrangement now and of the candidate.
    pub source_before: Option<String>,
    pub source_after: String,
    /// Days that become days off (ordinary days or make-up workdays before).
    pub new_holidays: Vec<DayChange>,
    /// Days that become make-up workdays (调休上班).
    pub new_workdays: Vec<DayChange>,
    /// Days off that become ordinary days.
    pub removed_holidays: Vec<DayChange>,
    /// Make-up workdays that become ordinary weekend days.
    pub removed_workdays: Vec<DayChange>,
    /// Festivals with days off now and none in the candidate (e.g. 国庆节 vanishing).
    pub vanished_festivals: Vec<String>,
}

impl YearDiff {
    /// Whether the candidate lists exactly the same days as the arrangement now.
    pub fn is_unchanged(&self) -> bool {
        self.new_holidays.is_empty()
            && self.new_workdays.is_empty()
            && self.removed_holidays.is_empty()
            && self.removed_workdays.is_empty()
    }
}

fn marks(s: Option<&YearSchedule>) -> BTreeMap<NaiveDate, DayMark> {
    let mut m = BTreeMap::new();
    for e in s.into_iter().flat_map(YearSchedule::entries) {
        for d in e.dates() {
            m.insert(d, DayMark { kind: e.kind, label: e.label.clone() });
        }
    }
    m
}

fn festivals_off(s: Option<&YearSchedule>) -> BTreeSet<String> {
    let law = s.and_then(|s| holiday_law(s.year()));
    s.into_iter()
        .flat_map(YearSchedule::entries)
        .filter(|e| e.kind == SpecialKind::Off)
        .flat_map(|e| label_parts(&e.label).map(|p| festival_of(law, p).into_owned()).collect::<Vec<_>>())
        .collect()
}

/// Compares the arrangement of a year now (`None` when the year has none) with a candidate
/// schedule of the same year. Only changes of kind are listed; a renamed festival on the
/// same days is not a change of the calendar.
pub fn diff_year(before: Option<&YearSchedule>, after: &YearSchedule) -> YearDiff {
    let (old, new) = (marks(before), marks(Some(after)));
    let dates: BTreeSet<NaiveDate> = old.keys().chain(new.keys()).copied().collect();
    let mut diff = YearDiff {
        year: after.year(),
        existed: before.is_some(),
        source_before: before.map(|s| s.source().to_owned()),
        source_after: after.source().to_owned(),
        new_holidays: Vec::new(),
        new_workdays: Vec::new(),
        removed_holidays: Vec::new(),
        removed_workdays: Vec::new(),
        vanished_festivals: Vec::new(),
    };
    for d in dates {
        let (b, a) = (old.get(&d), new.get(&d));
        if b.map(|m| m.kind) == a.map(|m| m.kind) {
            continue;
        }
        let list = match (b.map(|m| m.kind), a.map(|m| m.kind)) {
            (_, Some(SpecialKind::Off)) => &mut diff.new_holidays,
            (_, Some(SpecialKind::Work)) => &mut diff.new_workdays,
            (Some(SpecialKind::Off), None) => &mut diff.removed_holidays,
            _ => &mut diff.removed_workdays,
        };
        match list.last_mut() {
            Some(run) if run.last.succ_opt() == Some(d) && run.before.as_ref() == b && run.after.as_ref() == a => {
                run.last = d;
            }
            _ => list.push(DayChange { first: d, last: d, before: b.cloned(), after: a.cloned() }),
        }
    }
    let now = festivals_off(Some(after));
    diff.vanished_festivals = festivals_off(before).into_iter().filter(|f| !now.contains(f)).collect();
    diff
}
