//! Property tests of the counting rules over every date of the embedded years.

use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;

use super::*;

/// Dates from 2020-01-01 to 2026-06-30: far enough from the end of the known range that
/// 60 working days (about three months) stay inside 2026.
fn known_date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    (0u64..2373).prop_map(move |n| first + Days::new(n))
}

proptest! {
    #[test]
    fn n_working_days_after_any_date_is_a_working_day(from in known_date(), n in 1u32..=60) {
        let cal = WorkCalendar::builtin();
        let due = cal.add_working_days(from, n).unwrap();
        prop_assert!(due > from);
        prop_assert!(cal.is_working_day(due).unwrap());
        prop_assert_eq!(cal.working_days_between(from, due).unwrap(), n);
        // The explained computation agrees with the plain one.
        prop_assert_eq!(due_date(&cal, from, n, DayUnit::Working, false).unwrap().due, due);
    }

    #[test]
    fn adding_a_then_b_working_days_equals_adding_a_plus_b(
        from in known_date(), a in 0u32..=30, b in 0u32..=30,
    ) {
        let cal = WorkCalendar::builtin();
        let two_steps = cal.add_working_days(cal.add_working_days(from, a).unwrap(), b).unwrap();
        prop_assert_eq!(two_steps, cal.add_working_days(from, a + b).unwrap());
    }

    #[test]
    fn the_explanation_accounts_for_every_day(from in known_date(), n in 1u32..=60) {
        // Days from the event to the due date = counted days + skipped weekend/holiday days.
        let cal = WorkCalendar::builtin();
        let due = due_date(&cal, from, n, DayUnit::Working, false).unwrap();
        let skipped: u32 = due
            .steps
            .iter()
            .filter(|s| matches!(s.kind, StepKind::WeekendSkipped | StepKind::HolidaySkipped))
            .map(|s| s.days)
            .sum();
        let span = u32::try_from((due.due - from).num_days()).unwrap();
        prop_assert_eq!(span, n + skipped);
        for s in &due.steps {
            match s.kind {
                StepKind::MakeupWorkdayCounted => {
                    let made_up = matches!(cal.status(s.from).unwrap(), DayStatus::MakeUpWorkday { .. });
                    prop_assert!(made_up);
                }
                StepKind::HolidaySkipped => {
                    let holiday = matches!(cal.status(s.to).unwrap(), DayStatus::Holiday { .. });
                    prop_assert!(holiday);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_rolled_calendar_period_ends_on_the_first_working_day_from_its_last_day(
        from in known_date(), n in 1u32..=90,
    ) {
        let cal = WorkCalendar::builtin();
        let last = from + Days::new(u64::from(n));
        let due = due_date(&cal, from, n, DayUnit::Calendar, true).unwrap().due;
        prop_assert!(due >= last);
        prop_assert!(cal.is_working_day(due).unwrap());
        for d in last.iter_days().take_while(|d| *d < due) {
            prop_assert!(!cal.is_working_day(d).unwrap());
        }
        prop_assert_eq!(due_date(&cal, from, n, DayUnit::Calendar, false).unwrap().due, last);
    }

    #[test]
    fn counting_back_then_forward_returns_to_a_working_event(from in known_date(), n in 1u32..=30) {
        // For a working-day event E, the notice date N working days before E is the date
        // whose Nth working day after is E.
        let cal = WorkCalendar::builtin();
        let event = cal.add_working_days(from, 40).unwrap();
        let notice = notice_date(&cal, event, n, DayUnit::Working).unwrap().due;
        prop_assert!(cal.is_working_day(notice).unwrap());
        prop_assert_eq!(cal.add_working_days(notice, n).unwrap(), event);
    }

    #[test]
    // Ordinal <= 360 keeps a 2019 date a few days from 2020, so one working day after it is
    // still in 2019 and the count must fail too.
    fn any_date_in_an_unknown_year_is_an_error(year in prop_oneof![2000i32..2020, 2027i32..2100], ordinal in 1u32..=360) {
        let cal = WorkCalendar::builtin();
        let date = NaiveDate::from_yo_opt(year, ordinal).unwrap();
        let err = cal.status(date).unwrap_err();
        prop_assert_eq!(&err, &CalendarError::UnknownYear { year: date.year() });
        prop_assert_eq!(err.to_string(), format!("没有 {year} 年的节假日安排，请先导入"));
        prop_assert!(due_date(&cal, date, 1, DayUnit::Working, false).is_err());
    }
}
