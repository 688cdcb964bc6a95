//! People's mediation (人民调解) under 人民调解法 (2010): consent, sessions, agreement or
//! failure, the 30-day window for 司法确认, and performance follow-up. Mediation records are
//! never published (DOMAIN.md §12: confirmed mediation agreements are not put online).

use chrono::NaiveDate;

use crate::Day;
use crate::access::{PETITION_HANDLE, Permission};
use crate::record::{Kind, MEDIATION};
use crate::validation::{FieldError, FieldErrors, bounded_text};
use crate::workflow::{ClockPlan, Responsible, Workflow};

crate::code_enum! {
    /// Where a mediation stands.
    pub enum MediationState: "调解状态" {
        /// 登记, waiting for both parties' consent.
        Registered = ("registered", "待双方同意"),
        /// 一方明确拒绝调解: no mediation takes place (第十七条).
        Declined = ("declined", "当事人拒绝调解"),
        /// 调解中.
        Mediating = ("mediating", "调解中"),
        /// 达成调解协议 (第二十八、二十九条).
        Agreed = ("agreed", "达成协议"),
        /// 调解不成, the parties told of other routes (第二十六条).
        Failed = ("failed", "调解不成"),
        /// 协议已履行完毕 (performance checked, 第三十一条第二款).
        Performed = ("performed", "协议已履行"),
        /// 协议未履行 (a party did not perform; they may sue, 第三十二条).
        NotPerformed = ("not_performed", "协议未履行"),
    }
}

crate::code_enum! {
    /// Written or oral agreement (第二十八条).
    pub enum AgreementForm: "协议形式" {
        Written = ("written", "书面协议"),
        Oral = ("oral", "口头协议"),
    }
}

/// An agreement as recorded (第二十九条 lists what a written one contains).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub form: AgreementForm,
    /// 主要事实、争议事项以及各方当事人的责任.
    pub facts: String,
    /// 当事人达成调解协议的内容.
    pub terms: String,
    /// 履行的方式.
    pub manner: String,
    /// 履行的期限.
    pub perform_by: NaiveDate,
    pub signed_on: NaiveDate,
    /// Every party signed, sealed or pressed a fingerprint (第二十九条第二款).
    pub parties_signed: bool,
    /// The mediator signed (第二十九条第二款).
    pub mediator_signed: bool,
    /// The committee's seal is on it (第二十九条第二款).
    pub sealed: bool,
}

crate::code_enum! {
    /// A step of a mediation, without its payload.
    pub enum MediationStep: "调解步骤" {
        /// Both parties agreed to mediation (第十七条).
        Consent = ("consent", "登记双方同意调解"),
        /// One party refused (第十七条: 当事人一方明确拒绝调解的，不得调解).
        Decline = ("decline", "登记拒绝调解"),
        /// A session was held (调解工作记录, 第二十七条).
        Session = ("session", "记录调解过程"),
        /// An agreement (第二十八、二十九条).
        Agree = ("agree", "登记调解协议"),
        /// 调解不成 (第二十六条).
        Fail = ("fail", "终止调解"),
        /// Performance checked (第三十一条第二款).
        Performance = ("performance", "登记履行情况"),
        /// The parties applied to the court for 司法确认 (第三十三条).
        Confirmation = ("confirmation", "登记申请司法确认"),
    }
}

/// What happens to a mediation: the one shape of a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediationEvent {
    Consent {
        on: Day,
    },
    Decline {
        on: Day,
        reason: String,
    },
    Session {
        held_on: Day,
        place: String,
        /// 调解工作记录.
        record: String,
        mediator_id: Option<i64>,
    },
    Agree(Agreement),
    /// 调解不成: the mediation ends and the parties are told of arbitration, administrative
    /// and judicial routes (第二十六条).
    Fail {
        on: Day,
        routes_told: String,
    },
    /// 第三十一条第二款: 人民调解委员会应当对调解协议的履行情况进行监督.
    Performance {
        on: Day,
        performed: bool,
        note: String,
    },
    ConfirmationApplied {
        on: Day,
    },
}

/// What the mediation rules read besides the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediationFacts {
    /// The day the dispute was received (no act is dated before it).
    pub received: Day,
    pub today: Day,
    /// An effective written agreement exists (司法确认 is for those only, 第三十三条).
    pub written_agreement: bool,
    /// Ids of the committee's mediators (a session is held by one of them).
    pub mediators: Vec<i64>,
    /// The application for 司法确认 was already recorded.
    pub confirmation_applied: bool,
    /// The day the agreement took effect, if any (the 司法确认 window runs from it).
    pub agreed_on: Option<Day>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediationRefusal {
    #[error("「{state}」状态下不能{action}")]
    WrongState { state: &'static str, action: &'static str },
    #[error("当事人一方拒绝调解的，须写明情况（人民调解法第十七条）")]
    MissingDeclineReason,
    #[error("调解不成的，须写明已告知当事人可依法通过仲裁、行政、司法等途径维护权利（人民调解法第二十六条）")]
    MissingRoutes,
    #[error("只有已生效的书面调解协议才能申请司法确认（人民调解法第三十三条）")]
    NoWrittenAgreement,
    #[error("已登记申请司法确认")]
    AlreadyApplied,
    #[error("司法确认应自调解协议生效之日起 30 日内申请（人民调解法第三十三条），已超过期限")]
    ConfirmationWindowClosed,
    #[error("{0}")]
    Agreement(FieldErrors),
    /// A field of the step broke a rule.
    #[error("{}", .0.message)]
    Field(FieldError),
}

/// The 司法确认 window applies to agreements that have taken effect (第三十三条: 自调解协议生效
/// 之日起三十日内共同向人民法院申请司法确认); the clock rule is
/// `mediation.judicial_confirmation`.
pub const JUDICIAL_CONFIRMATION_RULE: &str = "mediation.judicial_confirmation";

/// Days from an agreement's effect within which the parties may apply for 司法确认
/// (人民调解法 第三十三条: 自调解协议生效之日起三十日内).
pub const CONFIRMATION_DAYS: i64 = 30;

/// The kinds of dispute the committee records (the 人民调解 statistics' usual headings).
pub const DISPUTE_TYPES: &[&str] =
    &["邻里纠纷", "婚姻家庭纠纷", "物业纠纷", "劳务纠纷", "损害赔偿纠纷", "房屋宅基地纠纷", "消费纠纷", "其他纠纷"];

/// Checks an agreement against 第二十九条: a written one names the facts, the terms and how
/// and when they are performed, and takes effect only when the parties and the mediator have
/// signed and the committee has sealed it.
///
/// # Errors
/// [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
pub fn validate_agreement(a: &Agreement) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::new();
    e.take(bounded_text("terms", "协议内容", &a.terms, 2, 4000));
    if a.form == AgreementForm::Written {
        e.take(bounded_text("facts", "主要事实、争议事项及责任", &a.facts, 2, 4000));
        e.take(bounded_text("manner", "履行方式", &a.manner, 2, 500));
        if !(a.parties_signed && a.mediator_signed && a.sealed) {
            e.add(
                "signed",
                "书面调解协议须各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章后生效（人民调解法第二十九条）",
            );
        }
    }
    if a.perform_by < a.signed_on {
        e.add("perform_by", "履行期限不能早于协议签订日期");
    }
    e.into_result()
}

/// The mediation workflow.
#[derive(Debug, Clone, Copy)]
pub struct MediationFlow;

fn dated(on: Day, field: &'static str, f: &MediationFacts) -> Result<(), MediationRefusal> {
    on.within(field, ("受理日期", f.received), f.today).map(|_| ()).map_err(MediationRefusal::Field)
}

fn text(field: &'static str, label: &str, raw: &str, min: usize, max: usize) -> Result<(), MediationRefusal> {
    bounded_text(field, label, raw, min, max).map(|_| ()).map_err(MediationRefusal::Field)
}

impl MediationEvent {
    /// A valid example of each step (tests).
    pub fn example(step: MediationStep, f: &MediationFacts) -> MediationEvent {
        let on = f.today;
        match step {
            MediationStep::Consent => MediationEvent::Consent { on },
            MediationStep::Decline => MediationEvent::Decline { on, reason: "被申请人拒绝调解".into() },
            MediationStep::Session => MediationEvent::Session {
                held_on: on,
                place: "调解室".into(),
                record: "双方陈述了各自意见".into(),
                mediator_id: f.mediators.first().copied(),
            },
            MediationStep::Agree => MediationEvent::Agree(Agreement {
                form: AgreementForm::Oral,
                facts: String::new(),
                terms: "双方和解".into(),
                manner: String::new(),
                perform_by: on.date(),
                signed_on: on.date(),
                parties_signed: true,
                mediator_signed: true,
                sealed: false,
            }),
            MediationStep::Fail => MediationEvent::Fail { on, routes_told: "已告知可向人民法院起诉".into() },
            MediationStep::Performance => MediationEvent::Performance { on, performed: true, note: String::new() },
            MediationStep::Confirmation => MediationEvent::ConfirmationApplied { on },
        }
    }
}

impl Workflow for MediationFlow {
    type State = MediationState;
    type Step = MediationStep;
    type Event = MediationEvent;
    type Facts = MediationFacts;
    type Refusal = MediationRefusal;

    const KIND: &'static Kind = &MEDIATION;

    fn step_of(e: &MediationEvent) -> MediationStep {
        match e {
            MediationEvent::Consent { .. } => MediationStep::Consent,
            MediationEvent::Decline { .. } => MediationStep::Decline,
            MediationEvent::Session { .. } => MediationStep::Session,
            MediationEvent::Agree(_) => MediationStep::Agree,
            MediationEvent::Fail { .. } => MediationStep::Fail,
            MediationEvent::Performance { .. } => MediationStep::Performance,
            MediationEvent::ConfirmationApplied { .. } => MediationStep::Confirmation,
        }
    }

    fn guard(s: MediationState, step: MediationStep, f: &MediationFacts) -> Result<(), MediationRefusal> {
        use MediationState::*;
        let ok = match step {
            MediationStep::Consent | MediationStep::Decline => s == Registered,
            MediationStep::Session | MediationStep::Agree | MediationStep::Fail => s == Mediating,
            MediationStep::Performance => s == Agreed,
            MediationStep::Confirmation if !f.written_agreement => return Err(MediationRefusal::NoWrittenAgreement),
            MediationStep::Confirmation if f.confirmation_applied => return Err(MediationRefusal::AlreadyApplied),
            MediationStep::Confirmation => matches!(s, Agreed | Performed | NotPerformed),
        };
        if ok { Ok(()) } else { Err(MediationRefusal::WrongState { state: s.label(), action: step.label() }) }
    }

    fn transition(
        s: MediationState,
        e: &MediationEvent,
        f: &MediationFacts,
    ) -> Result<MediationState, MediationRefusal> {
        use MediationState::*;
        Self::guard(s, Self::step_of(e), f)?;
        match e {
            MediationEvent::Consent { on } => dated(*on, "date", f).map(|()| Mediating),
            MediationEvent::Decline { on, reason } => {
                dated(*on, "date", f)?;
                if reason.trim().is_empty() {
                    return Err(MediationRefusal::MissingDeclineReason);
                }
                text("reason", "拒绝调解的情况", reason, 1, 1000).map(|()| Declined)
            }
            MediationEvent::Session { held_on, place, record, mediator_id } => {
                dated(*held_on, "held_on", f)?;
                text("place", "调解地点", place, 2, 100)?;
                text("record", "调解记录", record, 5, 8000)?;
                if mediator_id.is_some_and(|m| !f.mediators.contains(&m)) {
                    return Err(MediationRefusal::Field(FieldError {
                        field: "mediator_id",
                        message: "所选调解员不属于该调解委员会".into(),
                    }));
                }
                Ok(Mediating)
            }
            MediationEvent::Agree(a) => {
                dated(Day(a.signed_on), "signed_on", f)?;
                validate_agreement(a).map_err(MediationRefusal::Agreement)?;
                Ok(Agreed)
            }
            MediationEvent::Fail { on, routes_told } => {
                dated(*on, "date", f)?;
                if routes_told.trim().is_empty() {
                    return Err(MediationRefusal::MissingRoutes);
                }
                text("reason", "已告知的途径", routes_told, 1, 1000).map(|()| Failed)
            }
            MediationEvent::Performance { on, performed, note } => {
                dated(*on, "date", f)?;
                text("reason", "说明", note, 0, 1000).map(|()| if *performed { Performed } else { NotPerformed })
            }
            MediationEvent::ConfirmationApplied { on } => {
                dated(*on, "date", f)?;
                if f.agreed_on.is_some_and(|a| *on < a || *on > a.plus_days(CONFIRMATION_DAYS)) {
                    return Err(MediationRefusal::ConfirmationWindowClosed);
                }
                Ok(s)
            }
        }
    }

    fn clocks(_: MediationState, e: &MediationEvent, f: &MediationFacts) -> ClockPlan {
        let mut plan = ClockPlan::on(f.today);
        match e {
            // 第三十三条: 自调解协议生效之日起三十日内 (written agreements only).
            MediationEvent::Agree(a) if a.form == AgreementForm::Written => {
                plan.on = Day(a.signed_on);
                plan.start.push((JUDICIAL_CONFIRMATION_RULE, Responsible::Creator));
            }
            MediationEvent::ConfirmationApplied { on } => {
                plan.on = *on;
                plan.complete.push(JUDICIAL_CONFIRMATION_RULE);
            }
            _ => {}
        }
        plan
    }

    fn permission(_: MediationStep) -> Permission {
        PETITION_HANDLE
    }

    fn action(step: MediationStep) -> &'static str {
        match step {
            MediationStep::Consent => "mediation.consent",
            MediationStep::Decline => "mediation.decline",
            MediationStep::Session => "mediation.session",
            MediationStep::Agree => "mediation.agree",
            MediationStep::Fail => "mediation.fail",
            MediationStep::Performance => "mediation.performance",
            MediationStep::Confirmation => "mediation.confirmation_applied",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MediationState::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn agreement() -> Agreement {
        Agreement {
            form: AgreementForm::Written,
            facts: "楼上住户夜间噪声影响楼下住户休息".into(),
            terms: "楼上住户于晚十时后不再使用洗衣机，并加装地垫".into(),
            manner: "自行履行，社区回访".into(),
            perform_by: d("2026-05-10"),
            signed_on: d("2026-05-01"),
            parties_signed: true,
            mediator_signed: true,
            sealed: true,
        }
    }

    fn facts() -> MediationFacts {
        MediationFacts {
            received: Day(d("2026-04-20")),
            today: Day(d("2026-05-20")),
            written_agreement: false,
            mediators: vec![3],
            confirmation_applied: false,
            agreed_on: None,
        }
    }

    fn t(s: MediationState, e: MediationEvent) -> Result<MediationState, MediationRefusal> {
        MediationFlow::transition(s, &e, &facts())
    }

    fn on() -> Day {
        Day(d("2026-05-02"))
    }

    #[test]
    fn consent_is_required_and_refusal_is_recorded() {
        assert_eq!(t(Registered, MediationEvent::Consent { on: on() }), Ok(Mediating));
        let session = MediationEvent::example(MediationStep::Session, &facts());
        assert!(t(Registered, session.clone()).is_err(), "no mediation without consent");
        assert_eq!(t(Mediating, session), Ok(Mediating));
        assert_eq!(
            t(Registered, MediationEvent::Decline { on: on(), reason: " ".into() }),
            Err(MediationRefusal::MissingDeclineReason)
        );
        assert_eq!(t(Registered, MediationEvent::Decline { on: on(), reason: "被申请人拒绝".into() }), Ok(Declined));
        let stranger = MediationEvent::Session {
            held_on: on(),
            place: "调解室".into(),
            record: "双方陈述了意见".into(),
            mediator_id: Some(99),
        };
        let Err(MediationRefusal::Field(e)) = t(Mediating, stranger) else { panic!("a mediator of another committee") };
        assert_eq!(e.field, "mediator_id");
        let early = t(Registered, MediationEvent::Consent { on: Day(d("2026-04-01")) }).unwrap_err();
        assert_eq!(early.to_string(), "日期不能早于受理日期 2026-04-20");
    }

    #[test]
    fn a_written_agreement_needs_every_signature_and_the_seal() {
        assert_eq!(t(Mediating, MediationEvent::Agree(agreement())), Ok(Agreed));
        let unsealed = Agreement { sealed: false, ..agreement() };
        let Err(MediationRefusal::Agreement(e)) = t(Mediating, MediationEvent::Agree(unsealed)) else {
            panic!("an unsealed written agreement is not effective")
        };
        assert!(e.get("signed").unwrap().contains("第二十九条"));
        let oral = Agreement {
            form: AgreementForm::Oral,
            facts: String::new(),
            manner: String::new(),
            sealed: false,
            ..agreement()
        };
        assert_eq!(t(Mediating, MediationEvent::Agree(oral.clone())), Ok(Agreed), "第三十条: oral agreements");
        let early = Agreement { perform_by: d("2026-04-01"), ..agreement() };
        assert!(validate_agreement(&early).unwrap_err().get("perform_by").is_some());
        let plan = MediationFlow::clocks(Mediating, &MediationEvent::Agree(agreement()), &facts());
        assert_eq!(plan.start, vec![(JUDICIAL_CONFIRMATION_RULE, Responsible::Creator)]);
        assert_eq!(plan.on, Day(d("2026-05-01")));
        assert!(MediationFlow::clocks(Mediating, &MediationEvent::Agree(oral), &facts()).is_empty());
        let apply = MediationEvent::ConfirmationApplied { on: on() };
        assert_eq!(t(Agreed, apply.clone()), Err(MediationRefusal::NoWrittenAgreement));
        let written = MediationFacts { written_agreement: true, ..facts() };
        assert_eq!(MediationFlow::transition(Performed, &apply, &written), Ok(Performed));
        // 第三十三条: within 30 days of the agreement's effect.
        let late = MediationFacts { written_agreement: true, agreed_on: Some(Day(d("2026-04-01"))), ..facts() };
        // A late application is still offered: it may be recorded after the fact, and its date decides.
        assert!(MediationFlow::offered(Agreed, &late).contains(&MediationStep::Confirmation));
        assert_eq!(MediationFlow::transition(Agreed, &apply, &late), Err(MediationRefusal::ConfirmationWindowClosed));
        let timely = MediationFacts { agreed_on: Some(Day(d("2026-04-25"))), ..written };
        assert_eq!(MediationFlow::transition(Agreed, &apply, &timely), Ok(Agreed));
    }

    #[test]
    fn failure_tells_the_routes_and_performance_is_followed() {
        assert_eq!(
            t(Mediating, MediationEvent::Fail { on: on(), routes_told: "".into() }),
            Err(MediationRefusal::MissingRoutes)
        );
        assert_eq!(
            t(Mediating, MediationEvent::Fail { on: on(), routes_told: "已告知可向人民法院起诉".into() }),
            Ok(Failed)
        );
        let perf = |performed| MediationEvent::Performance { on: on(), performed, note: String::new() };
        assert_eq!(t(Agreed, perf(true)), Ok(Performed));
        assert_eq!(t(Agreed, perf(false)), Ok(NotPerformed));
        assert!(t(Failed, perf(true)).is_err());
        crate::code::assert_well_formed::<MediationState>();
        crate::code::assert_well_formed::<MediationStep>();
        crate::code::assert_well_formed::<AgreementForm>();
        for step in MediationStep::ALL {
            assert!(MEDIATION.action_label(MediationFlow::action(*step)).is_some(), "{step:?} has no label");
        }
    }

    fn any_state() -> impl proptest::strategy::Strategy<Value = MediationState> {
        proptest::sample::select(MediationState::ALL.to_vec())
    }

    fn any_step() -> impl proptest::strategy::Strategy<Value = MediationStep> {
        proptest::sample::select(MediationStep::ALL.to_vec())
    }

    proptest::proptest! {
        /// Offered exactly when the state machine accepts a valid step.
        #[test]
        fn offered_iff_transition(s in any_state(), step in any_step(), written: bool, applied: bool) {
            let f = MediationFacts { written_agreement: written, confirmation_applied: applied, ..facts() };
            let offered = MediationFlow::offered(s, &f).contains(&step);
            let accepted = MediationFlow::transition(s, &MediationEvent::example(step, &f), &f).is_ok();
            proptest::prop_assert_eq!(offered, accepted);
        }
    }
}
