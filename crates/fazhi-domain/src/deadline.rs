//! Statutory deadlines ("clocks"): the rules as data with their legal citations
//! ([`DeadlineRule`], [`RuleSet::builtin`]), an installation's corrections to them
//! ([`RuleOverrides`]), and running instances with pauses and extensions
//! ([`DeadlineClock`]) whose due date always comes with its explanation.
//!
//! Everything here is pure: the calendar is passed in, and so is "today". Storage, the
//! reminder jobs and the UI live in other crates.

mod builtin;
mod instance;
mod rule;

#[cfg(test)]
mod tests;

pub use instance::{ClockError, ClockState, DeadlineClock, Evaluation, Extension, Pause};
pub use rule::{
    Area, Citation, DeadlineRule, Duty, ExtensionRule, MAX_LENGTH, OverrideError, OverrideErrors, PauseEffect,
    PauseReason, PauseRule, RuleKind, RuleOverride, RuleOverrides, RuleSet, StartRule, Verification,
};
