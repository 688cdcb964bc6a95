//! Pure rules of fazhi (法治).
//!
//! This crate knows the organisation tree, roles and the data-scope policy, validation of
//! what people type, the password rules and the injected clock. It performs no IO, has no
//! async code and knows nothing of SQL or HTTP: `.ci/run` fails if `cargo tree -p
//! fazhi-domain` shows sqlx, axum, tokio or hyper. Everything here is tested without a
//! database.

pub mod access;
pub mod calendar;
pub mod clock;
#[macro_use]
pub mod code;
pub mod day;
pub mod deadline;
pub mod identity;
pub mod ids;
pub mod mediation;
pub mod org;
pub mod petition;
pub mod record;
pub mod security;
pub mod text;
pub mod user;
pub mod validation;
pub mod workflow;

pub use day::Day;
pub use ids::{OrgId, RoleId, TokenId, UserId};
pub use validation::{FieldError, FieldErrors};
