//! People's mediation (人民调解) use cases: committees and mediators, registering a dispute
//! (directly or from a petition), consent, sessions, agreement or failure, the 30-day
//! 司法确认 clock (人民调解法 第三十三条) and performance follow-up. Never published.

use chrono::NaiveDate;
use fazhi_domain::access::{PETITION_HANDLE, Principal, RecordRef};
use fazhi_domain::identity::Phone;
use fazhi_domain::mediation::{
    Agreement, AgreementForm, DISPUTE_TYPES, JUDICIAL_CONFIRMATION_RULE, MediationEvent, MediationRefusal,
    MediationState, mediation_transition,
};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::{FieldErrors, OrgId, UserId};
use fazhi_store::mediation::{self as store, CaseQuery, CaseRow, CommitteeRow, MediatorRow, NewCase, SessionRow};
use fazhi_store::org as org_store;

use crate::clocks::{ClockTarget, ClockView};
use crate::ledger::Change;
use crate::org::By;
use crate::{App, AppError, AppResult, check, require};

/// One party as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct PartyDraft {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
    /// 申请人 or 被申请人.
    #[serde(default)]
    pub side: String,
}

/// A dispute as typed.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CaseDraft {
    pub committee_id: Option<i64>,
    pub mediator_id: Option<i64>,
    pub petition_id: Option<i64>,
    #[serde(default)]
    pub dispute_type: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub received_on: String,
    #[serde(default)]
    pub parties: Vec<PartyDraft>,
}

/// A step on a case.
#[derive(Debug, Clone)]
pub enum CaseAction {
    Consent {
        on: NaiveDate,
    },
    Decline {
        on: NaiveDate,
        reason: String,
    },
    Session {
        held_on: NaiveDate,
        place: String,
        record: String,
        mediator_id: Option<i64>,
    },
    Agree(Agreement),
    Fail {
        on: NaiveDate,
        routes_told: String,
    },
    Performance {
        on: NaiveDate,
        performed: bool,
        note: String,
    },
    /// The parties applied to the court for 司法确认 (第三十三条).
    ConfirmationApplied {
        on: NaiveDate,
    },
}

/// A case with everything its page shows.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: CaseRow,
    pub committee: CommitteeRow,
    pub mediators: Vec<MediatorRow>,
    pub sessions: Vec<SessionRow>,
    pub clocks: Vec<ClockView>,
    pub parties: Vec<PartyDraft>,
}

pub fn state_label(code: &str) -> &'static str {
    MediationState::parse(code).map_or("未知", MediationState::label)
}

fn parse_day(raw: &str, field: &'static str, label: &str) -> Result<NaiveDate, FieldErrors> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldErrors::single(field, format!("{label}应为 YYYY-MM-DD")))
}

fn refusal(r: MediationRefusal) -> AppError {
    match r {
        MediationRefusal::Agreement(e) => AppError::Invalid(e),
        other => AppError::Invalid(FieldErrors::single("action", other.to_string())),
    }
}

impl App {
    async fn org_ref(&self, org: OrgId, owner: Option<i64>) -> AppResult<RecordRef> {
        let node = org_store::get_node(&self.store.read, org).await?.ok_or(AppError::NotFound("机构"))?;
        Ok(RecordRef { org_id: org, org_path: node.org_path(), owner: owner.map(UserId) })
    }

    /// Committees within scope, with their mediators.
    pub async fn committees(&self, who: &Principal) -> AppResult<Vec<(CommitteeRow, Vec<MediatorRow>)>> {
        let filter = self.street_filter(who).await?;
        let out = store::committees(&self.store.read, filter.as_ref()).await?;
        let ids: Vec<i64> = out.iter().map(|c| c.id).collect();
        let mediators = store::mediators(&self.store.read, &ids).await?;
        Ok(out
            .into_iter()
            .map(|c| {
                let m = mediators.iter().filter(|m| m.committee_id == c.id).cloned().collect();
                (c, m)
            })
            .collect())
    }

    /// Sets up a 人民调解委员会 at a street/township (人民调解法 第三十四条 by analogy).
    pub async fn create_committee(&self, by: &By<'_>, org: OrgId, name: &str) -> AppResult<i64> {
        // Staff of the street's offices set up the street's committee (street-level record).
        let (gov, _) = self.government_of(by.who.org_id).await?;
        if org != gov || !by.who.has(PETITION_HANDLE) {
            check(by.who, PETITION_HANDLE, &self.org_ref(org, Some(by.who.user_id.0)).await?)?;
        }
        let name = bounded_text("name", "调解委员会名称", name, 2, 60).map_err(|e| FieldErrors(vec![e]))?;
        let mut tx = self.store.begin().await?;
        let id = store::insert_committee(&mut tx, org.0, &name, self.now()).await?;
        let c = Change {
            org,
            record_type: "mediation_committee",
            record_id: id.to_string(),
            action: "mediation.committee",
            change: serde_json::json!({"name": name}),
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a mediator to a committee.
    pub async fn add_mediator(&self, by: &By<'_>, committee: i64, name: &str, phone: &str) -> AppResult<i64> {
        let c = store::committee(&self.store.read, committee).await?.ok_or(AppError::NotFound("调解委员会"))?;
        require(by.who, PETITION_HANDLE)?;
        let mut e = FieldErrors::new();
        let name = e.take(bounded_text("name", "调解员姓名", name, 2, 30));
        let phone = if phone.trim().is_empty() { None } else { e.take(Phone::parse("phone", phone)) };
        e.into_result()?;
        let name = name.unwrap_or_default();
        let phone = phone.map(|p| p.as_str().to_owned()).unwrap_or_default();
        let mut tx = self.store.begin().await?;
        let id = store::insert_mediator(&mut tx, committee, &name, &phone, None, self.now()).await?;
        let ch = Change {
            org: OrgId(c.org_id),
            record_type: "mediation_committee",
            record_id: committee.to_string(),
            action: "mediation.mediator",
            change: serde_json::json!({"mediator_id": id, "name": name}),
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), ch).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Registers a dispute for mediation (人民调解法 第十七、十八条).
    pub async fn register_mediation(&self, by: &By<'_>, d: &CaseDraft) -> AppResult<i64> {
        require(by.who, PETITION_HANDLE)?;
        let mut e = FieldErrors::new();
        let committees = self.committees(by.who).await?;
        let committee = d.committee_id.and_then(|id| committees.iter().find(|(c, _)| c.id == id));
        if committee.is_none() {
            e.add("committee_id", "请选择人民调解委员会");
        }
        if let (Some(m), Some((_, ms))) = (d.mediator_id, committee)
            && !ms.iter().any(|x| x.id == m)
        {
            e.add("mediator_id", "所选调解员不属于该调解委员会");
        }
        if !DISPUTE_TYPES.contains(&d.dispute_type.as_str()) {
            e.add("dispute_type", "请选择纠纷类型");
        }
        let summary = e.take(bounded_text("summary", "纠纷简要情况", &d.summary, 5, 4000));
        let today = fazhi_domain::clock::beijing_date(self.now());
        let received = if d.received_on.trim().is_empty() {
            Some(today)
        } else {
            match parse_day(&d.received_on, "received_on", "受理日期") {
                Ok(day) if day <= today => Some(day),
                Ok(_) => {
                    e.add("received_on", "受理日期不能晚于今天");
                    None
                }
                Err(x) => {
                    e.0.extend(x.0);
                    None
                }
            }
        };
        let mut parties = Vec::new();
        for p in d.parties.iter().filter(|p| !p.name.trim().is_empty()) {
            let name = e.take(bounded_text("parties", "当事人姓名", &p.name, 1, 50));
            let phone = if p.phone.trim().is_empty() { None } else { e.take(Phone::parse("phone", &p.phone)) };
            parties.push(PartyDraft {
                name: name.unwrap_or_default(),
                phone: phone.map(|p| p.as_str().to_owned()).unwrap_or_default(),
                side: if p.side == "respondent" { "respondent".into() } else { "applicant".into() },
            });
        }
        if parties.len() < 2 {
            e.add("parties", "纠纷至少有两方当事人，请填写双方姓名");
        }
        if let Some(p) = d.petition_id
            && self.petition(by.who, p).await.is_err()
        {
            e.add("petition_id", format!("没有编号为 {p} 的信访件，或不在您的查看范围内"));
        }
        e.into_result()?;
        let (Some((committee, _)), Some(received)) = (committee, received) else {
            return Err(AppError::Internal("validated input incomplete".into()));
        };
        let year = received.format("%Y").to_string();
        let prefix = format!("（{year}）调{}-", committee.id);
        let n = store::count_cases_since(&self.store.read, &prefix).await? + 1;
        let case_no = format!("{prefix}{n:04}号");
        let parties_json = serde_json::to_string(&parties).map_err(|e| AppError::Internal(e.to_string()))?;
        let summary = summary.unwrap_or_default();
        let new = NewCase {
            org_id: committee.org_id,
            committee_id: committee.id,
            mediator_id: d.mediator_id,
            petition_id: d.petition_id,
            case_no: &case_no,
            dispute_type: &d.dispute_type,
            parties_json: &parties_json,
            summary: &summary,
            received_on: &received.to_string(),
            created_by: (by.who.user_id.0 > 0).then_some(by.who.user_id.0),
        };
        let mut tx = self.store.begin().await?;
        let id = store::insert_case(&mut tx, &new, self.now()).await?;
        let c = Change {
            org: OrgId(committee.org_id),
            record_type: "mediation",
            record_id: id.to_string(),
            action: "mediation.register",
            change: serde_json::json!({"case_no": case_no, "dispute_type": d.dispute_type, "parties": parties.len(),
                "petition_id": d.petition_id}),
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), c).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Cases within scope.
    pub async fn mediations(&self, who: &Principal, q: &CaseQuery) -> AppResult<Vec<CaseRow>> {
        let filter = self.street_filter(who).await?;
        Ok(store::cases(&self.store.read, filter.as_ref(), q).await?)
    }

    /// One case with its committee, sessions and clock.
    pub async fn mediation(&self, who: &Principal, id: i64) -> AppResult<CaseView> {
        let list = self.mediations(who, &CaseQuery { ids: Some(vec![id]), limit: 1, ..Default::default() }).await?;
        let case = list.into_iter().next().ok_or(AppError::NotFound("调解案件"))?;
        let committee =
            store::committee(&self.store.read, case.committee_id).await?.ok_or(AppError::NotFound("调解委员会"))?;
        let mediators = store::mediators(&self.store.read, &[committee.id]).await?;
        let sessions = store::sessions(&self.store.read, id).await?;
        let clocks = self.clocks_of("mediation", &id.to_string()).await?;
        let parties = serde_json::from_str(&case.parties_json).unwrap_or_default();
        Ok(CaseView { case, committee, mediators, sessions, clocks, parties })
    }

    /// A step on a case; the domain decides; clock and ledger follow in one transaction.
    pub async fn mediation_step(&self, by: &By<'_>, id: i64, action: CaseAction) -> AppResult<()> {
        require(by.who, PETITION_HANDLE)?;
        let view = self.mediation(by.who, id).await?;
        let mut c = view.case;
        let state = MediationState::parse(&c.state).unwrap_or(MediationState::Registered);
        let today = fazhi_domain::clock::beijing_date(self.now());
        let received = NaiveDate::parse_from_str(&c.received_on, "%Y-%m-%d").unwrap_or(today);
        let check_day = |on: NaiveDate, field: &'static str| -> AppResult<()> {
            if on > today {
                Err(AppError::Invalid(FieldErrors::single(field, "日期不能晚于今天")))
            } else if on < received {
                Err(AppError::Invalid(FieldErrors::single(field, format!("日期不能早于受理日期 {}", c.received_on))))
            } else {
                Ok(())
            }
        };
        let mut session: Option<SessionRow> = None;
        let mut start_confirmation: Option<NaiveDate> = None;
        let mut complete_confirmation: Option<NaiveDate> = None;
        let (code, change) = match &action {
            CaseAction::Consent { on } => {
                check_day(*on, "date")?;
                mediation_transition(state, &MediationEvent::Consent).map_err(refusal)?;
                c.consent_on = Some(on.to_string());
                ("mediation.consent", serde_json::json!({"on": on.to_string()}))
            }
            CaseAction::Decline { on, reason } => {
                check_day(*on, "date")?;
                mediation_transition(state, &MediationEvent::Decline { reason: reason.clone() }).map_err(refusal)?;
                c.decline_reason = reason.clone();
                c.ended_on = Some(on.to_string());
                ("mediation.decline", serde_json::json!({"on": on.to_string(), "reason": reason}))
            }
            CaseAction::Session { held_on, place, record, mediator_id } => {
                check_day(*held_on, "held_on")?;
                mediation_transition(state, &MediationEvent::Session).map_err(refusal)?;
                let mut e = FieldErrors::new();
                let place = e.take(bounded_text("place", "调解地点", place, 2, 100));
                let record = e.take(bounded_text("record", "调解记录", record, 5, 8000));
                if let Some(m) = mediator_id
                    && !view.mediators.iter().any(|x| x.id == *m)
                {
                    e.add("mediator_id", "所选调解员不属于该调解委员会");
                }
                e.into_result()?;
                session = Some(SessionRow {
                    id: 0,
                    case_id: id,
                    held_on: held_on.to_string(),
                    place: place.unwrap_or_default(),
                    mediator_id: *mediator_id,
                    record: record.unwrap_or_default(),
                    created_by: (by.who.user_id.0 > 0).then_some(by.who.user_id.0),
                    created_at: self.now(),
                });
                ("mediation.session", serde_json::json!({"held_on": held_on.to_string()}))
            }
            CaseAction::Agree(a) => {
                check_day(a.signed_on, "signed_on")?;
                mediation_transition(state, &MediationEvent::Agree(a.clone())).map_err(refusal)?;
                c.agreement_form = match a.form {
                    AgreementForm::Written => "written".into(),
                    AgreementForm::Oral => "oral".into(),
                };
                c.agreement_facts = a.facts.clone();
                c.agreement_terms = a.terms.clone();
                c.agreement_manner = a.manner.clone();
                c.perform_by = Some(a.perform_by.to_string());
                c.agreed_on = Some(a.signed_on.to_string());
                c.ended_on = Some(a.signed_on.to_string());
                start_confirmation = Some(a.signed_on);
                (
                    "mediation.agree",
                    serde_json::json!({"form": c.agreement_form, "signed_on": a.signed_on.to_string(),
                    "perform_by": a.perform_by.to_string()}),
                )
            }
            CaseAction::Fail { on, routes_told } => {
                check_day(*on, "date")?;
                mediation_transition(state, &MediationEvent::Fail { routes_told: routes_told.clone() })
                    .map_err(refusal)?;
                c.routes_told = routes_told.clone();
                c.ended_on = Some(on.to_string());
                ("mediation.fail", serde_json::json!({"on": on.to_string(), "routes_told": routes_told}))
            }
            CaseAction::Performance { on, performed, note } => {
                check_day(*on, "date")?;
                mediation_transition(state, &MediationEvent::Performance { performed: *performed }).map_err(refusal)?;
                c.performance_checked_on = Some(on.to_string());
                c.performance_note = note.clone();
                (
                    "mediation.performance",
                    serde_json::json!({"on": on.to_string(), "performed": performed,
                    "note": note}),
                )
            }
            CaseAction::ConfirmationApplied { on } => {
                check_day(*on, "date")?;
                if c.agreed_on.is_none() || c.agreement_form != "written" {
                    return Err(AppError::Invalid(FieldErrors::single(
                        "action",
                        "只有已生效的书面调解协议才能申请司法确认（人民调解法第三十三条）",
                    )));
                }
                c.confirmation_applied_on = Some(on.to_string());
                complete_confirmation = Some(*on);
                ("mediation.confirmation_applied", serde_json::json!({"on": on.to_string()}))
            }
        };
        let next = match &action {
            CaseAction::Consent { .. } => MediationState::Mediating,
            CaseAction::Decline { .. } => MediationState::Declined,
            CaseAction::Agree(_) => MediationState::Agreed,
            CaseAction::Fail { .. } => MediationState::Failed,
            CaseAction::Performance { performed: true, .. } => MediationState::Performed,
            CaseAction::Performance { performed: false, .. } => MediationState::NotPerformed,
            CaseAction::Session { .. } | CaseAction::ConfirmationApplied { .. } => state,
        };
        c.state = next.code().to_owned();
        let mut tx = self.store.begin().await?;
        store::save_case(&mut tx, &c, self.now()).await?;
        if let Some(s) = &session {
            store::add_session(&mut tx, s).await?;
        }
        let ch = Change {
            org: OrgId(c.org_id),
            record_type: "mediation",
            record_id: id.to_string(),
            action: code,
            change,
            attachments: vec![],
        };
        self.record(&mut tx, &by.actor(), ch).await?;
        if let Some(on) = start_confirmation
            && c.agreement_form == "written"
        {
            let t = ClockTarget {
                record_type: "mediation",
                record_id: id.to_string(),
                org: OrgId(c.org_id),
                owner: c.created_by.map(UserId),
            };
            self.start_clock_in(&mut tx, by, t, JUDICIAL_CONFIRMATION_RULE, on).await?;
        }
        if let Some(on) = complete_confirmation
            && let Some(clock) =
                view.clocks.iter().find(|k| k.clock.rule.id == JUDICIAL_CONFIRMATION_RULE && !k.row.closed)
        {
            self.complete_clock_in(&mut tx, by, &clock.row, on).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A case step as a form or API body states it.
#[derive(Debug, Clone, Default)]
pub struct CaseStepInput {
    /// consent, decline, session, agree, fail, performance, confirmation
    pub action: String,
    pub date: String,
    pub reason: String,
    pub place: String,
    pub record: String,
    pub mediator_id: Option<i64>,
    /// written or oral
    pub form: String,
    pub facts: String,
    pub terms: String,
    pub manner: String,
    pub perform_by: String,
    pub parties_signed: bool,
    pub mediator_signed: bool,
    pub sealed: bool,
    pub performed: String,
}

impl CaseStepInput {
    pub fn action(&self) -> Result<CaseAction, FieldErrors> {
        let date = || parse_day(&self.date, "date", "日期");
        Ok(match self.action.as_str() {
            "consent" => CaseAction::Consent { on: date()? },
            "decline" => CaseAction::Decline { on: date()?, reason: self.reason.trim().to_owned() },
            "session" => CaseAction::Session {
                held_on: parse_day(&self.date, "held_on", "调解日期")?,
                place: self.place.clone(),
                record: self.record.clone(),
                mediator_id: self.mediator_id,
            },
            "agree" => {
                let mut e = FieldErrors::new();
                let signed_on = parse_day(&self.date, "signed_on", "签订日期").map_err(|x| e.0.extend(x.0)).ok();
                let perform_by =
                    parse_day(&self.perform_by, "perform_by", "履行期限").map_err(|x| e.0.extend(x.0)).ok();
                let form = match self.form.as_str() {
                    "written" => Some(AgreementForm::Written),
                    "oral" => Some(AgreementForm::Oral),
                    _ => {
                        e.add("form", "请选择协议形式（书面或口头，人民调解法第二十八条）");
                        None
                    }
                };
                e.into_result()?;
                let (Some(signed_on), Some(perform_by), Some(form)) = (signed_on, perform_by, form) else {
                    return Err(FieldErrors::single("date", "日期应为 YYYY-MM-DD"));
                };
                CaseAction::Agree(Agreement {
                    form,
                    facts: self.facts.trim().to_owned(),
                    terms: self.terms.trim().to_owned(),
                    manner: self.manner.trim().to_owned(),
                    perform_by,
                    signed_on,
                    parties_signed: self.parties_signed,
                    mediator_signed: self.mediator_signed,
                    sealed: self.sealed,
                })
            }
            "fail" => CaseAction::Fail { on: date()?, routes_told: self.reason.trim().to_owned() },
            "performance" => CaseAction::Performance {
                on: date()?,
                performed: match self.performed.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(FieldErrors::single("performed", "请选择是否已履行")),
                },
                note: self.reason.trim().to_owned(),
            },
            "confirmation" => CaseAction::ConfirmationApplied { on: date()? },
            _ => return Err(FieldErrors::single("action", "未知的调解步骤")),
        })
    }
}
