//! `fazhi calendar …`: statutory due dates over the working-day calendar, explained.

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use clap::{Subcommand, ValueEnum};
use fazhi_app::App;
use fazhi_app::clocks::{ImportConfirm, ImportPreview, YearOrigin};
use fazhi_app::org::By;
use fazhi_domain::calendar::{DayUnit, WorkCalendar, due_date, weekday_zh};

use crate::explain;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Unit {
    /// 工作日
    Working,
    /// 自然日
    Calendar,
}

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The due date N days after an event, with the explanation of every skipped holiday
    /// and counted make-up workday. Counting starts the day after --from.
    Due {
        /// Date of the triggering event, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Length of the period.
        #[arg(long)]
        days: u32,
        #[arg(long, value_enum)]
        unit: Unit,
        /// A calendar-day period ending on a non-working day moves to the next working day
        /// (民事诉讼法 第八十五条).
        #[arg(long)]
        roll: bool,
        /// Print {"due": "YYYY-MM-DD", "steps": [...]}.
        #[arg(long)]
        json: bool,
    },
    /// The years whose holiday schedule is known.
    Years,
    /// Import a year's holiday schedule (State Council notice) from a text file, in two
    /// steps: without --confirm, print what would change (days, missing statutory holidays,
    /// the open deadlines that would move) and the confirmation token, writing nothing; with
    /// --confirm TOKEN, import it: open clocks are recomputed and recorded in the ledger.
    Import {
        file: std::path::PathBuf,
        /// The token printed by the preview of the same file (refused when the file or the
        /// calendar changed since).
        #[arg(long)]
        confirm: Option<String>,
        /// Import a year lacking a statutory holiday of 《全国年节及纪念日放假办法》 anyway,
        /// for this reason (recorded in the ledger).
        #[arg(long)]
        override_reason: Option<String>,
    },
    /// Show a year's arrangement: every day off and make-up workday, where it comes from.
    Show { year: i32 },
}

/// Runs the commands that need the installation (`import`, `show`).
pub async fn run_with_store(cmd: CalendarCommand, app: &App, by: &By<'_>) -> anyhow::Result<()> {
    match cmd {
        CalendarCommand::Import { file, confirm, override_reason } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("无法读取 {}", file.display()))?;
            let Some(token) = confirm else {
                let p = app.preview_calendar_import(by, &text).await.map_err(explain)?;
                print_preview(&p);
                println!("\n尚未导入。核对无误后执行：fazhi calendar import {} --confirm {}", file.display(), p.token);
                if !p.complete() {
                    println!("（安排缺少法定节日，确需导入时另加 --override-reason \"理由\"）");
                }
                return Ok(());
            };
            let c = ImportConfirm {
                token: &token,
                override_statutory: override_reason.is_some(),
                reason: override_reason.as_deref().unwrap_or(""),
            };
            let out = app.import_calendar(by, &text, &c).await.map_err(explain)?;
            println!(
                "已导入 {:?} 年的节假日安排（日历第 {} 版）；{} 个未结期限已按新日历重新计算并记入账本。",
                out.years, out.version, out.moved
            );
            Ok(())
        }
        CalendarCommand::Show { year } => {
            let y = app.calendar_year(year).await.map_err(explain)?;
            let origin = match &y.origin {
                YearOrigin::Builtin => "程序内置".to_owned(),
                YearOrigin::Imported { by, at, .. } => {
                    format!("由 {by} 于 {} 导入", fazhi_domain::clock::beijing_date(*at))
                }
            };
            println!("{year} 年节假日安排（{origin}；日历第 {} 版）", y.version);
            print!("{}", y.schedule.to_text());
            for s in &y.shortfalls {
                println!("注意：{}", s.message);
            }
            Ok(())
        }
        other => bail!("{other:?} 不需要数据目录"),
    }
}

fn print_preview(p: &ImportPreview) {
    for y in &p.years {
        let d = &y.diff;
        if d.existed {
            println!("{} 年：将整体替换现有安排（现有出处：{}）", d.year, d.source_before.as_deref().unwrap_or(""));
        } else {
            println!("{} 年：新增年度", d.year);
        }
        for (title, list) in [
            ("新增放假日", &d.new_holidays),
            ("新增调休上班日", &d.new_workdays),
            ("取消的放假日", &d.removed_holidays),
            ("取消的调休上班日", &d.removed_workdays),
        ] {
            for c in list {
                let label = c.after.as_ref().or(c.before.as_ref()).map_or("", |m| m.label.as_str());
                println!("  {title}：{}..{}（{} 天，{label}）", c.first, c.last, c.days());
            }
        }
        if d.existed && d.is_unchanged() {
            println!("  与现有安排逐日相同");
        }
        if !d.vanished_festivals.is_empty() {
            println!("  消失的节日：{}", d.vanished_festivals.join("、"));
        }
        for s in &y.shortfalls {
            println!("  不符合法定节日：{}", s.message);
        }
    }
    println!("将改变到期日的未结期限：{} 个", p.moved.len());
    for m in &p.moved {
        let to = m.to.clone().unwrap_or_else(|| format!("无法计算（{}）", m.problem));
        println!(
            "  {} {} {}：{} → {to}",
            m.record_type,
            m.record_id,
            m.rule_name,
            m.from.as_deref().unwrap_or("无法计算")
        );
    }
}

/// Runs a calendar command against `cal` (built-in years plus those imported into the
/// installation, when there is one).
pub fn run(cmd: CalendarCommand, cal: &WorkCalendar) -> anyhow::Result<()> {
    match cmd {
        CalendarCommand::Import { .. } | CalendarCommand::Show { .. } => unreachable!("handled with the store"),
        CalendarCommand::Years => {
            let years: Vec<String> = cal.known_years().iter().map(i32::to_string).collect();
            println!("已有节假日安排的年份：{}", years.join("、"));
            Ok(())
        }
        CalendarCommand::Due { from, days, unit, roll, json } => {
            let Ok(start) = NaiveDate::parse_from_str(from.trim(), "%Y-%m-%d") else {
                bail!("--from 应为 YYYY-MM-DD 格式的日期，而不是「{from}」");
            };
            let unit = match unit {
                Unit::Working => DayUnit::Working,
                Unit::Calendar => DayUnit::Calendar,
            };
            let due = due_date(cal, start, days, unit, roll)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&due)?);
            } else {
                println!("到期日：{}（{}）", due.due.format("%Y-%m-%d"), weekday_zh(due.due.weekday()));
                println!("计算过程（自 {} 的次日起算 {} {}）：", start, days, unit.label_zh());
                for s in &due.steps {
                    println!("  {}", s.text);
                }
            }
            Ok(())
        }
    }
}
