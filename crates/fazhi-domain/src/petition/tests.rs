//! Petition rules: the state machine, review windows, tracking codes, similarity, requests.

use super::*;

use proptest::prelude::*;

use crate::code::assert_well_formed;
use crate::workflow::{Responsible, Workflow};
use crate::{Day, OrgId};

fn day(s: &str) -> Day {
    Day::from_text(s).unwrap()
}

fn facts(stage: Stage, extended: bool) -> Facts {
    Facts { stage, extended, objection_window: false, received: day("2026-03-02"), today: day("2026-03-20") }
}

fn t(s: State, e: Event) -> Result<State, Refusal> {
    PetitionFlow::transition(s, &e, &facts(Stage::First, false))
}

#[test]
fn the_happy_path_and_its_refusals() {
    let f = facts(Stage::First, false);
    let tr = |s, e: &Event, f: &Facts| PetitionFlow::transition(s, e, f);
    let mut s = State::Registered;
    s = tr(s, &Event::Accept { on: day("2026-03-03") }, &f).unwrap();
    assert_eq!(tr(s, &Event::Assign { to: OrgId(6), note: " ".into() }, &f), Err(Refusal::MissingNote));
    s = tr(s, &Event::Assign { to: OrgId(6), note: "请兴南社区核实".into() }, &f).unwrap();
    assert_eq!(tr(s, &Event::Close, &f), Err(Refusal::NotServed));
    let ext = |days, approved| Event::Extend { days, approved, reason: "需现场勘验".into() };
    assert_eq!(tr(s, &ext(31, true), &f), Err(Refusal::ExtensionTooLong(31)));
    assert_eq!(tr(s, &ext(30, false), &f), Err(Refusal::ExtensionNotApproved));
    assert_eq!(
        tr(s, &Event::Extend { days: 30, approved: true, reason: " ".into() }, &f),
        Err(Refusal::MissingExtensionReason)
    );
    assert_eq!(tr(s, &ext(30, true), &f), Ok(State::Handling));
    assert_eq!(tr(s, &ext(10, true), &facts(Stage::First, true)), Err(Refusal::AlreadyExtended));
    let reply = |basis: &str| Event::Reply { outcome: Outcome::Explain, legal_basis: basis.into(), text: "x".into() };
    assert_eq!(tr(s, &reply(""), &f), Err(Refusal::MissingBasis));
    s = tr(s, &reply("《物业管理条例》第三十五条"), &f).unwrap();
    let late = tr(s, &Event::Serve { on: day("2026-03-21") }, &f).unwrap_err();
    assert_eq!(late.to_string(), "日期不能晚于今天");
    let early = tr(s, &Event::Serve { on: day("2026-03-01") }, &f).unwrap_err();
    assert_eq!(early.to_string(), "日期不能早于收到日期 2026-03-02");
    s = tr(s, &Event::Serve { on: day("2026-03-10") }, &f).unwrap();
    assert_eq!(tr(s, &Event::Close, &f), Ok(State::Closed));
    let e = tr(State::Closed, &Event::Accept { on: day("2026-03-10") }, &f).unwrap_err();
    assert!(e.to_string().contains("已办结"), "{e}");
    assert_eq!(t(State::Registered, Event::NotAccept { reason: " ".into() }), Err(Refusal::MissingReason));
}

#[test]
fn step_texts_are_bounded_and_name_their_field() {
    let field = |r: Result<State, Refusal>| match r {
        Err(Refusal::Field(e)) => e.field,
        other => panic!("{other:?}"),
    };
    let long = "理".repeat(MAX_REASON_CHARS + 1);
    assert_eq!(field(t(State::Registered, Event::NotAccept { reason: long.clone() })), "reason");
    assert!(t(State::Registered, Event::NotAccept { reason: "理".repeat(MAX_REASON_CHARS) }).is_ok());
    let reply = Event::Reply {
        outcome: Outcome::Explain,
        legal_basis: "《信访工作条例》第三十二条".into(),
        text: "实".repeat(MAX_REPLY_CHARS + 1),
    };
    assert_eq!(field(t(State::Handling, reply)), "text");
    let extend = Event::Extend { days: 10, approved: true, reason: long };
    assert_eq!(field(t(State::Handling, extend)), "reason");
}

#[test]
fn transfers_supervision_merge_and_visits() {
    use State::*;
    let today = day("2026-03-20");
    let to = OrgId(9);
    assert_eq!(t(Registered, Event::Transfer { to, reason: "属区住建委职责".into() }), Ok(Registered));
    assert_eq!(t(Registered, Event::Transfer { to, reason: "".into() }), Err(Refusal::MissingReason));
    assert!(t(Handling, Event::Transfer { to, reason: "x".into() }).is_err(), "transfer happens before acceptance");
    let review =
        PetitionFlow::transition(Registered, &Event::Transfer { to, reason: "x".into() }, &facts(Stage::Review, false));
    assert_eq!(review, Err(Refusal::NoTransferInReview), "a 复查 is answered by the body asked");
    let objection = Event::Objection { reason: "不属本街道职权".into() };
    assert_eq!(t(Registered, objection.clone()), Err(Refusal::NoObjectionWindow));
    let open = Facts { objection_window: true, ..facts(Stage::First, false) };
    assert_eq!(PetitionFlow::transition(Registered, &objection, &open), Ok(Registered));
    assert_eq!(t(Handling, Event::Supervise { instruction: "本周内答复".into() }), Ok(Handling));
    assert_eq!(t(Handling, Event::Supervise { instruction: " ".into() }), Err(Refusal::MissingInstruction));
    assert!(t(Closed, Event::Supervise { instruction: "x".into() }).is_err());
    assert_eq!(t(Registered, Event::Merge { into: 3 }), Ok(Merged));
    assert!(t(Accepted, Event::Merge { into: 3 }).is_err());
    let visit = Event::Visit { on: today, satisfaction: Satisfaction::Basic, note: String::new() };
    assert_eq!(t(Served, visit.clone()), Ok(Served));
    assert_eq!(t(Closed, visit.clone()), Ok(Closed));
    assert!(t(Handling, visit).is_err());
    let ext = Event::Extend { days: 10, approved: true, reason: "x".into() };
    assert_eq!(
        PetitionFlow::transition(Accepted, &ext, &facts(Stage::Review, false)),
        Err(Refusal::NoExtensionInReview)
    );
    assert!(!Merged.is_open() && !Served.is_open() && Handling.is_open());
    assert_well_formed::<State>();
    assert_well_formed::<Stage>();
    assert_well_formed::<Channel>();
    assert_well_formed::<Category>();
    assert_well_formed::<Outcome>();
    assert_well_formed::<Satisfaction>();
    assert_well_formed::<Step>();
}

#[test]
fn the_offer_follows_the_statute() {
    use State::*;
    let f = facts(Stage::First, false);
    assert_eq!(
        PetitionFlow::offered(Registered, &f),
        vec![Step::Accept, Step::NotAccept, Step::Transfer, Step::Supervise, Step::Lead, Step::Merge]
    );
    for s in [Accepted, Handling, Replied] {
        assert!(!PetitionFlow::offered(s, &f).contains(&Step::Close), "办结 only after service, not in {s:?}");
    }
    assert!(PetitionFlow::offered(Served, &f).contains(&Step::Close));
    assert!(!PetitionFlow::offered(Handling, &facts(Stage::First, true)).contains(&Step::Extend));
    assert!(!PetitionFlow::offered(Handling, &facts(Stage::Review, false)).contains(&Step::Extend));
    assert_eq!(PetitionFlow::offered(Merged, &f), vec![]);
}

#[test]
fn clocks_are_planned_by_the_step() {
    let f = facts(Stage::First, false);
    let accept = PetitionFlow::clocks(State::Registered, &Event::Accept { on: day("2026-03-04") }, &f);
    assert_eq!(accept.on, day("2026-03-04"));
    assert_eq!(accept.start, vec![("petition.handle", Responsible::Actor)]);
    assert!(accept.complete.contains(&"petition.notify_direct"));
    let serve =
        PetitionFlow::clocks(State::Replied, &Event::Serve { on: day("2026-03-10") }, &facts(Stage::Review, false));
    assert_eq!(serve.complete, vec!["petition.review"]);
    assert_eq!(serve.start, vec![("petition.recheck_request", Responsible::Body)]);
    let ext =
        PetitionFlow::clocks(State::Handling, &Event::Extend { days: 20, approved: true, reason: "r".into() }, &f);
    assert_eq!(ext.extend, Some(("petition.handle", 20, "r".into())));
    assert!(PetitionFlow::clocks(State::Handling, &Event::Close, &f).is_empty());
    for step in Step::ALL {
        assert_eq!(PetitionFlow::action(*step), format!("petition.{}", step.code()));
        assert!(crate::record::PETITION.action_label(PetitionFlow::action(*step)).is_some(), "{step:?} has no label");
    }
}

fn any_state() -> impl Strategy<Value = State> {
    proptest::sample::select(State::ALL.to_vec())
}

fn any_step() -> impl Strategy<Value = Step> {
    proptest::sample::select(Step::ALL.to_vec())
}

fn any_stage() -> impl Strategy<Value = Stage> {
    proptest::sample::select(Stage::ALL.to_vec())
}

proptest! {
    /// A step is offered exactly when the state machine accepts it (with a valid payload):
    /// the buttons, the API's step list and the rules cannot disagree.
    #[test]
    fn offered_iff_transition(s in any_state(), step in any_step(), stage in any_stage(), extended: bool, window: bool) {
        let f = Facts { stage, extended, objection_window: window, received: day("2026-03-02"), today: day("2026-03-20") };
        let offered = PetitionFlow::offered(s, &f).contains(&step);
        let accepted = PetitionFlow::transition(s, &Event::example(step, f.today), &f).is_ok();
        prop_assert_eq!(offered, accepted, "{:?} in {:?} ({:?})", step, s, f);
    }
}

#[test]
fn review_and_recheck_windows() {
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let served = Some(d("2026-03-02"));
    assert_eq!(review_request(Stage::First, State::Served, served, d("2026-04-01")), Ok(Stage::Review));
    assert_eq!(
        review_request(Stage::First, State::Closed, served, d("2026-04-02")),
        Err(Refusal::RequestTooLate { stage: "复查" }),
        "30 days after 2026-03-02 is 2026-04-01 (第三十五条)"
    );
    assert_eq!(review_request(Stage::Review, State::Closed, served, d("2026-03-10")), Ok(Stage::Recheck));
    assert_eq!(review_request(Stage::Recheck, State::Closed, served, d("2026-03-10")), Err(Refusal::RecheckFinal));
    assert_eq!(review_request(Stage::First, State::Handling, None, d("2026-03-10")), Err(Refusal::NoReplyYet));
    assert_eq!(review_request(Stage::First, State::Served, served, d("2026-03-01")), Err(Refusal::RequestBeforeReply));
    assert_eq!(Stage::Review.handling_rule(), "petition.review");
    assert_eq!(Stage::Recheck.next_request_rule(), None);
}

#[test]
fn tracking_codes() {
    let c = TrackingCode::from_random([7, 200, 13, 99, 1, 0, 255, 31, 64, 128, 5]);
    assert_eq!(c.as_str().len(), 12);
    let shown = c.display();
    assert_eq!(TrackingCode::parse(&shown), Some(c.clone()));
    assert_eq!(TrackingCode::parse(&shown.to_lowercase().replace('-', " ")), Some(c.clone()));
    // One changed character is caught by the check character.
    let mut bad = c.as_str().as_bytes().to_vec();
    bad[3] = if bad[3] == b'A' { b'B' } else { b'A' };
    assert_eq!(TrackingCode::parse(std::str::from_utf8(&bad).unwrap()), None);
    assert_eq!(TrackingCode::parse("短"), None);
    assert_eq!(TrackingCode::parse(""), None);
}

#[test]
fn similar_requests() {
    let a = ["小区", "消防通道", "电动自行车", "占用"];
    let b = ["小区", "消防通道", "电动自行车", "堵塞"];
    let c = ["劳资", "工资", "拖欠"];
    assert!(similarity(&a, &b) >= DUPLICATE_SIMILARITY);
    assert_eq!(similarity(&a, &c), 0.0);
    assert_eq!(similarity::<&str>(&[], &[]), 0.0);
}

#[test]
fn requests_are_validated() {
    let e = validate_request(Channel::Online, "", "太短", 0).unwrap_err();
    for f in ["title", "content", "headcount"] {
        assert!(e.get(f).is_some(), "{f}");
    }
    assert!(e.get("content").unwrap().contains("第十九条"));
    let r = validate_request(Channel::Visit, "集体反映拖欠工资", "某工地拖欠工人工资三个月未发放", 8).unwrap();
    assert!(r.too_many_representatives, "more than 5 walk-in representatives is flagged (第二十条)");
    let r = validate_request(Channel::Letter, "集体来信", "某小区业主联名反映物业问题", 80).unwrap();
    assert!(!r.too_many_representatives, "the limit is for walk-in visits");
    assert_eq!(Channel::parse("hotline12345"), Some(Channel::Hotline12345));
    assert!(Channel::Platform.needs_external_number());
}
