//! People's mediation (人民调解) use cases: committees and mediators, registering a dispute
//! (directly or from a petition), then the steps of the [`MediationFlow`] workflow — consent,
//! sessions, agreement or failure, the 30-day 司法确认 clock (人民调解法 第三十三条),
//! performance follow-up — through the one save path. Never published.
//!
//! Committees and cases are street-level registers ([`ScopeAnchor::Government`]): the
//! 信访办's 本级 scope reaches its street's; a community worker sees those held in its
//! community (none of the street's).
//!
//! [`ScopeAnchor::Government`]: fazhi_domain::record::ScopeAnchor::Government

use fazhi_domain::access::{PETITION_HANDLE, PETITION_READ, Principal, RecordRef, authorize};
use fazhi_domain::identity::Phone;
use fazhi_domain::mediation::{
    Agreement, AgreementForm, DISPUTE_TYPES, MediationEvent, MediationFacts, MediationFlow, MediationRefusal,
    MediationState, MediationStep,
};
use fazhi_domain::record::{Kind, MEDIATION, MEDIATION_COMMITTEE};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::workflow::{Responsible, Workflow};
use fazhi_domain::{Day, FieldErrors, OrgId, UserId};
use fazhi_store::mediation::{self as store, NewCase};
pub use fazhi_store::mediation::{CaseQuery, CaseRow, CommitteeRow, MediatorRow, SessionRow};
use serde_json::{Value, json};

use crate::clocks::ClockView;
use crate::ctx::{Ctx, Record};
use crate::input::{flag, opt_i64};
use crate::org::By;
use crate::{App, AppError, AppResult, require};

/// One party as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PartyDraft {
    pub name: String,
    pub phone: String,
    /// 申请人 or 被申请人.
    pub side: String,
}

/// A dispute as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CaseDraft {
    pub committee_id: Option<i64>,
    pub mediator_id: Option<i64>,
    pub petition_id: Option<i64>,
    pub dispute_type: String,
    pub summary: String,
    pub received_on: String,
    pub parties: Vec<PartyDraft>,
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
    /// The steps the workflow offers in the case's state (what the page shows as forms).
    pub offered: Vec<MediationStep>,
    /// Its attachments (agreements, records, photos).
    pub attachments: Vec<crate::attachments::AttachmentRow>,
}

/// The label of a stored state code.
pub fn state_label(code: &str) -> &'static str {
    MediationState::parse(code).map_or("未知", MediationState::label)
}

fn refusal(r: MediationRefusal) -> AppError {
    match r {
        MediationRefusal::Agreement(e) => AppError::Invalid(e),
        MediationRefusal::Field(f) => AppError::Invalid(FieldErrors(vec![f])),
        // The application's date is what falls outside the window.
        MediationRefusal::ConfirmationWindowClosed => AppError::Invalid(FieldErrors::single("date", r.to_string())),
        other => AppError::Invalid(FieldErrors::single("action", other.to_string())),
    }
}

impl Record for CaseRow {
    const KIND: &'static Kind = &MEDIATION;

    fn id(&self) -> i64 {
        self.id
    }

    fn log_org(&self) -> OrgId {
        OrgId(self.org_id)
    }

    fn holder_ids(&self) -> Vec<(OrgId, Option<UserId>)> {
        vec![(OrgId(self.org_id), self.created_by.map(UserId))]
    }
}

fn case_ref(tree: &crate::lookup_cache::OrgTree, c: &CaseRow) -> RecordRef {
    RecordRef::of(&MEDIATION, c.holder_ids().into_iter().filter_map(|(o, u)| tree.holder(o.0, u)).collect())
}

/// The facts the mediation workflow reads.
async fn facts_of(ctx: &mut Ctx<'_>, c: &CaseRow) -> AppResult<MediationFacts> {
    let mediators = store::mediators(ctx.tx(), &[c.committee_id]).await?.into_iter().map(|m| m.id).collect();
    Ok(MediationFacts {
        received: Day::from_text(&c.received_on)
            .map_err(|_| AppError::corrupt(&MEDIATION, c.id, "received_on", &c.received_on))?,
        today: ctx.today,
        written_agreement: c.agreed_on.is_some() && c.agreement_form == AgreementForm::Written.code(),
        mediators,
        confirmation_applied: c.confirmation_applied_on.is_some(),
        agreed_on: c.agreed_on.as_deref().and_then(|d| Day::from_text(d).ok()),
    })
}

/// The case after an accepted step (pure).
fn apply(c: &CaseRow, e: &MediationEvent, next: MediationState) -> CaseRow {
    let mut c = c.clone();
    match e {
        MediationEvent::Consent { on } => c.consent_on = Some(on.to_string()),
        MediationEvent::Decline { on, reason } => {
            c.decline_reason.clone_from(reason);
            c.ended_on = Some(on.to_string());
        }
        MediationEvent::Session { .. } => {}
        MediationEvent::Agree(a) => {
            c.agreement_form = a.form.code().to_owned();
            c.agreement_facts.clone_from(&a.facts);
            c.agreement_terms.clone_from(&a.terms);
            c.agreement_manner.clone_from(&a.manner);
            c.perform_by = Some(a.perform_by.to_string());
            c.agreed_on = Some(a.signed_on.to_string());
            c.ended_on = Some(a.signed_on.to_string());
        }
        MediationEvent::Fail { on, routes_told } => {
            c.routes_told.clone_from(routes_told);
            c.ended_on = Some(on.to_string());
        }
        MediationEvent::Performance { on, note, .. } => {
            c.performance_checked_on = Some(on.to_string());
            c.performance_note.clone_from(note);
        }
        MediationEvent::ConfirmationApplied { on } => c.confirmation_applied_on = Some(on.to_string()),
    }
    c.state = next;
    c
}

impl App {
    /// Committees within scope, with their mediators.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without petition read permission; database errors.
    pub async fn committees(&self, who: &Principal) -> AppResult<Vec<(CommitteeRow, Vec<MediatorRow>)>> {
        require(who, PETITION_READ)?;
        let filter = who.filter_for(&MEDIATION_COMMITTEE, PETITION_READ);
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

    /// Sets up a 人民调解委员会 at node `org` (人民调解法 第三十四条 by analogy): the creator
    /// must be able to create street-level registers there.
    ///
    /// # Errors
    /// [`AppError::Forbidden`], [`AppError::Invalid`] for the name; database errors.
    pub async fn create_committee(&self, by: &By<'_>, org: OrgId, name: &str) -> AppResult<i64> {
        let name = bounded_text("name", "调解委员会名称", name, 2, 60).map_err(|e| FieldErrors(vec![e]))?;
        let mut ctx = self.begin(by).await?;
        ctx.authorize_create(&MEDIATION_COMMITTEE, PETITION_HANDLE, org).await?;
        let now = ctx.now;
        let id = store::insert_committee(ctx.tx(), org.0, &name, now).await?;
        let key = fazhi_domain::record::RecordKey::new(&MEDIATION_COMMITTEE, id);
        ctx.record(key, org, "mediation.committee", json!({"fields": {"name": [null, name], "org_id": [null, org.0]}}))
            .await?;
        ctx.commit().await?;
        Ok(id)
    }

    /// Adds a mediator to a committee the actor may handle.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`] (another street's committee),
    /// [`AppError::Invalid`] for name or phone; database errors.
    pub async fn add_mediator(&self, by: &By<'_>, committee: i64, name: &str, phone: &str) -> AppResult<i64> {
        let mut e = FieldErrors::new();
        let name = e.take(bounded_text("name", "调解员姓名", name, 2, 30));
        let phone = if phone.trim().is_empty() { None } else { e.take(Phone::parse("phone", phone)) };
        let mut ctx = self.begin(by).await?;
        let key = fazhi_domain::record::RecordKey::new(&MEDIATION_COMMITTEE, committee);
        let rec = ctx.authorize(key, PETITION_HANDLE).await?;
        e.into_result()?;
        let name = name.unwrap_or_default();
        let phone = phone.map(|p| p.as_str().to_owned()).unwrap_or_default();
        let now = ctx.now;
        let id = store::insert_mediator(ctx.tx(), committee, &name, &phone, None, now).await?;
        let org = rec.holders.first().map_or(by.who.org_id, |h| h.org_id);
        // The mediator's row as written, for `ledger verify` (older entries name id and name).
        let row = store::mediators(ctx.tx(), &[committee]).await?.into_iter().find(|m| m.id == id);
        let payload = json!({"payload": {"mediator_id": id, "name": name, "mediator": row}});
        ctx.record(key, org, "mediation.mediator", payload).await?;
        ctx.commit().await?;
        Ok(id)
    }

    /// Registers a dispute for mediation (人民调解法 第十七、十八条) with a committee the actor
    /// may see.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming every broken field; [`AppError::Forbidden`]; database
    /// errors.
    pub async fn register_mediation(&self, by: &By<'_>, d: &CaseDraft) -> AppResult<i64> {
        require(by.who, PETITION_HANDLE)?;
        let committees = self.committees(by.who).await?;
        let mut ctx = self.begin(by).await?;
        let mut e = FieldErrors::new();
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
        let received = if d.received_on.trim().is_empty() {
            Some(ctx.today)
        } else {
            match Day::parse("received_on", "受理日期", &d.received_on) {
                Ok(day) if day <= ctx.today => Some(day),
                Ok(_) => {
                    e.add("received_on", "受理日期不能晚于今天");
                    None
                }
                Err(x) => {
                    e.push(x);
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
        if let Some(p) = d.petition_id {
            let tree = ctx.tree().await?;
            let seen = fazhi_store::petitions::get(ctx.tx(), p).await?.is_some_and(|row| {
                authorize(by.who, PETITION_READ, &crate::petitions::petition_ref(&tree, &row)).into_result().is_ok()
            });
            if !seen {
                e.add("petition_id", format!("没有编号为 {p} 的信访件，或不在您的查看范围内"));
            }
        }
        e.into_result()?;
        let (Some((committee, _)), Some(received)) = (committee, received) else {
            return Err(AppError::internal("mediation", "validated input incomplete"));
        };
        ctx.authorize_create(&MEDIATION, PETITION_HANDLE, OrgId(committee.org_id)).await?;
        let prefix = format!("（{}）调{}-", received.date().format("%Y"), committee.id);
        let n = store::count_cases_since(ctx.tx(), &prefix).await? + 1;
        let case_no = format!("{prefix}{n:04}号");
        let parties_json = serde_json::to_string(&parties).map_err(|e| AppError::internal("parties", e))?;
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
            created_by: by.who.user().map(|u| u.0),
        };
        let now = ctx.now;
        let id = store::insert_case(ctx.tx(), &new, now).await?;
        let row = store::get_case(ctx.tx(), id).await?.ok_or(AppError::NotFound("调解案件"))?;
        ctx.save(None, &row, "mediation.register", Value::Null).await?;
        ctx.commit().await?;
        Ok(id)
    }

    /// Cases within scope.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] without petition read permission; database errors.
    pub async fn mediations(&self, who: &Principal, q: &CaseQuery) -> AppResult<Vec<CaseRow>> {
        require(who, PETITION_READ)?;
        Ok(store::cases(&self.store.read, who.filter_for(&MEDIATION, PETITION_READ).as_ref(), q).await?)
    }

    /// One case with its committee, sessions, clocks and the steps offered.
    ///
    /// # Errors
    /// [`AppError::NotFound`] (also when out of scope); database errors.
    pub async fn mediation(&self, who: &Principal, id: i64) -> AppResult<CaseView> {
        let list = self.mediations(who, &CaseQuery { ids: Some(vec![id]), limit: 1, ..Default::default() }).await?;
        let case = list.into_iter().next().ok_or(AppError::NotFound("调解案件"))?;
        let committee =
            store::committee(&self.store.read, case.committee_id).await?.ok_or(AppError::NotFound("调解委员会"))?;
        let mediators = store::mediators(&self.store.read, &[committee.id]).await?;
        let sessions = store::sessions(&self.store.read, id).await?;
        let clocks = self.clocks_of_record(&MEDIATION, &id.to_string()).await?;
        let parties = serde_json::from_str(&case.parties_json).map_err(|e| AppError::internal("parties", e))?;
        let state = case.state;
        let facts = MediationFacts {
            received: Day::from_text(&case.received_on)
                .map_err(|_| AppError::corrupt(&MEDIATION, id, "received_on", &case.received_on))?,
            today: Day::at(self.now()),
            written_agreement: case.agreed_on.is_some() && case.agreement_form == AgreementForm::Written.code(),
            mediators: mediators.iter().map(|m| m.id).collect(),
            confirmation_applied: case.confirmation_applied_on.is_some(),
            agreed_on: case.agreed_on.as_deref().and_then(|d| Day::from_text(d).ok()),
        };
        let offered = if who.has(PETITION_HANDLE) { MediationFlow::offered(state, &facts) } else { Vec::new() };
        let attachments =
            fazhi_store::attachments::of_record(&self.store.read, MEDIATION.code, &id.to_string()).await?;
        Ok(CaseView { case, committee, mediators, sessions, clocks, parties, offered, attachments })
    }

    /// A step on a case: loaded for update in the use case's transaction, THE policy, the
    /// workflow's transition, the save path and the step's clock plan, all in one
    /// transaction. Returns the case as the step left it.
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`], [`AppError::Invalid`] with the
    /// workflow's refusal or the field at fault; database errors.
    pub async fn mediation_step(&self, by: &By<'_>, id: i64, e: MediationEvent) -> AppResult<CaseRow> {
        let mut ctx = self.begin(by).await?;
        let row = store::get_case_for_update(ctx.tx(), id).await?.ok_or(AppError::NotFound("调解案件"))?;
        let tree = ctx.tree().await?;
        let step = MediationFlow::step_of(&e);
        authorize(by.who, MediationFlow::permission(step), &case_ref(&tree, &row)).into_result()?;
        let state = row.state;
        let facts = facts_of(&mut ctx, &row).await?;
        let next = MediationFlow::transition(state, &e, &facts).map_err(refusal)?;
        let after = apply(&row, &e, next);
        let now = ctx.now;
        store::save_case(ctx.tx(), &after, now).await?;
        let mut payload = serde_json::Map::new();
        match &e {
            MediationEvent::Session { held_on, place, record, mediator_id } => {
                let s = SessionRow {
                    id: 0,
                    case_id: id,
                    held_on: held_on.to_string(),
                    place: place.trim().to_owned(),
                    mediator_id: *mediator_id,
                    record: record.trim().to_owned(),
                    created_by: by.who.user().map(|u| u.0),
                    created_at: ctx.now,
                };
                let sid = store::add_session(ctx.tx(), &s).await?;
                // The session record is the 调解工作记录 (第二十七条): its text is in the ledger.
                payload.insert(
                    "session".into(),
                    json!({"id": sid, "held_on": s.held_on, "place": s.place, "mediator_id": s.mediator_id,
                        "record": s.record, "created_by": s.created_by, "created_at": s.created_at}),
                );
            }
            MediationEvent::Agree(a) => {
                payload.insert(
                    "signatures".into(),
                    json!({"parties": a.parties_signed, "mediator": a.mediator_signed, "sealed": a.sealed}),
                );
            }
            MediationEvent::Performance { performed, .. } => {
                payload.insert("performed".into(), json!(performed));
            }
            _ => {}
        }
        let plan = MediationFlow::clocks(state, &e, &facts);
        let creator = after.created_by.map(UserId);
        let actor = by.who.user();
        let clocks = ctx
            .apply_clocks(after.key(), OrgId(after.org_id), &plan, |r| match r {
                Responsible::Actor => actor,
                Responsible::Creator => creator,
                Responsible::Body => None,
            })
            .await?;
        if !clocks.is_empty() {
            payload.insert("clocks".into(), Value::Array(clocks));
        }
        ctx.save(Some(&row), &after, MediationFlow::action(step), Value::Object(payload)).await?;
        ctx.commit().await?;
        Ok(after)
    }
}

/// A case step as a form or an API body states it: both faces deserialize into this one
/// type and convert through [`CaseStepInput::event`].
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CaseStepInput {
    /// consent, decline, session, agree, fail, performance, confirmation
    pub action: String,
    /// `YYYY-MM-DD`: of the step (the session's, the agreement's signing).
    pub date: String,
    /// Reason (decline), routes told (fail) or note (performance).
    pub reason: String,
    pub place: String,
    /// 调解工作记录 (session).
    pub record: String,
    #[serde(deserialize_with = "opt_i64")]
    #[schema(value_type = Option<i64>)]
    pub mediator_id: Option<i64>,
    /// written or oral
    pub form: String,
    pub facts: String,
    pub terms: String,
    pub manner: String,
    /// `YYYY-MM-DD`.
    pub perform_by: String,
    #[serde(deserialize_with = "flag")]
    #[schema(value_type = bool)]
    pub parties_signed: bool,
    #[serde(deserialize_with = "flag")]
    #[schema(value_type = bool)]
    pub mediator_signed: bool,
    #[serde(deserialize_with = "flag")]
    #[schema(value_type = bool)]
    pub sealed: bool,
    /// yes or no (performance).
    pub performed: String,
}

impl CaseStepInput {
    /// The step, with its payload parsed.
    ///
    /// # Errors
    /// [`FieldErrors`] naming the field that cannot be parsed.
    pub fn event(&self) -> Result<MediationEvent, FieldErrors> {
        let day = |raw: &str, field, label| Day::parse(field, label, raw).map_err(|e| FieldErrors(vec![e]));
        let date = || day(&self.date, "date", "日期");
        let step = MediationStep::parse(&self.action).ok_or_else(|| FieldErrors::single("action", "未知的调解步骤"))?;
        Ok(match step {
            MediationStep::Consent => MediationEvent::Consent { on: date()? },
            MediationStep::Decline => MediationEvent::Decline { on: date()?, reason: self.reason.trim().to_owned() },
            MediationStep::Session => MediationEvent::Session {
                held_on: day(&self.date, "held_on", "调解日期")?,
                place: self.place.clone(),
                record: self.record.clone(),
                mediator_id: self.mediator_id,
            },
            MediationStep::Agree => {
                let mut e = FieldErrors::new();
                let signed_on = e.take(Day::parse("signed_on", "签订日期", &self.date));
                let perform_by = e.take(Day::parse("perform_by", "履行期限", &self.perform_by));
                let form = AgreementForm::parse(&self.form);
                if form.is_none() {
                    e.add("form", "请选择协议形式（书面或口头，人民调解法第二十八条）");
                }
                e.into_result()?;
                let (Some(signed_on), Some(perform_by), Some(form)) = (signed_on, perform_by, form) else {
                    return Err(FieldErrors::single("date", "日期应为 YYYY-MM-DD"));
                };
                MediationEvent::Agree(Agreement {
                    form,
                    facts: self.facts.trim().to_owned(),
                    terms: self.terms.trim().to_owned(),
                    manner: self.manner.trim().to_owned(),
                    perform_by: perform_by.date(),
                    signed_on: signed_on.date(),
                    parties_signed: self.parties_signed,
                    mediator_signed: self.mediator_signed,
                    sealed: self.sealed,
                })
            }
            MediationStep::Fail => MediationEvent::Fail { on: date()?, routes_told: self.reason.trim().to_owned() },
            MediationStep::Performance => MediationEvent::Performance {
                on: date()?,
                performed: match self.performed.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(FieldErrors::single("performed", "请选择是否已履行")),
                },
                note: self.reason.trim().to_owned(),
            },
            MediationStep::Confirmation => MediationEvent::ConfirmationApplied { on: date()? },
        })
    }
}
