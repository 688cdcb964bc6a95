//! Handling steps of an item: [`StepInput`] (the form's and the API's one input) is parsed
//! into the domain's [`Event`]; [`App::petition_step`] loads the item for update, applies THE
//! policy with the step's permission, asks [`PetitionFlow`] for the next state, checks what
//! only the database knows (the offered targets, the leader, the item to merge into), writes
//! the row through the save path and applies the step's clock plan.

use fazhi_domain::access::{Decision, PETITION_SUPERVISE, authorize};
use fazhi_domain::petition::{Event, Facts, Outcome, PetitionFlow, Refusal, Satisfaction, State, Step};
use fazhi_domain::workflow::{Responsible, Workflow};
use fazhi_domain::{Day, FieldErrors, OrgId, UserId};
use fazhi_store::petitions::{self as store, PetitionRow, TransferRow};
use serde_json::{Value, json};

use super::{assign_targets, day_of, government_in, petition_ref, stage_of, state_of, transfer_targets};
use crate::ctx::{Ctx, Record};
use crate::input::{flag, opt_i64, opt_u32};
use crate::org::By;
use crate::{App, AppError, AppResult};

/// A handling step as a form or an API body states it, before parsing: both faces
/// deserialize into this one type and convert through [`StepInput::event`].
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct StepInput {
    /// accept, not_accept, assign, transfer, objection, supervise, lead, merge, reply, serve,
    /// close, extend, visit
    pub action: String,
    /// `YYYY-MM-DD` for accept, serve and visit.
    pub date: String,
    /// Reason (not_accept, transfer, objection, extend), note (assign, visit) or instruction
    /// (supervise).
    pub reason: String,
    /// support, explain, reject (reply).
    pub outcome: String,
    /// The legal basis of the opinion (reply).
    pub legal_basis: String,
    /// 调查核实的事实和理由 (reply): printed in the 信访处理意见书.
    pub text: String,
    /// Days of an extension (1–30).
    #[serde(deserialize_with = "opt_u32")]
    #[schema(value_type = Option<u32>)]
    pub days: Option<u32>,
    /// The extension was approved by the responsible person (`true`, or "yes" from a form).
    #[serde(deserialize_with = "flag")]
    #[schema(value_type = bool)]
    pub approved: bool,
    /// Target node (assign, transfer), leader's user id (lead) or item id (merge).
    #[serde(deserialize_with = "opt_i64")]
    #[schema(value_type = Option<i64>)]
    pub target: Option<i64>,
    /// satisfied, basic, unsatisfied (visit).
    pub satisfaction: String,
}

impl StepInput {
    /// The step, with its payload parsed.
    ///
    /// # Errors
    /// [`FieldErrors`] naming the field that cannot be parsed (the rules of the step itself
    /// are checked by the workflow).
    pub fn event(&self) -> Result<Event, FieldErrors> {
        let date = || Day::parse("date", "日期", &self.date).map_err(|e| FieldErrors(vec![e]));
        let target = |field: &'static str, what: &str| {
            self.target.ok_or_else(|| FieldErrors::single(field, format!("请选择{what}")))
        };
        let reason = self.reason.trim().to_owned();
        let step = Step::parse(&self.action).ok_or_else(|| FieldErrors::single("action", "未知的办理步骤"))?;
        Ok(match step {
            Step::Accept => Event::Accept { on: date()? },
            Step::NotAccept => Event::NotAccept { reason },
            Step::Assign => Event::Assign { to: OrgId(target("target", "承办单位")?), note: reason },
            Step::Transfer => Event::Transfer { to: OrgId(target("target", "转送的机关")?), reason },
            Step::Objection => Event::Objection { reason },
            Step::Supervise => Event::Supervise { instruction: reason },
            Step::Lead => Event::Lead { user: UserId(target("target", "包案领导")?) },
            Step::Merge => Event::Merge { into: target("target", "要并入的信访件编号")? },
            Step::Reply => Event::Reply {
                outcome: Outcome::parse(&self.outcome)
                    .ok_or_else(|| FieldErrors::single("outcome", "请选择处理意见（支持、解释说明、不予支持）"))?,
                legal_basis: self.legal_basis.trim().to_owned(),
                text: self.text.trim().to_owned(),
            },
            Step::Serve => Event::Serve { on: date()? },
            Step::Close => Event::Close,
            Step::Extend => Event::Extend {
                days: self.days.ok_or_else(|| FieldErrors::single("days", "延长天数应为 1 到 30 的整数"))?,
                approved: self.approved,
                reason,
            },
            Step::Visit => Event::Visit {
                on: date()?,
                satisfaction: Satisfaction::parse(&self.satisfaction).ok_or_else(|| {
                    FieldErrors::single("satisfaction", "请选择信访人的评价（满意、基本满意、不满意）")
                })?,
                note: reason,
            },
        })
    }
}

/// A refusal of the workflow as an error on the field it is about (shown under that field;
/// the step as a whole otherwise).
pub(crate) fn refused(r: Refusal) -> AppError {
    let field = match &r {
        Refusal::Field(f) => return AppError::Invalid(FieldErrors(vec![f.clone()])),
        Refusal::MissingReason
        | Refusal::MissingNote
        | Refusal::MissingInstruction
        | Refusal::MissingExtensionReason => "reason",
        Refusal::MissingBasis => "legal_basis",
        Refusal::ExtensionTooLong(_) => "days",
        Refusal::ExtensionNotApproved => "approved",
        _ => "action",
    };
    AppError::Invalid(FieldErrors::single(field, r.to_string()))
}

fn invalid(field: &'static str, m: impl Into<String>) -> AppError {
    AppError::Invalid(FieldErrors::single(field, m))
}

/// The facts the workflow reads, from the row and its open clocks (read in `ctx`).
pub(crate) async fn facts_of(ctx: &mut Ctx<'_>, row: &PetitionRow) -> AppResult<Facts> {
    let clocks =
        fazhi_store::clocks::of_record(ctx.tx(), fazhi_domain::record::PETITION.code, &row.id.to_string()).await?;
    Ok(Facts {
        stage: stage_of(row)?,
        extended: row.extended_days > 0,
        objection_window: clocks.iter().any(|c| c.rule_id == "petition.objection" && !c.closed),
        received: day_of(row, "received_on", &row.received_on)?,
        today: ctx.today,
    })
}

/// The row after an accepted step: a pure function of the row, the event, the next state
/// and today.
fn apply(row: &PetitionRow, e: &Event, next: State, today: Day) -> PetitionRow {
    let mut r = row.clone();
    match e {
        Event::Accept { on } => r.accepted_on = Some(on.to_string()),
        Event::Assign { to, .. } => r.handler_org_id = Some(to.0),
        Event::Transfer { to, .. } => {
            r.org_id = to.0;
            r.handler_org_id = None;
        }
        Event::Supervise { .. } => r.supervised_count += 1,
        Event::Lead { user } => r.lead_user_id = Some(user.0),
        Event::Merge { into } => r.duplicate_of = Some(*into),
        Event::Reply { outcome, legal_basis, text } => {
            r.outcome = outcome.code().to_owned();
            r.legal_basis.clone_from(legal_basis);
            r.reply_text.clone_from(text);
        }
        Event::Serve { on } => r.served_on = Some(on.to_string()),
        // Closing follows service; an item closed when its reply was served counts as
        // closed that day.
        Event::Close => r.closed_on = Some(r.served_on.clone().unwrap_or_else(|| today.to_string())),
        Event::Extend { days, .. } => r.extended_days = i64::from(*days),
        Event::Visit { on, satisfaction, .. } => {
            r.visited_on = Some(on.to_string());
            r.satisfaction = satisfaction.code().to_owned();
        }
        Event::NotAccept { .. } | Event::Objection { .. } => {}
    }
    r.state = next;
    r
}

impl App {
    /// A handling step in its own transaction. Returns the item as the step left it (the
    /// step's own result: never a re-read the caller's scope might no longer allow, e.g.
    /// after a transfer).
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`], [`AppError::Invalid`] with the
    /// workflow's refusal (its article) or the field at fault; database errors.
    pub async fn petition_step(
        &self,
        by: &By<'_>,
        id: i64,
        e: Event,
    ) -> AppResult<(PetitionRow, Vec<crate::clocks::ClockView>)> {
        let mut ctx = self.begin(by).await?;
        let row = self.petition_step_in(&mut ctx, id, e).await?;
        let clocks =
            fazhi_store::clocks::of_record(ctx.tx(), fazhi_domain::record::PETITION.code, &id.to_string()).await?;
        ctx.commit().await?;
        let clocks = self.views(clocks).await?;
        Ok((row, clocks))
    }

    /// [`App::petition_step`] inside the caller's use case: the item (locked) and its clocks
    /// are read in the use case's transaction, so what is checked is what is changed, and a
    /// concurrent identical step waits and is then refused by the state machine.
    ///
    /// # Errors
    /// As [`App::petition_step`].
    pub async fn petition_step_in(&self, ctx: &mut Ctx<'_>, id: i64, e: Event) -> AppResult<PetitionRow> {
        let row = store::get_for_update(ctx.tx(), id).await?.ok_or(AppError::NotFound("信访件"))?;
        let step = PetitionFlow::step_of(&e);
        let tree = ctx.tree().await?;
        authorize(ctx.by.who, PetitionFlow::permission(step), &petition_ref(&tree, &row)).into_result()?;
        let state = state_of(&row)?;
        let facts = facts_of(ctx, &row).await?;
        let next = PetitionFlow::transition(state, &e, &facts).map_err(refused)?;
        let mut payload = serde_json::Map::new();
        let mut transfer: Option<(&str, i64, String)> = None;
        let mut notify: Vec<UserId> = Vec::new();
        match &e {
            Event::Assign { to, note } => {
                let target = assign_targets(&tree, OrgId(row.org_id)).into_iter().find(|n| n.id == to.0);
                let target = target.ok_or_else(|| invalid("target", "只能交办给本街道（乡镇）的科室、社区"))?;
                payload.insert("to_name".into(), json!(target.name));
                payload.insert("note".into(), json!(note));
                transfer = Some(("assign", to.0, note.clone()));
            }
            Event::Transfer { to, reason } => {
                let target = transfer_targets(&tree, OrgId(row.org_id)).into_iter().find(|n| n.id == to.0);
                let target =
                    target.ok_or_else(|| invalid("target", "只能转送给本区的其他街道（乡镇）、区级机关或部门"))?;
                payload.insert("to_name".into(), json!(target.name));
                payload.insert("reason".into(), json!(reason));
                transfer = Some(("transfer", to.0, reason.clone()));
            }
            Event::Objection { reason } => {
                let back = store::transfers(ctx.tx(), id)
                    .await?
                    .into_iter()
                    .rev()
                    .find(|t| t.kind == "transfer" && t.to_org_id == row.org_id)
                    .ok_or_else(|| invalid("action", "找不到转送记录"))?;
                payload.insert("reason".into(), json!(reason));
                transfer = Some(("objection", back.from_org_id, reason.clone()));
            }
            Event::Lead { user } => {
                let (gov, _) = government_in(&tree, OrgId(row.org_id))?;
                let (lo, hi) = gov.org_path().subtree_range();
                let leaders = fazhi_store::users::holders_of(ctx.tx(), &lo, &hi, PETITION_SUPERVISE.code()).await?;
                let (_, name) = leaders
                    .into_iter()
                    .find(|(u, _)| *u == user.0)
                    .ok_or_else(|| invalid("target", "请选择本街道（乡镇）有督办权限的负责人作为包案领导"))?;
                payload.insert("lead_name".into(), json!(name));
                notify.push(*user);
            }
            Event::Merge { into } => {
                if *into == id {
                    return Err(invalid("target", "不能并入自己"));
                }
                let missing = || invalid("target", format!("没有编号为 {into} 的信访件，或不在您的查看范围内"));
                let target = store::get(ctx.tx(), *into).await?.ok_or_else(missing)?;
                if authorize(ctx.by.who, fazhi_domain::access::PETITION_READ, &petition_ref(&tree, &target))
                    != Decision::Allow
                {
                    return Err(missing());
                }
                if target.state == State::Merged {
                    return Err(invalid("target", "不能并入已合并的件"));
                }
                payload.insert("into_title".into(), json!(target.title));
            }
            Event::NotAccept { reason } | Event::Extend { reason, .. } => {
                payload.insert("reason".into(), json!(reason));
            }
            Event::Supervise { instruction } => {
                payload.insert("instruction".into(), json!(instruction));
                notify.extend(row.created_by.map(UserId));
                notify.extend(row.lead_user_id.map(UserId));
            }
            Event::Visit { note, .. } => {
                payload.insert("note".into(), json!(note));
            }
            Event::Accept { .. } | Event::Reply { .. } | Event::Serve { .. } | Event::Close => {}
        }
        let mut after = apply(&row, &e, next, ctx.today);
        if let Some(("objection", back, _)) = &transfer {
            // The objection sends the item back to the body that transferred it.
            after.org_id = *back;
        }
        let now = ctx.now;
        store::save_state(ctx.tx(), &after, now).await?;
        if let Some((kind, to, reason)) = transfer {
            let t = TransferRow {
                id: 0,
                petition_id: id,
                kind: kind.to_owned(),
                from_org_id: row.org_id,
                to_org_id: to,
                reason,
                created_by: ctx.by.who.user().map(|u| u.0),
                created_at: ctx.now,
            };
            // The row as written goes into the step's one entry (`ledger verify` compares it).
            let t = TransferRow { id: store::add_transfer(ctx.tx(), &t).await?, ..t };
            payload.insert("transfer".into(), serde_json::to_value(t).map_err(|e| AppError::internal("transfer", e))?);
        }
        self.finish_step(ctx, row, after, &e, state, &facts, payload, &notify).await
    }

    /// Clocks, the one ledger entry and notices of an accepted step.
    #[allow(clippy::too_many_arguments)]
    async fn finish_step(
        &self,
        ctx: &mut Ctx<'_>,
        before: PetitionRow,
        after: PetitionRow,
        e: &Event,
        state: State,
        facts: &Facts,
        mut payload: serde_json::Map<String, Value>,
        notify: &[UserId],
    ) -> AppResult<PetitionRow> {
        let plan = PetitionFlow::clocks(state, e, facts);
        let actor = ctx.by.who.user();
        let creator = after.created_by.map(UserId);
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
        let step = PetitionFlow::step_of(e);
        ctx.save(Some(&before), &after, PetitionFlow::action(step), Value::Object(payload)).await?;
        if !notify.is_empty() {
            let title = match step {
                Step::Supervise => format!("信访件被督办：{}", after.title),
                _ => format!("您被指定为信访件包案领导：{}", after.title),
            };
            ctx.notify(notify, after.key(), PetitionFlow::action(step), &title).await?;
        }
        Ok(after)
    }
}

impl App {
    /// The steps the principal can take on an item now: the workflow's offer in the item's
    /// state and facts, less the steps whose permission the principal lacks. The item page
    /// shows exactly these (the API documents the same list).
    ///
    /// # Errors
    /// A stored value this program did not write; database errors.
    pub async fn petition_offered(
        &self,
        who: &fazhi_domain::access::Principal,
        row: &PetitionRow,
    ) -> AppResult<Vec<Step>> {
        let clocks =
            fazhi_store::clocks::of_record(&self.store.read, fazhi_domain::record::PETITION.code, &row.id.to_string())
                .await?;
        let facts = Facts {
            stage: stage_of(row)?,
            extended: row.extended_days > 0,
            objection_window: clocks.iter().any(|c| c.rule_id == "petition.objection" && !c.closed),
            received: day_of(row, "received_on", &row.received_on)?,
            today: Day::at(self.now()),
        };
        let tree = self.org_snapshot().await?;
        let rec = petition_ref(&tree, row);
        Ok(PetitionFlow::offered(state_of(row)?, &facts)
            .into_iter()
            .filter(|s| authorize(who, PetitionFlow::permission(*s), &rec) == Decision::Allow)
            .collect())
    }
}
