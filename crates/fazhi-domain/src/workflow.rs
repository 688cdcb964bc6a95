//! One workflow per record kind: the statutory state machine, as data of one trait
//! implementation.
//!
//! A [`Workflow`] says, for a state and the facts the rules read besides it: which steps may
//! be taken ([`Workflow::guard`], from which [`Workflow::offered`] derives the buttons, the
//! API's step list and the tests), what a step leads to ([`Workflow::transition`], which
//! first applies the same guard, then checks the step's payload), which deadline clocks it
//! completes, starts or extends ([`Workflow::clocks`], data the app's kernel applies), the
//! permission it needs and the ledger action it is recorded as. The app maps nothing by
//! hand: it loads the record, asks the workflow, saves, and applies the clock plan.

use crate::access::Permission;
use crate::code::Code;
use crate::day::Day;
use crate::record::Kind;

/// Who answers for a clock a step starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Responsible {
    /// The user who took the step.
    Actor,
    /// The user who registered the record.
    Creator,
    /// The holding body as a whole (no one user yet: a transfer's receiver).
    Body,
}

/// The clock effects of one step: rules are deadline rule ids (`petition.handle`), checked
/// against the rule set when applied.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClockPlan {
    /// The open clocks of these rules are completed on [`ClockPlan::on`].
    pub complete: Vec<&'static str>,
    /// Clocks of these rules start with [`ClockPlan::on`] as their event date.
    pub start: Vec<(&'static str, Responsible)>,
    /// The open clock of this rule is extended by this many days, for this reason.
    pub extend: Option<(&'static str, u32, String)>,
    /// The day the step took effect (its own date, or today).
    pub on: Day,
}

impl ClockPlan {
    /// An empty plan effective on `on`.
    pub fn on(on: Day) -> Self {
        Self { on, ..Self::default() }
    }

    /// Whether the plan changes no clock.
    pub fn is_empty(&self) -> bool {
        self.complete.is_empty() && self.start.is_empty() && self.extend.is_none()
    }
}

/// The state machine of one record kind. See the module docs.
pub trait Workflow {
    /// Where a record stands.
    type State: Code;
    /// A step's kind, without payload: the unit of `offered`, buttons and permissions.
    type Step: Code;
    /// A step with its payload.
    type Event;
    /// What the rules read besides the state (round, extension, open windows, dates).
    type Facts;
    /// Why a step is refused; each variant names its rule and article.
    type Refusal: std::error::Error;

    /// The kind whose records follow this workflow.
    const KIND: &'static Kind;

    /// The step kind of an event.
    fn step_of(e: &Self::Event) -> Self::Step;

    /// Whether a step of this kind may be taken in `s` with facts `f`, regardless of its
    /// payload.
    ///
    /// # Errors
    /// The refusal (the state's, or a fact's such as "already extended").
    fn guard(s: Self::State, step: Self::Step, f: &Self::Facts) -> Result<(), Self::Refusal>;

    /// The state after `e`: the guard of its step, then its payload's rules.
    ///
    /// # Errors
    /// The first rule `e` breaks.
    fn transition(s: Self::State, e: &Self::Event, f: &Self::Facts) -> Result<Self::State, Self::Refusal>;

    /// The clocks an accepted step completes, starts or extends.
    fn clocks(s: Self::State, e: &Self::Event, f: &Self::Facts) -> ClockPlan;

    /// The permission a step needs.
    fn permission(step: Self::Step) -> Permission;

    /// The ledger action code a step is recorded as (one of [`Workflow::KIND`]'s actions).
    fn action(step: Self::Step) -> &'static str;

    /// The steps to offer in `s`: exactly those whose guard passes.
    fn offered(s: Self::State, f: &Self::Facts) -> Vec<Self::Step> {
        Self::Step::ALL.iter().copied().filter(|k| Self::guard(s, *k, f).is_ok()).collect()
    }
}
