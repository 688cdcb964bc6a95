//! Persistence of fazhi on two engines from ONE query code base.
//!
//! [`Db`] is a SQLite pool or a PostgreSQL pool, [`Tx`] a transaction of either; both turn
//! into an [`Exec`], and the [`run!`] macro pastes one query body into each engine's arm so
//! every query is written once, in the portable SQL subset (`$N` placeholders, BIGINT ids
//! and unix-millisecond times, TEXT dates, BOOLEAN, `RETURNING`, `ON CONFLICT`). DDL differs
//! per engine, so `migrations/sqlite` and `migrations/postgres` are both embedded and run at
//! start. The store knows SQL and nothing of HTTP; permission checks happen in fazhi-app, but
//! the SQL form of the data-scope filter lives here ([`scope`]), rendered from the domain's
//! `ScopeFilter`.

// Every public function returning a Result says what it returns on failure.
#![warn(clippy::missing_errors_doc)]

#[macro_use]
pub mod db;
pub mod attachments;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod clocks;
pub mod jobs;
pub mod ledger;
pub mod mediation;
pub mod org;
pub mod petition_facts;
pub mod petitions;
pub mod receptions;
pub mod reconcile;
pub mod record;
pub mod roles;
pub mod scope;
pub mod search;
pub mod submissions;
pub mod users;

pub use db::{ConnectMode, Db, Engine, Exec, Store, StoreError, Tx};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
