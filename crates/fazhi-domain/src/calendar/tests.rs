//! Calendar tests with real dates. Every expected date was counted by hand on the
//! published schedules (DOMAIN.md §10) and cross-checked with an independent script.

use chrono::NaiveDate;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cal() -> WorkCalendar {
    WorkCalendar::builtin()
}

/// The steps of an explanation as (kind, range, label), for compact assertions.
fn brief(due: &Due) -> Vec<(StepKind, String, String)> {
    due.steps.iter().map(|s| (s.kind, s.range().display(), s.label.clone())).collect()
}

fn step(kind: StepKind, range: &str, label: &str) -> (StepKind, String, String) {
    (kind, range.to_owned(), label.to_owned())
}

#[test]
fn builtin_knows_2020_to_2026_and_matches_the_notices_day_counts() {
    let c = cal();
    assert_eq!(c.known_years(), (2020..=2026).collect::<Vec<_>>());
    // (notice year, days off listed, make-up workdays listed), summed by hand from DOMAIN.md §10.
    let expected =
        [(2020, 30, 6), (2021, 31, 7), (2022, 31, 7), (2023, 27, 7), (2024, 28, 8), (2025, 28, 5), (2026, 33, 6)];
    for (year, off, work) in expected {
        let s = c.schedule(year).unwrap();
        let count =
            |k: SpecialKind| -> usize { s.entries().iter().filter(|e| e.kind == k).map(|e| e.dates().count()).sum() };
        assert_eq!((count(SpecialKind::Off), count(SpecialKind::Work)), (off, work), "{year}");
    }
}

#[test]
fn day_status_follows_the_schedules() {
    let c = cal();
    // 2023's notice starts 元旦 on 2022-12-31.
    assert_eq!(c.status(d("2022-12-31")).unwrap(), DayStatus::Holiday { label: "元旦".into() });
    // Monday inside 国庆 2024.
    assert!(!c.is_working_day(d("2024-10-07")).unwrap());
    // Saturday made a working day.
    assert_eq!(c.status(d("2024-10-12")).unwrap(), DayStatus::MakeUpWorkday { label: "国庆节".into() });
    assert_eq!(c.status(d("2024-10-08")).unwrap(), DayStatus::Workday);
    assert_eq!(c.status(d("2024-10-13")).unwrap(), DayStatus::Weekend);
    // 2020: 春节 extended to 2 Feb; the planned make-up Saturday 1 Feb was cancelled.
    assert!(!c.is_working_day(d("2020-02-01")).unwrap());
    assert!(c.is_working_day(d("2020-02-03")).unwrap());
    // 2025 under the revised 放假办法: 除夕 (01-28) is a holiday, Sunday 01-26 is worked.
    assert!(!c.is_working_day(d("2025-01-28")).unwrap());
    assert!(c.is_working_day(d("2025-01-26")).unwrap());
}

#[test]
fn unknown_year_is_an_error_with_a_chinese_message() {
    let c = cal();
    let e = c.status(d("2031-03-02")).unwrap_err();
    assert_eq!(e, CalendarError::UnknownYear { year: 2031 });
    assert_eq!(e.to_string(), "没有 2031 年的节假日安排，请先导入");
    assert_eq!(c.is_working_day(d("2019-12-31")), Err(CalendarError::UnknownYear { year: 2019 }));
    // A working-day count running into 2027: 2026-12-24 + 10 working days needs January 2027.
    assert_eq!(
        due_date(&c, d("2026-12-24"), 10, DayUnit::Working, false),
        Err(CalendarError::UnknownYear { year: 2027 })
    );
    // A calendar-day period without roll needs no schedule at all ...
    assert_eq!(due_date(&c, d("2026-12-15"), 30, DayUnit::Calendar, false).unwrap().due, d("2027-01-14"));
    // ... but rolling must know whether its last day is a holiday.
    assert_eq!(
        due_date(&c, d("2026-12-15"), 30, DayUnit::Calendar, true),
        Err(CalendarError::UnknownYear { year: 2027 })
    );
}

#[test]
fn working_days_across_guoqing_2024_with_make_up_sunday() {
    // Fri 09-27; Sat 09-28 off; Sun 09-29 worked (1); Mon 09-30 (2); 10-01..07 国庆;
    // 10-08 (3), 10-09 (4), 10-10 (5).
    let due = due_date(&cal(), d("2024-09-27"), 5, DayUnit::Working, false).unwrap();
    assert_eq!(due.due, d("2024-10-10"));
    assert_eq!(
        brief(&due),
        vec![
            step(StepKind::Start, "2024-09-27", "起算日"),
            step(StepKind::WeekendSkipped, "2024-09-28", "周末"),
            step(StepKind::MakeupWorkdayCounted, "2024-09-29", "国庆节"),
            step(StepKind::HolidaySkipped, "2024-10-01..2024-10-07", "国庆节"),
            step(StepKind::Due, "2024-10-10", "届满日"),
        ]
    );
    assert_eq!(due.steps[3].text, "2024-10-01..2024-10-07 国庆节放假，不计入工作日");
    assert_eq!(due.steps[2].text, "2024-09-29（星期日）国庆节调休上班，计为工作日");
}

#[test]
fn twenty_working_days_from_the_eve_of_guoqing_counts_saturday_10_12() {
    let due = due_date(&cal(), d("2024-09-30"), 20, DayUnit::Working, false).unwrap();
    assert_eq!(due.due, d("2024-11-01"));
    let b = brief(&due);
    assert!(b.contains(&step(StepKind::HolidaySkipped, "2024-10-01..2024-10-07", "国庆节")));
    assert!(b.contains(&step(StepKind::MakeupWorkdayCounted, "2024-10-12", "国庆节")));
    // Sunday 10-13 stays a weekend day.
    assert!(b.contains(&step(StepKind::WeekendSkipped, "2024-10-13", "周末")));
}

#[test]
fn working_days_across_chunjie_2025_with_two_make_up_days() {
    // Fri 01-24; 01-25 off; Sun 01-26 worked (1); 01-27 (2); 01-28..02-04 春节; 02-05..07
    // (3-5); Sat 02-08 worked (6); 02-09 off; Mon 02-10 (7).
    let due = due_date(&cal(), d("2025-01-24"), 7, DayUnit::Working, false).unwrap();
    assert_eq!(due.due, d("2025-02-10"));
    assert_eq!(
        brief(&due),
        vec![
            step(StepKind::Start, "2025-01-24", "起算日"),
            step(StepKind::WeekendSkipped, "2025-01-25", "周末"),
            step(StepKind::MakeupWorkdayCounted, "2025-01-26", "春节"),
            step(StepKind::HolidaySkipped, "2025-01-28..2025-02-04", "春节"),
            step(StepKind::MakeupWorkdayCounted, "2025-02-08", "春节"),
            step(StepKind::WeekendSkipped, "2025-02-09", "周末"),
            step(StepKind::Due, "2025-02-10", "届满日"),
        ]
    );
}

#[test]
fn calendar_days_ending_in_chunjie_2024_roll_to_the_make_up_sunday() {
    // 2024-01-31 + 15 = 02-15, inside 春节 (02-10..02-17); the first working day after is
    // Sunday 02-18, a make-up workday.
    let c = cal();
    let rolled = due_date(&c, d("2024-01-31"), 15, DayUnit::Calendar, true).unwrap();
    assert_eq!(rolled.due, d("2024-02-18"));
    assert_eq!(
        brief(&rolled),
        vec![
            step(StepKind::Start, "2024-01-31", "起算日"),
            step(StepKind::RolledOver, "2024-02-15..2024-02-17", "春节"),
            step(StepKind::Due, "2024-02-18", "届满日"),
        ]
    );
    let plain = due_date(&c, d("2024-01-31"), 15, DayUnit::Calendar, false).unwrap();
    assert_eq!(plain.due, d("2024-02-15"));
}

#[test]
fn ninety_calendar_days_from_3_july_2024_end_on_national_day() {
    // July 3 + 28 = July 31, + 31 = Aug 31, + 30 = Sep 30, + 1 = Oct 1.
    let c = cal();
    assert_eq!(due_date(&c, d("2024-07-03"), 90, DayUnit::Calendar, false).unwrap().due, d("2024-10-01"));
    assert_eq!(due_date(&c, d("2024-07-03"), 90, DayUnit::Calendar, true).unwrap().due, d("2024-10-08"));
}

#[test]
fn sixty_days_of_reconsideration_ending_in_guoqing_2025_roll_past_it() {
    let due = due_date(&cal(), d("2025-08-02"), 60, DayUnit::Calendar, true).unwrap();
    assert_eq!(due.due, d("2025-10-09"));
    assert!(brief(&due).contains(&step(StepKind::RolledOver, "2025-10-01..2025-10-08", "国庆节、中秋节")));
}

#[test]
fn a_plain_weekend_also_rolls() {
    let due = due_date(&cal(), d("2024-06-01"), 15, DayUnit::Calendar, true).unwrap();
    assert_eq!(due.due, d("2024-06-17"));
    assert_eq!(due.steps[1].kind, StepKind::RolledOver);
    assert_eq!(due.steps[1].label, "周末");
}

#[test]
fn zero_days_is_the_event_day() {
    let c = cal();
    assert_eq!(due_date(&c, d("2024-10-05"), 0, DayUnit::Working, false).unwrap().due, d("2024-10-05"));
}

#[test]
fn notice_seven_working_days_before_a_hearing_counts_backwards() {
    // Hearing Thu 2024-10-10: 10-09 (1), 10-08 (2), 10-01..07 skipped, 09-30 (3), Sun 09-29
    // worked (4), 09-28 off, 09-27 (5), 09-26 (6), 09-25 (7).
    let due = notice_date(&cal(), d("2024-10-10"), 7, DayUnit::Working).unwrap();
    assert_eq!(due.due, d("2024-09-25"));
    assert_eq!(
        brief(&due),
        vec![
            step(StepKind::Start, "2024-10-10", "事件日"),
            step(StepKind::WeekendSkipped, "2024-09-28", "周末"),
            step(StepKind::MakeupWorkdayCounted, "2024-09-29", "国庆节"),
            step(StepKind::HolidaySkipped, "2024-10-01..2024-10-07", "国庆节"),
            step(StepKind::Due, "2024-09-25", "最迟日"),
        ]
    );
}

#[test]
fn working_days_between_counts_the_half_open_interval() {
    let c = cal();
    assert_eq!(c.working_days_between(d("2024-09-27"), d("2024-10-10")).unwrap(), 5);
    assert_eq!(c.working_days_between(d("2024-10-10"), d("2024-09-27")).unwrap(), 0);
    assert_eq!(c.next_working_day(d("2024-09-30")).unwrap(), d("2024-10-08"));
}

#[test]
fn due_serialises_as_the_cli_json_shape() {
    let due = due_date(&cal(), d("2024-09-27"), 5, DayUnit::Working, false).unwrap();
    let v = serde_json::to_value(&due).unwrap();
    assert_eq!(v["due"], "2024-10-10");
    let hol = &v["steps"][3];
    assert_eq!(hol["kind"], "holiday_skipped");
    assert_eq!(hol["from"], "2024-10-01");
    assert_eq!(hol["to"], "2024-10-07");
    assert_eq!(hol["days"], 7);
    assert_eq!(hol["label"], "国庆节");
    assert_eq!(v["steps"][2]["kind"], "makeup_workday_counted");
}

#[test]
fn missing_next_year_warns_from_the_first_of_november() {
    let c = cal();
    assert_eq!(c.missing_next_year(d("2026-12-01")), Some(2027));
    assert_eq!(c.missing_next_year(d("2026-11-30")), Some(2027));
    assert_eq!(c.missing_next_year(d("2026-11-01")), Some(2027));
    assert_eq!(c.missing_next_year(d("2026-10-31")), None);
    assert_eq!(c.missing_next_year(d("2025-12-15")), None);
}

#[test]
fn importing_a_year_extends_the_calendar() {
    let mut c = cal();
    let text = "year 2027 测试通知\noff 2027-01-01..2027-01-03 元旦\nwork 2027-01-09 元旦\n";
    let mut schedules = parse_schedules(text).unwrap();
    assert_eq!(c.merge_year(schedules.remove(0)).unwrap(), None);
    assert!(c.has_year(2027));
    assert_eq!(c.missing_next_year(d("2026-12-01")), None);
    // Now the count that failed above runs: 2026-12-25 (1), 12-28..31 (2-5), 2027-01-01..03
    // off, 01-04..08 (6-10).
    assert_eq!(c.add_working_days(d("2026-12-24"), 10).unwrap(), d("2027-01-08"));
    assert!(c.is_working_day(d("2027-01-09")).unwrap());
}

#[test]
fn replacing_a_year_returns_the_old_schedule_and_reindexes() {
    let mut c = cal();
    let fixed = parse_schedules("year 2024 更正\noff 2024-01-01 元旦\n").unwrap().remove(0);
    let old = c.merge_year(fixed).unwrap().unwrap();
    assert_eq!(old.year(), 2024);
    assert_eq!(old.entries().len(), 15);
    // 国庆 2024 is gone with the replaced schedule.
    assert!(c.is_working_day(d("2024-10-08")).unwrap());
    assert!(c.is_working_day(d("2024-10-07")).unwrap());
    assert!(!c.is_working_day(d("2024-10-12")).unwrap());
}

#[test]
fn a_schedule_contradicting_another_year_is_refused_unchanged() {
    let mut c = WorkCalendar::from_schedules(builtin_schedules().into_iter().filter(|s| s.year() == 2023)).unwrap();
    // A 2022 schedule that makes Saturday 2022-12-31 a working day, against the 2023 notice.
    let bad = parse_schedules("year 2022 错误\nwork 2022-12-31 元旦\n").unwrap().remove(0);
    let e = c.merge_year(bad).unwrap_err();
    assert_eq!(e.to_string(), "2022-12-31 在 2023 年的安排中是“放假”，在 2022 年的安排中是“调休上班”，两者矛盾");
    assert!(!c.has_year(2022));
}

#[test]
fn parser_reports_every_problem_with_its_line() {
    let text = "\
off 2027-01-01 元旦
year 2027 测试
off 2027-02-30 春节
work 2027-01-04 元旦
off 2027-10-07..2027-10-01 国庆节
off 2028-01-01 元旦
holiday 2027-05-01 劳动节
off 2027-05-01
off 2027-05-01..2027-05-05 劳动节
off 2027-05-03 劳动节
year 2027
off 2027/06/01 端午节
";
    let errs = parse_schedules(text).unwrap_err();
    let lines: Vec<usize> = errs.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![1, 3, 4, 5, 6, 7, 8, 10, 11, 12]);
    let msg = |line: usize| &errs.0.iter().find(|e| e.line == line).unwrap().message;
    assert!(msg(1).contains("请先写“year 年份”"));
    assert_eq!(msg(3), "“2027-02-30”不是存在的日期");
    assert!(msg(4).starts_with("2027-01-04 是星期一，本来就是工作日"));
    assert!(msg(5).contains("开始晚于结束"));
    assert!(msg(6).contains("不属于 2027 年的安排"));
    assert!(msg(7).contains("无法识别的关键字“holiday”"));
    assert!(msg(8).contains("缺少节日名称"));
    assert_eq!(msg(10), "2027-05-03 已在第 9 行列出，同一日期不能重复");
    assert!(msg(11).contains("2027 年已在第 2 行出现过"));
    assert!(msg(12).contains("应写作 YYYY-MM-DD"));
    let shown = errs.to_string();
    assert!(shown.starts_with("节假日安排有 10 处错误："));
    assert!(shown.contains("第 3 行：“2027-02-30”不是存在的日期"));
}

#[test]
fn parser_rejects_an_empty_file_and_an_empty_year() {
    let e = parse_schedules("# 只有注释\n\n").unwrap_err();
    assert!(e.0[0].message.contains("没有年度安排"));
    let e = parse_schedules("year 2027\n").unwrap_err();
    assert_eq!(e.0[0].line, 1);
    assert!(e.0[0].message.contains("没有任何放假或调休上班安排"));
}

#[test]
fn parser_accepts_chinese_keywords_and_comments() {
    let s = parse_schedules("年度 2027 通知 # 注释\n休 2027-01-01 元旦\n班 2027-01-09 元旦 # 周六\n").unwrap();
    assert_eq!(s[0].source(), "通知");
    assert_eq!(s[0].entries()[1].kind, SpecialKind::Work);
    assert_eq!(s[0].entries()[1].label, "元旦");
}

#[test]
fn every_builtin_schedule_round_trips_through_text() {
    for s in builtin_schedules() {
        let back = parse_schedules(&s.to_text()).unwrap();
        assert_eq!(back, vec![s]);
    }
}
