//! The handling of a petition item as a [`Workflow`]: the steps of 信访工作条例 (登记 →
//! 受理/不予受理/转送 → 交办 → 答复 → 送达 → 办结; 督办, 包案, 延期, 合并, 回访), the state
//! each leads to, the refusals with their articles, and the clocks each step completes,
//! starts or extends (第二十三、三十四、三十五、三十六条).

use super::{Outcome, Satisfaction, Stage, State};
use crate::access::{PETITION_HANDLE, PETITION_SUPERVISE, Permission};
use crate::day::Day;
use crate::record::{Kind, PETITION};
use crate::validation::FieldError;
use crate::workflow::{ClockPlan, Responsible, Workflow};
use crate::{OrgId, UserId};

crate::code_enum! {
    /// A handling step of an item, without its payload.
    pub enum Step: "信访办理步骤" {
        /// 受理 (第二十三条).
        Accept = ("accept", "受理"),
        /// 不予受理, with the written reason (第二十三条).
        NotAccept = ("not_accept", "不予受理"),
        /// 交办 to a department or community of the street.
        Assign = ("assign", "交办"),
        /// 转送 to another competent body (第二十二、二十三条).
        Transfer = ("transfer", "转送"),
        /// The receiver's objection to a transfer outside its competence (第二十三条第三款).
        Objection = ("objection", "提出异议"),
        /// 督办 by a leader.
        Supervise = ("supervise", "督办"),
        /// 包案: a leader owns the item (第十八条第二款).
        Lead = ("lead", "指定包案领导"),
        /// Merged into an earlier item of the same petitioner.
        Merge = ("merge", "合并"),
        /// 信访处理意见书 (第三十二条).
        Reply = ("reply", "出具处理意见"),
        /// The written reply served.
        Serve = ("serve", "送达"),
        /// 办结.
        Close = ("close", "办结"),
        /// Extension of the 60-day handling period (第三十四条).
        Extend = ("extend", "延期"),
        /// 回访 after the reply was served.
        Visit = ("visit", "回访"),
    }
}

/// A handling step with its payload: the ONE shape of a step (forms and the API parse into
/// it; the app applies it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Accept {
        on: Day,
    },
    NotAccept {
        reason: String,
    },
    /// 交办 to a node of the street, with the instruction.
    Assign {
        to: OrgId,
        note: String,
    },
    /// 转送 to another competent body, with the reason.
    Transfer {
        to: OrgId,
        reason: String,
    },
    Objection {
        reason: String,
    },
    Supervise {
        instruction: String,
    },
    Lead {
        user: UserId,
    },
    /// Merged into item `into`.
    Merge {
        into: i64,
    },
    Reply {
        outcome: Outcome,
        legal_basis: String,
        /// 调查核实的事实和理由: printed in the 信访处理意见书.
        text: String,
    },
    Serve {
        on: Day,
    },
    Close,
    /// At most 30 days, approved by the responsible person, with the reason told to the
    /// petitioner (第三十四条).
    Extend {
        days: u32,
        approved: bool,
        reason: String,
    },
    Visit {
        on: Day,
        satisfaction: Satisfaction,
        note: String,
    },
}

/// What the rules read besides the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The round of the item.
    pub stage: Stage,
    /// The handling period was already extended.
    pub extended: bool,
    /// The receiver's 5-working-day objection window is open (a transferred item).
    pub objection_window: bool,
    /// The day the item was received (no act is dated before it).
    pub received: Day,
    /// Today in Beijing.
    pub today: Day,
}

/// Why a step is refused, with the rule it comes from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("「{state}」状态下不能{action}")]
    WrongState { state: &'static str, action: &'static str },
    #[error("不予受理须写明理由（信访工作条例第二十三条）")]
    MissingReason,
    #[error("信访处理意见书须写明依据（信访工作条例第三十二条）")]
    MissingBasis,
    #[error("书面答复送达后才能办结（信访工作条例第三十二条）")]
    NotServed,
    #[error("办理期限最多延长 30 日（信访工作条例第三十四条），现为 {0} 日")]
    ExtensionTooLong(u32),
    #[error("延长办理期限须经负责人批准，并告知信访人延期理由（信访工作条例第三十四条）")]
    ExtensionNotApproved,
    #[error("请写明延期理由，并告知信访人（信访工作条例第三十四条）")]
    MissingExtensionReason,
    #[error("办理期限只能延长一次（信访工作条例第三十四条）")]
    AlreadyExtended,
    #[error("复查、复核期限不能延长（信访工作条例第三十五、三十六条只规定 30 日）")]
    NoExtensionInReview,
    #[error("复查、复核由被请求的机关办理，不再转送（信访工作条例第三十五、三十六条）")]
    NoTransferInReview,
    #[error("只有转送、交办来的信访事项，才能在收到之日起 5 个工作日内提出异议（信访工作条例第二十三条第三款）")]
    NoObjectionWindow,
    #[error("交办须写明交办意见")]
    MissingNote,
    #[error("督办须写明督办意见")]
    MissingInstruction,
    #[error("复核意见为最终意见，信访人以同一事实和理由再提出的，不再受理（信访工作条例第三十六条）")]
    RecheckFinal,
    #[error("书面答复送达后才能请求复查或复核（信访工作条例第三十五条）")]
    NoReplyYet,
    #[error("请求日期不能早于书面答复送达日期")]
    RequestBeforeReply,
    #[error("已超过收到书面答复之日起 30 日，不能请求{stage}（信访工作条例第三十五、三十六条）")]
    RequestTooLate { stage: &'static str },
    /// A field of the step broke a rule (a date in the future, before the item was received).
    #[error("{}", .0.message)]
    Field(FieldError),
}

/// The petition workflow.
#[derive(Debug, Clone, Copy)]
pub struct PetitionFlow;

impl Event {
    /// A valid example of each step (tests, and the API documentation's examples).
    pub fn example(step: Step, today: Day) -> Event {
        match step {
            Step::Accept => Event::Accept { on: today },
            Step::NotAccept => Event::NotAccept { reason: "不属于信访事项".into() },
            Step::Assign => Event::Assign { to: OrgId(1), note: "请核实并反馈".into() },
            Step::Transfer => Event::Transfer { to: OrgId(1), reason: "属区住建委职责".into() },
            Step::Objection => Event::Objection { reason: "不属本机关职权".into() },
            Step::Supervise => Event::Supervise { instruction: "本周内答复".into() },
            Step::Lead => Event::Lead { user: UserId(1) },
            Step::Merge => Event::Merge { into: 1 },
            Step::Reply => Event::Reply {
                outcome: Outcome::Support,
                legal_basis: "《物业管理条例》第三十五条".into(),
                text: "经调查核实".into(),
            },
            Step::Serve => Event::Serve { on: today },
            Step::Close => Event::Close,
            Step::Extend => Event::Extend { days: 30, approved: true, reason: "需现场勘验".into() },
            Step::Visit => Event::Visit { on: today, satisfaction: Satisfaction::Satisfied, note: String::new() },
        }
    }
}

/// Longest reason, note or instruction of a step, in characters.
pub const MAX_REASON_CHARS: usize = 1000;
/// Longest 事实和理由 of a reply (printed in the 信访处理意见书), in characters.
pub const MAX_REPLY_CHARS: usize = 8000;

fn need(text: &str, refusal: Refusal) -> Result<(), Refusal> {
    if text.trim().is_empty() { Err(refusal) } else { bounded("reason", "理由、意见", text, MAX_REASON_CHARS) }
}

fn bounded(field: &'static str, label: &str, text: &str, max: usize) -> Result<(), Refusal> {
    crate::validation::bounded_text(field, label, text, 0, max).map(|_| ()).map_err(Refusal::Field)
}

fn dated(on: Day, f: &Facts) -> Result<(), Refusal> {
    on.within("date", ("收到日期", f.received), f.today).map(|_| ()).map_err(Refusal::Field)
}

/// The notice clocks (15 days to tell the petitioner whether the item is accepted, 第二十三条
/// 第二款) and the receiver's objection window: all end when the item is decided on.
const DECIDED: [&str; 3] = ["petition.notify_direct", "petition.notify_assigned", "petition.objection"];

impl Workflow for PetitionFlow {
    type State = State;
    type Step = Step;
    type Event = Event;
    type Facts = Facts;
    type Refusal = Refusal;

    const KIND: &'static Kind = &PETITION;

    fn step_of(e: &Event) -> Step {
        match e {
            Event::Accept { .. } => Step::Accept,
            Event::NotAccept { .. } => Step::NotAccept,
            Event::Assign { .. } => Step::Assign,
            Event::Transfer { .. } => Step::Transfer,
            Event::Objection { .. } => Step::Objection,
            Event::Supervise { .. } => Step::Supervise,
            Event::Lead { .. } => Step::Lead,
            Event::Merge { .. } => Step::Merge,
            Event::Reply { .. } => Step::Reply,
            Event::Serve { .. } => Step::Serve,
            Event::Close => Step::Close,
            Event::Extend { .. } => Step::Extend,
            Event::Visit { .. } => Step::Visit,
        }
    }

    fn guard(s: State, step: Step, f: &Facts) -> Result<(), Refusal> {
        use State::*;
        let ok = match step {
            Step::Accept | Step::NotAccept | Step::Merge => s == Registered,
            Step::Transfer if s == Registered && f.stage != Stage::First => return Err(Refusal::NoTransferInReview),
            Step::Transfer => s == Registered,
            Step::Objection if s == Registered && !f.objection_window => return Err(Refusal::NoObjectionWindow),
            Step::Objection => s == Registered,
            Step::Assign => matches!(s, Accepted | Handling),
            Step::Supervise => matches!(s, Registered | Accepted | Handling | Replied),
            Step::Lead => s.is_open(),
            Step::Reply => matches!(s, Accepted | Handling),
            Step::Serve => s == Replied,
            Step::Close if matches!(s, Accepted | Handling | Replied) => return Err(Refusal::NotServed),
            Step::Close => s == Served,
            Step::Extend if matches!(s, Accepted | Handling) && f.stage != Stage::First => {
                return Err(Refusal::NoExtensionInReview);
            }
            Step::Extend if matches!(s, Accepted | Handling) && f.extended => return Err(Refusal::AlreadyExtended),
            Step::Extend => matches!(s, Accepted | Handling),
            Step::Visit => matches!(s, Served | Closed),
        };
        if ok { Ok(()) } else { Err(Refusal::WrongState { state: s.label(), action: step.label() }) }
    }

    fn transition(s: State, e: &Event, f: &Facts) -> Result<State, Refusal> {
        use State::*;
        Self::guard(s, Self::step_of(e), f)?;
        match e {
            Event::Accept { on } => dated(*on, f).map(|()| Accepted),
            Event::NotAccept { reason } => need(reason, Refusal::MissingReason).map(|()| NotAccepted),
            Event::Assign { note, .. } => need(note, Refusal::MissingNote).map(|()| Handling),
            Event::Transfer { reason, .. } | Event::Objection { reason } => {
                need(reason, Refusal::MissingReason).map(|()| Registered)
            }
            Event::Supervise { instruction } => need(instruction, Refusal::MissingInstruction).map(|()| s),
            Event::Lead { .. } => Ok(s),
            Event::Close => Ok(Closed),
            Event::Merge { .. } => Ok(Merged),
            Event::Reply { legal_basis, text, .. } => {
                if legal_basis.trim().is_empty() {
                    return Err(Refusal::MissingBasis);
                }
                bounded("legal_basis", "依据", legal_basis, 500)?;
                bounded("text", "调查核实的事实和理由", text, MAX_REPLY_CHARS)?;
                Ok(Replied)
            }
            Event::Serve { on } => dated(*on, f).map(|()| Served),
            Event::Extend { days, approved, reason } => {
                if *days == 0 || *days > 30 {
                    Err(Refusal::ExtensionTooLong(*days))
                } else if !approved {
                    Err(Refusal::ExtensionNotApproved)
                } else {
                    need(reason, Refusal::MissingExtensionReason).map(|()| s)
                }
            }
            Event::Visit { on, note, .. } => {
                bounded("reason", "回访情况", note, MAX_REASON_CHARS)?;
                dated(*on, f).map(|()| s)
            }
        }
    }

    fn clocks(_: State, e: &Event, f: &Facts) -> ClockPlan {
        let mut plan = ClockPlan::on(f.today);
        match e {
            Event::Accept { on } => {
                plan.on = *on;
                plan.complete.extend(DECIDED);
                plan.start.push((f.stage.handling_rule(), Responsible::Actor));
            }
            Event::NotAccept { .. } | Event::Merge { .. } => plan.complete.extend(DECIDED),
            Event::Transfer { .. } => {
                plan.complete.extend(DECIDED);
                // The receiving body: 15 days to tell the petitioner, 5 working days to
                // object if it is not competent (第二十三条第二、三款).
                plan.start.push(("petition.notify_assigned", Responsible::Body));
                plan.start.push(("petition.objection", Responsible::Body));
            }
            Event::Objection { .. } => {
                plan.complete.extend(["petition.notify_assigned", "petition.objection"]);
                plan.start.push(("petition.notify_direct", Responsible::Creator));
            }
            Event::Extend { days, reason, .. } => {
                plan.extend = Some((f.stage.handling_rule(), *days, reason.clone()));
            }
            Event::Serve { on } => {
                plan.on = *on;
                plan.complete.push(f.stage.handling_rule());
                plan.start.extend(f.stage.next_request_rule().map(|r| (r, Responsible::Body)));
            }
            _ => {}
        }
        plan
    }

    fn permission(step: Step) -> Permission {
        match step {
            Step::Supervise | Step::Lead => PETITION_SUPERVISE,
            _ => PETITION_HANDLE,
        }
    }

    fn action(step: Step) -> &'static str {
        match step {
            Step::Accept => "petition.accept",
            Step::NotAccept => "petition.not_accept",
            Step::Assign => "petition.assign",
            Step::Transfer => "petition.transfer",
            Step::Objection => "petition.objection",
            Step::Supervise => "petition.supervise",
            Step::Lead => "petition.lead",
            Step::Merge => "petition.merge",
            Step::Reply => "petition.reply",
            Step::Serve => "petition.serve",
            Step::Close => "petition.close",
            Step::Extend => "petition.extend",
            Step::Visit => "petition.visit",
        }
    }
}
