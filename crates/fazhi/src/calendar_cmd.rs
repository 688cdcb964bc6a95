//! `fazhi calendar …`: statutory due dates over the working-day calendar, explained.

use anyhow::bail;
use chrono::{Datelike, NaiveDate};
use clap::{Subcommand, ValueEnum};
use fazhi_domain::calendar::{DayUnit, WorkCalendar, due_date, weekday_zh};

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
    /// Import a year's holiday schedule (State Council notice) from a text file; open
    /// clocks are recomputed and the change recorded in the ledger.
    Import { file: std::path::PathBuf },
}

/// Runs a calendar command against `cal` (built-in years plus those imported into the
/// installation, when there is one).
pub fn run(cmd: CalendarCommand, cal: &WorkCalendar) -> anyhow::Result<()> {
    match cmd {
        CalendarCommand::Import { .. } => unreachable!("handled with the store"),
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
