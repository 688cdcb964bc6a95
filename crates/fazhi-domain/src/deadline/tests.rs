//! Tests of the rule set, overrides and clock instances, with real dates counted by hand on
//! the published schedules.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::UserId;
use crate::calendar::{DayUnit, StepKind, WorkCalendar};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn rule(id: &str) -> DeadlineRule {
    RuleSet::builtin().get(id).unwrap().clone()
}

const ALICE: UserId = UserId(7);

#[test]
fn the_issue_s_rules_are_all_there_with_their_periods() {
    use DayUnit::{Calendar as C, Working as W};
    let set = RuleSet::builtin();
    let expected: &[(&str, u32, DayUnit)] = &[
        ("enforcement.decision", 90, C),
        ("enforcement.hearing_request", 5, W),
        ("enforcement.hearing_notice", 7, W),
        ("enforcement.evidence_preservation", 7, W),
        ("enforcement.publication", 7, W),
        ("enforcement.withdrawal", 3, W),
        ("enforcement.service", 7, W),
        ("petition.register", 15, C),
        ("petition.handle", 60, C),
        ("petition.review", 30, C),
        ("petition.recheck", 30, C),
        ("petition.objection", 5, W),
        ("disclosure.reply", 20, W),
        ("disclosure.correction_notice", 7, W),
        ("disclosure.third_party_opinion", 15, W),
        ("decision.public_comment", 30, C),
        ("decision.legality_review", 7, W),
        ("litigation.defence", 15, C),
        ("reconsideration.answer", 10, W),
        ("reconsideration.decision", 60, C),
        ("mediation.judicial_confirmation", 30, C),
    ];
    for (id, length, unit) in expected {
        let r = set.get(id).unwrap_or_else(|| panic!("missing rule {id}"));
        assert_eq!((r.length, r.unit), (*length, *unit), "{id}");
    }
    assert_eq!(set.get("petition.handle").unwrap().extensions[0].max_length, 30);
    assert_eq!(set.get("disclosure.reply").unwrap().extensions[0].max_length, 20);
    assert_eq!(set.get("reconsideration.decision").unwrap().extensions[0].max_length, 30);
}

#[test]
fn every_rule_is_cited_and_unique() {
    let set = RuleSet::builtin();
    let ids: BTreeSet<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), set.rules().len(), "duplicate rule id");
    for r in set.rules() {
        assert!(!r.citation.law.is_empty() && !r.citation.article.is_empty(), "{}", r.id);
        assert!(r.length > 0, "{}", r.id);
        assert_eq!(r.start, StartRule::NextDay, "{}", r.id);
        assert!(r.overridden.is_none(), "{}", r.id);
        // Where research is incomplete the rule must say why.
        if r.verification != Verification::Statute {
            assert!(!r.note.is_empty(), "{} needs a note", r.id);
        }
        for e in &r.extensions {
            assert!(!e.approver.is_empty(), "{}", r.id);
        }
        // Pausing or rolling an advance notice would shorten the notice.
        if r.kind == RuleKind::AdvanceNotice {
            assert!(r.pauses.is_empty() && r.extensions.is_empty() && !r.roll_if_non_working);
        }
    }
}

#[test]
fn statutes_that_define_short_periods_as_working_days_are_followed() {
    // 行政处罚法 第八十五条 (二日/三日/五日/七日), 行政复议法 第八十八条第二款 (三/五/七/十日),
    // 行政强制法 第六十九条 (≤ 十日).
    // Only periods the cited statute itself sets; unverified values come from elsewhere.
    for r in RuleSet::builtin().rules().iter().filter(|r| r.verification == Verification::Statute) {
        let law = r.citation.law.as_str();
        let short = (law.starts_with("行政处罚法") && [2, 3, 5, 7].contains(&r.length))
            || (law.starts_with("行政复议法") && [3, 5, 7, 10].contains(&r.length))
            || (law.starts_with("行政强制法") && r.length <= 10);
        if short {
            assert_eq!(r.unit, DayUnit::Working, "{}", r.id);
        } else if law.starts_with("行政处罚法") || law.starts_with("行政复议法") {
            assert_eq!(r.unit, DayUnit::Calendar, "{}", r.id);
        }
    }
}

#[test]
fn calendar_periods_roll_in_court_procedures_and_for_parties() {
    for r in RuleSet::builtin().rules() {
        if r.unit != DayUnit::Calendar || r.kind != RuleKind::Deadline {
            continue;
        }
        let court = matches!(r.area, Area::Litigation | Area::Reconsideration | Area::Mediation);
        let expected = court || r.duty == Duty::Party;
        assert_eq!(r.roll_if_non_working, expected, "{}", r.id);
    }
}

#[test]
fn overrides_change_values_and_record_their_basis() {
    let json = r#"{
        "enforcement.statement": {"length": 7, "basis": "某市行政处罚程序规定第二十条"},
        "enforcement.decision": {
            "extensions": [{"max_length": 30, "approver": "行政机关负责人", "notify_party": true,
                            "citation": {"law": "某市行政处罚程序规定", "article": "第四十条"}}],
            "basis": "某市行政处罚程序规定第四十条"
        }
    }"#;
    let overrides: RuleOverrides = serde_json::from_str(json).unwrap();
    let set = RuleSet::builtin().with_overrides(&overrides).unwrap();
    let s = set.get("enforcement.statement").unwrap();
    assert_eq!(s.length, 7);
    assert_eq!(s.overridden.as_deref(), Some("某市行政处罚程序规定第二十条"));
    assert_eq!(set.get("enforcement.decision").unwrap().extensions.len(), 1);
    // Untouched rules stay as built.
    assert_eq!(set.get("disclosure.reply"), RuleSet::builtin().get("disclosure.reply"));
}

#[test]
fn invalid_overrides_are_all_reported_and_nothing_is_applied() {
    let mut o = RuleOverrides::default();
    o.0.insert("no.such.rule".into(), RuleOverride { basis: "x".into(), ..Default::default() });
    o.0.insert("petition.handle".into(), RuleOverride { length: Some(0), ..Default::default() });
    let errs = RuleSet::builtin().with_overrides(&o).unwrap_err();
    let msgs: Vec<String> = errs.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        msgs,
        vec![
            "没有编号为“no.such.rule”的期限规则",
            "期限规则“petition.handle”的调整必须写明依据（如地方性法规、规章名称和条款）",
            "期限规则“petition.handle”的期限 0 不合理（应为 1 至 3650）",
        ]
    );
    let typo: Result<RuleOverrides, _> = serde_json::from_str(r#"{"petition.handle": {"lenght": 45, "basis": "x"}}"#);
    assert!(typo.is_err(), "unknown fields must not be silently ignored");
}

#[test]
fn disclosure_reply_with_consultation_pause_and_extension() {
    let cal = WorkCalendar::builtin();
    // Received Mon 2024-09-02; 20 working days counting Sat 09-14 and Sun 09-29 (make-up
    // days) and skipping 中秋 09-15..17: due Mon 09-30.
    let mut c = DeadlineClock::new(rule("disclosure.reply"), d("2024-09-02"));
    let e = c.evaluate(&cal, d("2024-09-05")).unwrap();
    assert_eq!((e.due, e.state, e.paused), (d("2024-09-30"), ClockState::Running, 0));

    // Consultation letter sent Tue 09-10, reply received Fri 09-13: 09-11, 12, 13 not
    // counted (3 working days), so the due date moves 3 working days past 09-30, over 国庆.
    c.pause(d("2024-09-10"), PauseReason::Consultation, ALICE, "征求第三方意见").unwrap();
    let e = c.evaluate(&cal, d("2024-09-12")).unwrap();
    assert_eq!(e.state, ClockState::Paused);
    assert!(e.provisional);
    c.resume(d("2024-09-13")).unwrap();
    let e = c.evaluate(&cal, d("2024-09-20")).unwrap();
    assert_eq!((e.due, e.state, e.paused), (d("2024-10-10"), ClockState::Running, 3));
    assert!(!e.provisional);
    let paused = e.steps.iter().find(|s| s.kind == StepKind::Paused).unwrap();
    assert_eq!(paused.range().display(), "2024-09-11..2024-09-13");
    assert!(paused.text.contains("政府信息公开条例（2019年修订）》第三十三条第三款"));
    assert!(e.steps.iter().any(|s| s.kind == StepKind::HolidaySkipped && s.label == "国庆节"));

    assert_eq!(c.evaluate(&cal, d("2024-10-11")).unwrap().state, ClockState::Missed);
    c.completed_on = Some(d("2024-10-10"));
    assert_eq!(c.evaluate(&cal, d("2024-12-01")).unwrap().state, ClockState::Met);
    c.completed_on = None;

    // Extension of 20 working days (政府信息公开条例 第三十三条第二款): 43 working days in all.
    c.extend(Extension {
        length: 20, approved_by: ALICE, approved_on: d("2024-09-25"), reason: "申请内容复杂".into()
    })
    .unwrap();
    let e = c.evaluate(&cal, d("2024-09-25")).unwrap();
    assert_eq!(e.due, cal.add_working_days(d("2024-09-02"), 43).unwrap());
    assert_eq!(e.due, d("2024-11-06"));
    assert_eq!(e.steps[1].kind, StepKind::Extended);
    assert!(e.steps[1].text.contains("政府信息公开工作机构负责人"));
}

#[test]
fn clock_refuses_what_the_rule_does_not_allow() {
    let mut c = DeadlineClock::new(rule("disclosure.reply"), d("2024-09-02"));
    let e = c.pause(d("2024-09-03"), PauseReason::Hearing, ALICE, "").unwrap_err();
    assert_eq!(e.to_string(), "“答复政府信息公开申请”不允许因“听证”暂停计时");
    assert!(c.pauses.is_empty(), "a refused pause is not kept");
    assert_eq!(
        c.pause(d("2024-09-01"), PauseReason::Consultation, ALICE, ""),
        Err(ClockError::PauseBeforeStart { from: d("2024-09-01"), start: d("2024-09-02") })
    );
    assert_eq!(c.resume(d("2024-09-05")), Err(ClockError::NotPaused));
    c.pause(d("2024-09-03"), PauseReason::Consultation, ALICE, "").unwrap();
    assert_eq!(c.pause(d("2024-09-04"), PauseReason::Consultation, ALICE, ""), Err(ClockError::AlreadyPaused));
    assert!(matches!(c.resume(d("2024-09-02")), Err(ClockError::PauseEndsBeforeStart { .. })));
    let ext = |length| Extension { length, approved_by: ALICE, approved_on: d("2024-09-20"), reason: "复杂".into() };
    let e = c.extend(ext(21)).unwrap_err();
    assert_eq!(e.to_string(), "第 1 次延长 21个工作日 超过法定上限 20个工作日");
    c.extend(ext(20)).unwrap();
    assert!(matches!(c.extend(ext(1)), Err(ClockError::TooManyExtensions { allowed: 1, .. })));
    assert_eq!(c.extensions.len(), 1);
}

#[test]
fn correction_restarts_the_disclosure_reply_period() {
    // 补正 asked 2024-03-05, received Tue 03-12: 20 working days from 03-12, counting Sun
    // 04-07 (make-up) and skipping 清明 04-04..06: due Wed 04-10.
    let cal = WorkCalendar::builtin();
    let mut c = DeadlineClock::new(rule("disclosure.reply"), d("2024-03-01"));
    c.pause(d("2024-03-05"), PauseReason::Correction, ALICE, "申请内容不明确").unwrap();
    c.resume(d("2024-03-12")).unwrap();
    let e = c.evaluate(&cal, d("2024-03-20")).unwrap();
    assert_eq!(e.due, d("2024-04-10"));
    assert_eq!(e.steps[0].kind, StepKind::Start);
    assert_eq!(e.steps[0].from, d("2024-03-01"));
    assert_eq!(e.steps[1].kind, StepKind::Restarted);
    assert!(e.steps[1].text.contains("期间自 2024-03-12 次日起重新计算"));
    assert!(e.steps.iter().any(|s| s.kind == StepKind::MakeupWorkdayCounted && s.from == d("2024-04-07")));
}

#[test]
fn calendar_day_pause_extends_by_the_paused_calendar_days() {
    // 复核 request received 2025-03-03; hearing 03-10..03-14 excludes 03-11..14 (4 days):
    // 03-03 + 34 days = 2025-04-06, a 清明 Sunday; agency deadlines do not roll.
    let cal = WorkCalendar::builtin();
    let mut c = DeadlineClock::new(rule("petition.recheck"), d("2025-03-03"));
    c.pause(d("2025-03-10"), PauseReason::Hearing, ALICE, "听证").unwrap();
    c.resume(d("2025-03-14")).unwrap();
    let e = c.evaluate(&cal, d("2025-03-20")).unwrap();
    assert_eq!((e.due, e.paused), (d("2025-04-06"), 4));
}

#[test]
fn reconsideration_decision_rolls_past_guoqing_2025() {
    let cal = WorkCalendar::builtin();
    let c = DeadlineClock::new(rule("reconsideration.decision"), d("2025-08-02"));
    let e = c.evaluate(&cal, d("2025-09-01")).unwrap();
    assert_eq!(e.due, d("2025-10-09"));
    assert!(e.steps.iter().any(|s| s.kind == StepKind::RolledOver));
}

#[test]
fn hearing_notice_is_due_seven_working_days_before_the_hearing() {
    let cal = WorkCalendar::builtin();
    let mut c = DeadlineClock::new(rule("enforcement.hearing_notice"), d("2024-10-10"));
    let e = c.evaluate(&cal, d("2024-09-20")).unwrap();
    assert_eq!((e.due, e.state), (d("2024-09-25"), ClockState::Running));
    assert_eq!(c.evaluate(&cal, d("2024-09-26")).unwrap().state, ClockState::Missed);
    c.completed_on = Some(d("2024-09-25"));
    assert_eq!(c.evaluate(&cal, d("2024-10-10")).unwrap().state, ClockState::Met);
    c.completed_on = Some(d("2024-09-26"));
    assert_eq!(c.evaluate(&cal, d("2024-10-10")).unwrap().state, ClockState::Missed);
}

#[test]
fn legality_review_is_a_minimum_period() {
    // Sent Fri 2025-09-26: Sun 09-28 worked (1), 09-29 (2), 09-30 (3), 10-01..08 off,
    // 10-09 (4), 10-10 (5), Sat 10-11 worked (6), Mon 10-13 (7).
    let cal = WorkCalendar::builtin();
    let mut c = DeadlineClock::new(rule("decision.legality_review"), d("2025-09-26"));
    let e = c.evaluate(&cal, d("2025-10-09")).unwrap();
    assert_eq!((e.due, e.state), (d("2025-10-13"), ClockState::Running));
    assert!(e.steps.last().unwrap().text.contains("最早于 2025-10-13 届满，此前不得结束"));
    assert_eq!(c.evaluate(&cal, d("2025-10-13")).unwrap().state, ClockState::Met);
    c.completed_on = Some(d("2025-10-10"));
    assert_eq!(c.evaluate(&cal, d("2025-10-20")).unwrap().state, ClockState::Missed);
    c.completed_on = Some(d("2025-10-13"));
    assert_eq!(c.evaluate(&cal, d("2025-10-20")).unwrap().state, ClockState::Met);
}

#[test]
fn an_override_is_shown_in_the_explanation() {
    let mut o = RuleOverrides::default();
    o.0.insert(
        "enforcement.statement".into(),
        RuleOverride { length: Some(3), basis: "本市规定".into(), ..Default::default() },
    );
    let set = RuleSet::builtin().with_overrides(&o).unwrap();
    let c = DeadlineClock::new(set.get("enforcement.statement").unwrap().clone(), d("2024-10-08"));
    let e = c.evaluate(&WorkCalendar::builtin(), d("2024-10-08")).unwrap();
    // Three working days after Tue 10-08: 10-09, 10-10, 10-11.
    assert_eq!(e.due, d("2024-10-11"));
    assert_eq!(e.steps[1].kind, StepKind::OverrideApplied);
    assert!(e.steps[1].text.contains("依据：本市规定"));
}

#[test]
fn evaluation_in_an_unknown_year_fails_clearly() {
    let c = DeadlineClock::new(rule("reconsideration.answer"), d("2026-12-28"));
    let e = c.evaluate(&WorkCalendar::builtin(), d("2026-12-28")).unwrap_err();
    assert_eq!(e.to_string(), "没有 2027 年的节假日安排，请先导入");
}

#[test]
fn a_same_day_start_rule_counts_the_event_day_as_day_one() {
    // Not used by the built-in rules; for a law that counts the event's day.
    let cal = WorkCalendar::builtin();
    let mut r = rule("enforcement.service");
    r.start = StartRule::SameDay;
    // Mon 2024-10-14 is day one of 7 working days: 10-14..10-18, 10-21, 10-22.
    let e = DeadlineClock::new(r, d("2024-10-14")).evaluate(&cal, d("2024-10-14")).unwrap();
    assert_eq!(e.due, d("2024-10-22"));
    let normal =
        DeadlineClock::new(rule("enforcement.service"), d("2024-10-14")).evaluate(&cal, d("2024-10-14")).unwrap();
    assert_eq!(normal.due, d("2024-10-23"));
}

fn known_date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    // Up to 2025-12-31, so the period plus a pause of up to 30 days stays inside 2026.
    (0u64..2192).prop_map(move |n| first + Days::new(n))
}

proptest! {
    #[test]
    fn pauses_extend_a_working_day_period_by_exactly_the_paused_working_days(
        start in known_date(), n in 1u32..=20, offset in 0u64..40, len in 0u64..30,
    ) {
        let cal = WorkCalendar::builtin();
        let mut r = rule("disclosure.reply");
        r.length = n;
        let due0 = cal.add_working_days(start, n).unwrap();
        // Any pause beginning on or after the event and before the unpaused due date.
        let from = start + Days::new(offset);
        prop_assume!(from < due0);
        let to = from + Days::new(len);
        let mut c = DeadlineClock::new(r, start);
        c.pause(from, PauseReason::Consultation, ALICE, "").unwrap();
        c.resume(to).unwrap();
        let k = cal.working_days_between(from, to).unwrap();
        let e = c.evaluate(&cal, start).unwrap();
        prop_assert_eq!(e.paused, k);
        prop_assert_eq!(e.due, cal.add_working_days(start, n + k).unwrap());
        if to <= due0 {
            prop_assert_eq!(e.due, cal.add_working_days(due0, k).unwrap());
        }
    }

    #[test]
    fn pauses_extend_a_calendar_day_period_by_exactly_the_paused_days(
        start in known_date(), offset in 0u64..30, len in 0u64..30,
    ) {
        let cal = WorkCalendar::builtin();
        let from = start + Days::new(offset);
        let to = from + Days::new(len);
        let mut c = DeadlineClock::new(rule("petition.recheck"), start);
        c.pause(from, PauseReason::Hearing, ALICE, "").unwrap();
        c.resume(to).unwrap();
        let e = c.evaluate(&cal, start).unwrap();
        prop_assert_eq!(e.paused, u32::try_from(len).unwrap());
        prop_assert_eq!(e.due, start + Days::new(30 + len));
    }
}
