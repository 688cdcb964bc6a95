//! One year's holiday schedule as the State Council publishes it, and the text format it is
//! kept in: the embedded `data/holidays-cn.txt` and every file an admin imports use the same
//! format, so a schedule exported from one installation imports into another.
//!
//! ```text
//! year 2024 https://www.gov.cn/zhengce/zhengceku/202310/content_6911528.htm
//! off  2024-02-10..2024-02-17 春节
//! work 2024-02-04             春节
//! ```
//!
//! The parser reports every problem it finds at once, each naming its line, because the
//! person reading the message is an admin fixing a file typed from a PDF notice.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};

/// Longest run one line may list; the longest real break (2020 春节, extended for COVID)
/// is 10 days, so anything past a month is a typo.
const MAX_RANGE_DAYS: i64 = 31;

/// Years an import may name. The calendar is for current casework, not history.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// Whether a listed day is a day off or a weekend day made into a working day (调休上班).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialKind {
    /// 放假: a statutory holiday, or a weekday given off by the 调休 arrangement.
    Off,
    /// 调休上班: a Saturday or Sunday on which people work.
    Work,
}

impl SpecialKind {
    fn keyword(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Work => "work",
        }
    }

    /// Chinese name as shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Off => "放假",
            Self::Work => "调休上班",
        }
    }
}

/// One line of a schedule: a run of days (often one) of one kind, with the holiday's name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleEntry {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub kind: SpecialKind,
    /// The holiday the days belong to (春节, 国庆节 ...); for `Work` days, the holiday the
    /// make-up day pays for.
    pub label: String,
}

impl ScheduleEntry {
    /// Every date of the entry, first to last.
    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.first.iter_days().take_while(|d| *d <= self.last)
    }
}

/// The schedule published for one year (keyed by the notice's year: the 2023 notice starts
/// its 元旦 break on 2022-12-31).
///
/// Only [`parse_schedules`] builds one, so every schedule in a calendar passed its checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct YearSchedule {
    year: i32,
    source: String,
    entries: Vec<ScheduleEntry>,
}

impl YearSchedule {
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Where the schedule comes from (notice number or URL), as written on the `year` line.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn entries(&self) -> &[ScheduleEntry] {
        &self.entries
    }

    /// The schedule in the import format; [`parse_schedules`] reads it back unchanged.
    pub fn to_text(&self) -> String {
        let mut out = format!("year {}", self.year);
        if !self.source.is_empty() {
            out.push(' ');
            out.push_str(&self.source);
        }
        out.push('\n');
        for e in &self.entries {
            let dates = if e.first == e.last { e.first.to_string() } else { format!("{}..{}", e.first, e.last) };
            out.push_str(&format!("{:<4} {:<22} {}\n", e.kind.keyword(), dates, e.label));
        }
        out
    }
}

/// One problem in a schedule file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleError {
    /// 1-based line number.
    pub line: usize,
    /// Chinese description of the problem on that line.
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第 {} 行：{}", self.line, self.message)
    }
}

/// Every problem found in a schedule file; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
pub struct ScheduleErrors(pub Vec<ScheduleError>);

impl fmt::Display for ScheduleErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "节假日安排有 {} 处错误：", self.0.len())?;
        for e in &self.0 {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

/// A year block while it is being read.
struct Block {
    year: i32,
    line: usize,
    source: String,
    entries: Vec<ScheduleEntry>,
    /// Each listed date and the line that listed it, to report overlaps.
    seen: BTreeMap<NaiveDate, usize>,
}

/// Reads a schedule file: one or more `year` blocks, each with its `off` and `work` lines.
///
/// Checks: known keywords; real dates written `YYYY-MM-DD`; ranges in order and at most a
/// month long; dates inside the block's year (or the December before, as in the 2023
/// notice); no date listed twice; make-up workdays only on Saturdays and Sundays (a weekday
/// listed as `work` is a typo that would silently shift deadlines); no year twice; no
/// empty year.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn parse_schedules(text: &str) -> Result<Vec<YearSchedule>, ScheduleErrors> {
    let mut errors = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut err = |line: usize, message: String| errors.push(ScheduleError { line, message });

    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut parts = content.split_whitespace();
        let keyword = parts.next().unwrap_or_default();
        match keyword {
            "year" | "年度" => {
                let Some(y) = parts.next() else {
                    err(line, "year 后缺少年份，应写作“year 2027 出处”".into());
                    continue;
                };
                let year = match y.parse::<i32>() {
                    Ok(v) if YEARS.contains(&v) => v,
                    _ => {
                        err(line, format!("“{y}”不是有效年份（应为 2000 至 2100 之间的四位数字）"));
                        continue;
                    }
                };
                if let Some(prev) = blocks.iter().find(|b| b.year == year) {
                    err(line, format!("{year} 年已在第 {} 行出现过，同一文件中每个年度只能写一次", prev.line));
                    continue;
                }
                blocks.push(Block {
                    year,
                    line,
                    source: parts.collect::<Vec<_>>().join(" "),
                    entries: Vec::new(),
                    seen: BTreeMap::new(),
                });
            }
            "off" | "休" | "work" | "班" => {
                let kind = if matches!(keyword, "off" | "休") { SpecialKind::Off } else { SpecialKind::Work };
                let Some(block) = blocks.last_mut() else {
                    err(line, format!("“{keyword}”出现在任何 year 行之前，请先写“year 年份”"));
                    continue;
                };
                let Some(dates) = parts.next() else {
                    err(line, format!("{keyword} 后缺少日期，应写作“{keyword} 2027-01-01 元旦”"));
                    continue;
                };
                let label = parts.collect::<Vec<_>>().join(" ");
                match parse_entry(block.year, kind, dates, label) {
                    Ok(entry) => {
                        let mut ok = true;
                        for d in entry.dates() {
                            if let Some(prev) = block.seen.get(&d) {
                                err(line, format!("{d} 已在第 {prev} 行列出，同一日期不能重复"));
                                ok = false;
                                break;
                            }
                        }
                        if ok {
                            for d in entry.dates() {
                                block.seen.insert(d, line);
                            }
                            block.entries.push(entry);
                        }
                    }
                    Err(message) => err(line, message),
                }
            }
            other => err(line, format!("无法识别的关键字“{other}”，每行应以 year、off（休）或 work（班）开头")),
        }
    }
    for b in &blocks {
        if b.entries.is_empty() {
            errors.push(ScheduleError {
                line: b.line, message: format!("{} 年没有任何放假或调休上班安排", b.year)
            });
        }
    }
    if blocks.is_empty() && errors.is_empty() {
        errors.push(ScheduleError {
            line: 1, message: "文件中没有年度安排（应以“year 年份”开头）".into()
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ScheduleErrors(errors));
    }
    Ok(blocks
        .into_iter()
        .map(|b| {
            let mut entries = b.entries;
            entries.sort_by_key(|e| e.first);
            YearSchedule { year: b.year, source: b.source, entries }
        })
        .collect())
}

/// Checks one `off`/`work` line; the error is the Chinese message for that line.
fn parse_entry(year: i32, kind: SpecialKind, dates: &str, label: String) -> Result<ScheduleEntry, String> {
    let (first, last) = match dates.split_once("..") {
        Some((a, b)) => (parse_date(a)?, parse_date(b)?),
        None => {
            let d = parse_date(dates)?;
            (d, d)
        }
    };
    if last < first {
        return Err(format!("日期区间 {first}..{last} 的开始晚于结束"));
    }
    if (last - first).num_days() >= MAX_RANGE_DAYS {
        return Err(format!("日期区间 {first}..{last} 超过 {MAX_RANGE_DAYS} 天，请检查是否写错"));
    }
    // The 2023 notice begins on 2022-12-31, so the December before the year is allowed.
    let earliest = NaiveDate::from_ymd_opt(year - 1, 12, 1);
    let latest = NaiveDate::from_ymd_opt(year, 12, 31);
    for d in [first, last] {
        if Some(d) < earliest || Some(d) > latest {
            return Err(format!("{d} 不属于 {year} 年的安排（只能是 {year} 年或 {} 年 12 月的日期）", year - 1));
        }
    }
    if label.is_empty() {
        return Err("缺少节日名称，例如“off 2027-01-01 元旦”".into());
    }
    let entry = ScheduleEntry { first, last, kind, label };
    if kind == SpecialKind::Work
        && let Some(d) = entry.dates().find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
    {
        return Err(format!(
            "{d} 是{}，本来就是工作日，不能列为调休上班日（work 只用于星期六、星期日）",
            weekday_zh(d.weekday())
        ));
    }
    Ok(entry)
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let ok_shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !ok_shape {
        return Err(format!("“{s}”不是日期，应写作 YYYY-MM-DD，区间写作 YYYY-MM-DD..YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("“{s}”不是存在的日期"))
}

/// 星期一 ... 星期日, for messages and explanations.
pub fn weekday_zh(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}
