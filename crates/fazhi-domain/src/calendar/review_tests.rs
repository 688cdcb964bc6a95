//! The review of an import: the diff against the arrangement in force and the statutory
//! completeness rule (《全国年节及纪念日放假办法》 第二条).

use chrono::NaiveDate;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn one(text: &str) -> YearSchedule {
    parse_schedules(text).unwrap().remove(0)
}

/// The import: one line for 2026, meant to add nothing, that would have replaced the
/// whole built-in 2026 schedule.
const ONE_LINE_2026: &str = "year 2026 测试\noff 2026-01-01..2026-01-03 元旦\n";

#[test]
fn every_builtin_year_gives_every_statutory_holiday() {
    for s in builtin_schedules() {
        assert_eq!(statutory_shortfalls(&s), vec![], "{}", s.year());
    }
}

#[test]
fn the_one_line_2026_import_is_refused_naming_every_missing_festival() {
    let s = statutory_shortfalls(&one(ONE_LINE_2026));
    let names: Vec<&str> = s.iter().map(|s| s.festival).collect();
    assert_eq!(names, ["春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]);
    assert!(s[0].message.contains("缺少“春节”"), "{}", s[0].message);
    assert!(s[0].message.contains("2024年11月10日修订"), "{}", s[0].message);
    assert!(s[5].message.contains("第二条第（七）项：国庆节放假3天"), "{}", s[5].message);
}

#[test]
fn the_day_counts_follow_the_revision_in_force() {
    // 春节 3 days was the law until 2024; from 2025 it is 4 (除夕 added).
    let text = |y: i32, spring: &str| {
        format!(
            "year {y} t\noff {y}-01-01 元旦\noff {spring} 春节\noff {y}-04-04 清明节\noff {y}-05-01..{y}-05-02 劳动节\n\
             off {y}-06-10 端午节\noff {y}-09-15 中秋节\noff {y}-10-01..{y}-10-03 国庆节\n"
        )
    };
    assert_eq!(statutory_shortfalls(&one(&text(2024, "2024-02-10..2024-02-12"))), vec![]);
    let s = statutory_shortfalls(&one(&text(2027, "2027-02-06..2027-02-08")));
    assert_eq!(s.len(), 1, "{s:?}");
    assert!(s[0].message.contains("只给“春节”放假 3 天，少于法定的 4 天"), "{}", s[0].message);
    assert_eq!(holiday_law(2025).unwrap().title, "《全国年节及纪念日放假办法》（2024年11月10日修订）");
    assert_eq!(holiday_law(2014).unwrap().title, "《全国年节及纪念日放假办法》（2013年12月11日修订）");
    assert!(holiday_law(2013).is_none());
    assert_eq!(statutory_shortfalls(&one("year 2010 t\noff 2010-01-01 元旦\n")).len(), 1);
}

#[test]
fn a_fixed_date_must_be_off_and_a_combined_line_must_cover_both() {
    let s = statutory_shortfalls(&one(
        "year 2027 t\noff 2027-01-02..2027-01-03 元旦\noff 2027-02-05..2027-02-08 春节\noff 2027-04-05 清明节\n\
         off 2027-05-01..2027-05-02 劳动节\noff 2027-06-09 端午节\noff 2027-10-01..2027-10-03 国庆节、中秋节\n",
    ));
    let messages: Vec<&str> = s.iter().map(|s| s.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("没有把 1月1日 列为“元旦”的放假日"), "{}", messages[0]);
    assert!(messages[1].contains("合并放假 3 天，少于两者法定假日之和 4 天"), "{}", messages[1]);
    // 新年 is the older name of 元旦; 国庆、中秋 over 8 days covers both.
    let ok = one("year 2027 t\noff 2027-01-01 新年\noff 2027-02-05..2027-02-08 春节\noff 2027-04-05 清明\n\
         off 2027-05-01..2027-05-05 五一劳动节\noff 2027-06-09 端午\noff 2027-10-01..2027-10-08 国庆节、中秋节\n");
    assert_eq!(statutory_shortfalls(&ok), vec![]);
}

#[test]
fn the_diff_shows_the_vanished_national_day() {
    let builtin = WorkCalendar::builtin();
    let diff = diff_year(builtin.schedule(2026), &one(ONE_LINE_2026));
    assert!(diff.existed && !diff.is_unchanged());
    assert!(diff.new_holidays.is_empty(), "{:?}", diff.new_holidays);
    let gone: Vec<(NaiveDate, NaiveDate, &str)> =
        diff.removed_holidays.iter().map(|c| (c.first, c.last, c.before.as_ref().unwrap().label.as_str())).collect();
    assert!(gone.contains(&(d("2026-10-01"), d("2026-10-07"), "国庆节")), "{gone:?}");
    assert!(gone.contains(&(d("2026-02-15"), d("2026-02-23"), "春节")), "{gone:?}");
    // 2026-01-04 (a Sunday worked for 元旦) becomes an ordinary weekend day.
    assert_eq!(diff.removed_workdays[0].first, d("2026-01-04"));
    assert_eq!(diff.removed_workdays.iter().map(DayChange::days).sum::<i64>(), 6);
    let mut expected = ["春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"].map(String::from).to_vec();
    expected.sort();
    assert_eq!(diff.vanished_festivals, expected, "sorted");
    // What it means: 5 working days from 2026-09-30 end on 10-13 now, would end on 10-07.
    let mut changed = builtin.clone();
    changed.merge_year(one(ONE_LINE_2026)).unwrap();
    assert_eq!(builtin.add_working_days(d("2026-09-30"), 5).unwrap(), d("2026-10-13"));
    assert_eq!(changed.add_working_days(d("2026-09-30"), 5).unwrap(), d("2026-10-07"));
}

#[test]
fn the_diff_of_a_new_year_and_of_a_correction() {
    let a = one("year 2027 a\noff 2027-01-01..2027-01-03 元旦\nwork 2027-01-09 元旦\n");
    let first = diff_year(None, &a);
    assert!(!first.existed && first.source_before.is_none());
    assert_eq!(first.new_holidays.len(), 1);
    assert_eq!((first.new_holidays[0].first, first.new_holidays[0].days()), (d("2027-01-01"), 3));
    assert_eq!(first.new_workdays[0].first, d("2027-01-09"));
    // Same days under another name and source: not a change of the calendar.
    let renamed = one("year 2027 b\noff 2027-01-01..2027-01-03 新年\nwork 2027-01-09 新年\n");
    assert!(diff_year(Some(&a), &renamed).is_unchanged());
    assert!(diff_year(Some(&a), &renamed).vanished_festivals.is_empty());
    // A make-up workday turned into a day off, and one day off dropped.
    let b = one("year 2027 c\noff 2027-01-01..2027-01-02 元旦\noff 2027-01-09 元旦\n");
    let diff = diff_year(Some(&a), &b);
    assert_eq!(diff.new_holidays[0].before.as_ref().map(|m| m.kind), Some(SpecialKind::Work));
    assert_eq!(diff.removed_holidays[0].first, d("2027-01-03"));
    assert!(diff.new_workdays.is_empty() && diff.removed_workdays.is_empty());
}
