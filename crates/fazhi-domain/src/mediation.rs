//! People's mediation (人民调解) under 人民调解法 (2010): consent, sessions, agreement or
//! failure, the 30-day window for 司法确认, and performance follow-up. Mediation records are
//! never published (DOMAIN.md §12: confirmed mediation agreements are not put online).

use chrono::NaiveDate;

use crate::validation::{FieldErrors, bounded_text};

/// Where a mediation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediationState {
    /// 登记, waiting for both parties' consent.
    Registered,
    /// 一方明确拒绝调解: no mediation takes place (第十七条).
    Declined,
    /// 调解中.
    Mediating,
    /// 达成调解协议 (第二十八、二十九条).
    Agreed,
    /// 调解不成, the parties told of other routes (第二十六条).
    Failed,
    /// 协议已履行完毕 (performance checked, 第三十一条第二款).
    Performed,
    /// 协议未履行 (a party did not perform; they may sue, 第三十二条).
    NotPerformed,
}

impl MediationState {
    pub const ALL: [MediationState; 7] = [
        MediationState::Registered,
        MediationState::Declined,
        MediationState::Mediating,
        MediationState::Agreed,
        MediationState::Failed,
        MediationState::Performed,
        MediationState::NotPerformed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            MediationState::Registered => "registered",
            MediationState::Declined => "declined",
            MediationState::Mediating => "mediating",
            MediationState::Agreed => "agreed",
            MediationState::Failed => "failed",
            MediationState::Performed => "performed",
            MediationState::NotPerformed => "not_performed",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            MediationState::Registered => "待双方同意",
            MediationState::Declined => "当事人拒绝调解",
            MediationState::Mediating => "调解中",
            MediationState::Agreed => "达成协议",
            MediationState::Failed => "调解不成",
            MediationState::Performed => "协议已履行",
            MediationState::NotPerformed => "协议未履行",
        }
    }
}

/// Written or oral agreement (第二十八条).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementForm {
    Written,
    Oral,
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

/// What happens to a mediation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediationEvent {
    /// Both parties agreed to mediation (第十七条: 当事人一方明确拒绝调解的，不得调解).
    Consent,
    /// One party refused.
    Decline {
        reason: String,
    },
    /// A session was held (调解工作记录, 第二十七条).
    Session,
    Agree(Agreement),
    /// 调解不成: the mediation ends and the parties are told of arbitration, administrative
    /// and judicial routes (第二十六条).
    Fail {
        routes_told: String,
    },
    /// Performance checked (第三十一条第二款: 人民调解委员会应当对调解协议的履行情况进行监督).
    Performance {
        performed: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediationRefusal {
    #[error("「{state}」状态下不能{action}")]
    WrongState { state: &'static str, action: &'static str },
    #[error("当事人一方拒绝调解的，须写明情况（人民调解法第十七条）")]
    MissingDeclineReason,
    #[error("调解不成的，须写明已告知当事人可依法通过仲裁、行政、司法等途径维护权利（人民调解法第二十六条）")]
    MissingRoutes,
    #[error("{0}")]
    Agreement(FieldErrors),
}

/// Checks an agreement against 第二十九条: a written one names the facts, the terms and how
/// and when they are performed, and takes effect only when the parties and the mediator have
/// signed and the committee has sealed it.
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

/// The state machine.
pub fn mediation_transition(state: MediationState, event: &MediationEvent) -> Result<MediationState, MediationRefusal> {
    use MediationState::*;
    let wrong = |action| Err(MediationRefusal::WrongState { state: state.label(), action });
    match (state, event) {
        (Registered, MediationEvent::Consent) => Ok(Mediating),
        (Registered, MediationEvent::Decline { reason }) => {
            if reason.trim().is_empty() {
                Err(MediationRefusal::MissingDeclineReason)
            } else {
                Ok(Declined)
            }
        }
        (Mediating, MediationEvent::Session) => Ok(Mediating),
        (Mediating, MediationEvent::Agree(a)) => {
            validate_agreement(a).map_err(MediationRefusal::Agreement)?;
            Ok(Agreed)
        }
        (Mediating, MediationEvent::Fail { routes_told }) => {
            if routes_told.trim().is_empty() {
                Err(MediationRefusal::MissingRoutes)
            } else {
                Ok(Failed)
            }
        }
        (Agreed, MediationEvent::Performance { performed }) => Ok(if *performed { Performed } else { NotPerformed }),
        (_, MediationEvent::Consent) => wrong("登记双方同意调解"),
        (_, MediationEvent::Decline { .. }) => wrong("登记拒绝调解"),
        (_, MediationEvent::Session) => wrong("记录调解过程"),
        (_, MediationEvent::Agree(_)) => wrong("登记调解协议"),
        (_, MediationEvent::Fail { .. }) => wrong("终止调解"),
        (_, MediationEvent::Performance { .. }) => wrong("登记履行情况"),
    }
}

/// The 司法确认 window applies to agreements that have taken effect (第三十三条: 自调解协议生效
/// 之日起三十日内共同向人民法院申请司法确认); the clock rule is
/// `mediation.judicial_confirmation`.
pub const JUDICIAL_CONFIRMATION_RULE: &str = "mediation.judicial_confirmation";

/// The kinds of dispute the committee records (the 人民调解 statistics' usual headings).
pub const DISPUTE_TYPES: &[&str] =
    &["邻里纠纷", "婚姻家庭纠纷", "物业纠纷", "劳务纠纷", "损害赔偿纠纷", "房屋宅基地纠纷", "消费纠纷", "其他纠纷"];

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

    #[test]
    fn consent_is_required_and_refusal_is_recorded() {
        assert_eq!(mediation_transition(Registered, &MediationEvent::Consent), Ok(Mediating));
        assert!(mediation_transition(Registered, &MediationEvent::Session).is_err(), "no mediation without consent");
        assert_eq!(
            mediation_transition(Registered, &MediationEvent::Decline { reason: " ".into() }),
            Err(MediationRefusal::MissingDeclineReason)
        );
        assert_eq!(
            mediation_transition(Registered, &MediationEvent::Decline { reason: "被申请人拒绝".into() }),
            Ok(Declined)
        );
    }

    #[test]
    fn a_written_agreement_needs_every_signature_and_the_seal() {
        assert_eq!(mediation_transition(Mediating, &MediationEvent::Agree(agreement())), Ok(Agreed));
        let unsealed = Agreement { sealed: false, ..agreement() };
        let Err(MediationRefusal::Agreement(e)) = mediation_transition(Mediating, &MediationEvent::Agree(unsealed))
        else {
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
        assert_eq!(
            mediation_transition(Mediating, &MediationEvent::Agree(oral)),
            Ok(Agreed),
            "第三十条: oral agreements"
        );
        let early = Agreement { perform_by: d("2026-04-01"), ..agreement() };
        assert!(validate_agreement(&early).unwrap_err().get("perform_by").is_some());
    }

    #[test]
    fn failure_tells_the_routes_and_performance_is_followed() {
        assert_eq!(
            mediation_transition(Mediating, &MediationEvent::Fail { routes_told: "".into() }),
            Err(MediationRefusal::MissingRoutes)
        );
        assert_eq!(
            mediation_transition(Mediating, &MediationEvent::Fail { routes_told: "已告知可向人民法院起诉".into() }),
            Ok(Failed)
        );
        assert_eq!(mediation_transition(Agreed, &MediationEvent::Performance { performed: true }), Ok(Performed));
        assert_eq!(mediation_transition(Agreed, &MediationEvent::Performance { performed: false }), Ok(NotPerformed));
        assert!(mediation_transition(Failed, &MediationEvent::Performance { performed: true }).is_err());
        for s in MediationState::ALL {
            assert_eq!(MediationState::parse(s.code()), Some(s));
        }
    }
}
