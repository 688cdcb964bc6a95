//! The use-case context and the one save path of every record.
//!
//! A use case that changes records opens ONE [`Ctx`] ([`App::begin`]): one transaction, the
//! actor, "now" and "today" from the one clock. Every read and write of the use case goes
//! through the context's transaction — nothing is read through the pool while it is held
//! (on PostgreSQL both come from one pool, and a use case waiting for a second connection
//! while holding one is how a pool deadlocks under load). The org tree comes from the cached
//! snapshot when it is fresh and from the transaction otherwise.
//!
//! [`Ctx::save`] is the only way a record's change reaches the ledger: it writes ONE entry
//! whose change is the canonical diff of the record's stored fields before and after
//! ([`fazhi_ledger::diff`]) plus the step's payload (the clock effects among it), rewrites the
//! search document and its holders, and refuses an action the kind does not declare (so every
//! timeline line has a label). What a generated document prints is a field of its record,
//! so it is in the ledger: an edit in the database is caught by `ledger verify`.

use std::sync::Arc;

use fazhi_domain::access::{Holder, Permission, RecordRef, authorize, authorize_create};
use fazhi_domain::clock::Millis;
use fazhi_domain::record::{Kind, RecordKey};
use fazhi_domain::workflow::{ClockPlan, Responsible};
use fazhi_domain::{Day, OrgId, UserId};
use fazhi_ledger::Entry;
use fazhi_store::Tx;
use fazhi_store::search::{self as search_store, SearchDoc};
use serde_json::{Value, json};

use crate::ledger::Change;
use crate::lookup_cache::OrgTree;
use crate::org::By;
use crate::{App, AppError, AppResult};

/// A stored record as the kernel sees it: its kind and id, the fields the ledger vouches
/// for, its holders and its search text.
pub trait Record: serde::Serialize {
    /// The kind of the record.
    const KIND: &'static Kind;
    /// Stored fields the ledger does not cover (bookkeeping that changes on every save).
    const UNLEDGERED: &'static [&'static str] = &["updated_at"];

    /// The record's id.
    fn id(&self) -> i64;

    /// The node whose log records the record's changes (its street's or district's log).
    fn log_org(&self) -> OrgId;

    /// Everyone who holds the record, as `(node, owner)`; the first is the primary holder.
    fn holder_ids(&self) -> Vec<(OrgId, Option<UserId>)>;

    /// `(title, body)` of its search document, for a searchable kind.
    fn search_text(&self) -> Option<(String, String)> {
        None
    }

    /// The typed key.
    fn key(&self) -> RecordKey {
        RecordKey::new(Self::KIND, self.id())
    }

    /// The fields the ledger vouches for, as a JSON object.
    ///
    /// # Errors
    /// Serialisation failures (never for plain rows).
    fn ledger_view(&self) -> AppResult<Value> {
        let mut v = serde_json::to_value(self).map_err(|e| AppError::internal("record to JSON", e))?;
        if let Some(m) = v.as_object_mut() {
            for k in Self::UNLEDGERED {
                m.remove(*k);
            }
        }
        Ok(v)
    }
}

/// One use case in one transaction. See the module docs.
#[derive(Debug)]
pub struct Ctx<'a> {
    app: &'a App,
    tx: Tx,
    /// Who acts, and from where.
    pub by: By<'a>,
    /// Now, in unix milliseconds (the one clock, read once per use case).
    pub now: Millis,
    /// Today in Beijing.
    pub today: Day,
}

impl App {
    /// Opens a use case: one transaction for everything it reads and writes.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin<'a>(&'a self, by: &By<'a>) -> AppResult<Ctx<'a>> {
        let now = self.now();
        Ok(Ctx { app: self, tx: self.store.begin().await?, by: by.clone(), now, today: Day::at(now) })
    }
}

impl<'a> Ctx<'a> {
    /// The application (settings, segmenter, rules).
    pub fn app(&self) -> &'a App {
        self.app
    }

    /// The transaction, for the module's own store calls.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Commits everything the use case wrote.
    ///
    /// # Errors
    /// Database errors (then nothing was written).
    pub async fn commit(self) -> AppResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// The org tree: the cached snapshot while fresh, else read through this transaction.
    ///
    /// # Errors
    /// Database errors.
    pub async fn tree(&mut self) -> AppResult<Arc<OrgTree>> {
        if let Some(t) = self.app.lookups.tree(self.app.now()) {
            return Ok(t);
        }
        let nodes = fazhi_store::org::list_nodes(&mut self.tx, Some(&fazhi_domain::access::ScopeFilter::All)).await?;
        let kinds = fazhi_store::org::list_kinds(&mut self.tx).await?;
        Ok(Arc::new(OrgTree::new(nodes, &kinds)))
    }

    /// The policy's view of record `key`, read in this transaction.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when there is no such record (or its kind has no table).
    pub async fn holders(&mut self, key: RecordKey) -> AppResult<RecordRef> {
        let table = fazhi_store::record::table(key.kind).ok_or(AppError::NotFound(key.kind.label))?;
        let holders = fazhi_store::record::holders(&mut self.tx, table, key.id).await?;
        if holders.is_empty() {
            return Err(AppError::NotFound(key.kind.label));
        }
        Ok(RecordRef::of(key.kind, holders))
    }

    /// THE policy on record `key` for `perm` (any holder in scope).
    ///
    /// # Errors
    /// [`AppError::NotFound`], [`AppError::Forbidden`].
    pub async fn authorize(&mut self, key: RecordKey, perm: Permission) -> AppResult<RecordRef> {
        let rec = self.holders(key).await?;
        authorize(self.by.who, perm, &rec).into_result()?;
        Ok(rec)
    }

    /// May the actor create a record of `kind` held at node `at`? Returns the holder.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown node, [`AppError::Forbidden`].
    pub async fn authorize_create(&mut self, kind: &Kind, perm: Permission, at: OrgId) -> AppResult<Holder> {
        let tree = self.tree().await?;
        let holder = tree.holder(at.0, None).ok_or(AppError::NotFound("机构"))?;
        authorize_create(self.by.who, perm, kind.anchor, &holder).into_result()?;
        Ok(holder)
    }

    /// Appends an entry for `key` to the log of `org`, refusing an undeclared action.
    ///
    /// # Errors
    /// [`AppError::Internal`] for an action `key.kind` does not declare; database errors.
    pub async fn record(
        &mut self,
        key: RecordKey,
        org: OrgId,
        action: &'static str,
        change: Value,
    ) -> AppResult<Entry> {
        let c =
            Change { org, record_type: key.kind.code, record_id: key.id_text(), action, change, attachments: vec![] };
        let actor = self.by.actor();
        self.app.record(&mut self.tx, &actor, c).await
    }

    /// The save path (see the module docs): ONE entry with `diff(before, after)` and the
    /// payload, and the record's search document with all its holders. The caller has
    /// written the row itself (insert or update) in this transaction.
    ///
    /// # Errors
    /// See [`Ctx::record`].
    pub async fn save<R: Record>(
        &mut self,
        before: Option<&R>,
        after: &R,
        action: &'static str,
        payload: Value,
    ) -> AppResult<Entry> {
        let old = before.map(Record::ledger_view).transpose()?;
        let fields = fazhi_ledger::diff::diff(old.as_ref(), &after.ledger_view()?);
        let entry =
            self.record(after.key(), after.log_org(), action, fazhi_ledger::diff::change(fields, payload)).await?;
        // The search document changes only with its text or its holders (most steps change
        // neither: re-segmenting on every step would cost more than the step).
        let reindex = match before {
            None => true,
            Some(b) => b.search_text() != after.search_text() || b.holder_ids() != after.holder_ids(),
        };
        if R::KIND.searchable
            && reindex
            && let Some((title, body)) = after.search_text()
        {
            let tree = self.tree().await?;
            let holders: Vec<Holder> =
                after.holder_ids().into_iter().filter_map(|(o, u)| tree.holder(o.0, u)).collect();
            let doc = SearchDoc {
                kind: R::KIND,
                record_id: after.id().to_string(),
                holders: &holders,
                title,
                body,
                updated_at: self.now,
            };
            search_store::upsert_doc(&mut self.tx, &self.app.search, &doc).await?;
        }
        Ok(entry)
    }

    /// Applies a step's clock plan to record `key` (owned by `org`): completes, starts and
    /// extends clocks in this transaction. Returns the effects, for the step's ledger
    /// payload (`"clocks"`), so the one entry of the step covers its clocks.
    ///
    /// # Errors
    /// An unknown rule id, a clock the rules refuse to change; database errors.
    pub async fn apply_clocks(
        &mut self,
        key: RecordKey,
        org: OrgId,
        plan: &ClockPlan,
        responsible: impl Fn(Responsible) -> Option<UserId>,
    ) -> AppResult<Vec<Value>> {
        let mut effects = Vec::new();
        if plan.is_empty() {
            return Ok(effects);
        }
        // A plan that only starts clocks needs no look at the open ones.
        let rows = if plan.complete.is_empty() && plan.extend.is_none() {
            Vec::new()
        } else {
            fazhi_store::clocks::of_record(&mut self.tx, key.kind.code, &key.id_text()).await?
        };
        let open = |rule: &str| rows.iter().find(|r| r.rule_id == rule && !r.closed).cloned();
        for rule in &plan.complete {
            if let Some(row) = open(rule) {
                let on = plan.on.date();
                let effect = self
                    .app
                    .change_clock_row(&mut self.tx, &row, |c| {
                        c.completed_on = Some(on);
                        Ok(())
                    })
                    .await?;
                effects.push(json!({"complete": rule, "clock_id": row.id, "on": plan.on, "due": effect}));
            }
        }
        if let Some((rule, days, reason)) = &plan.extend
            && let Some(row) = open(rule)
        {
            let ext = fazhi_domain::deadline::Extension {
                length: *days,
                approved_by: self.by.who.user_id,
                approved_on: self.today.date(),
                reason: reason.clone(),
            };
            let due = self.app.change_clock_row(&mut self.tx, &row, |c| c.extend(ext)).await?;
            effects.push(json!({"extend": rule, "clock_id": row.id, "days": days, "due": due}));
        }
        for (rule, who) in &plan.start {
            let t = crate::clocks::ClockTarget {
                record_type: key.kind.code,
                record_id: key.id_text(),
                org,
                owner: responsible(*who),
            };
            let (id, due) = self.app.insert_clock(&mut self.tx, &t, rule, plan.on.date()).await?;
            effects.push(json!({"start": rule, "clock_id": id, "on": plan.on, "due": due}));
        }
        Ok(effects)
    }

    /// Tells users of a change to record `key` in their inbox (duplicates are not added).
    ///
    /// # Errors
    /// Database errors.
    pub async fn notify(&mut self, users: &[UserId], key: RecordKey, kind: &str, title: &str) -> AppResult<()> {
        for user in users {
            let n = fazhi_store::clocks::NewNotification {
                record: Some((key.kind.code, key.id_text())),
                user_id: user.0,
                clock_id: None,
                kind,
                title,
                body: "",
                link: "",
                urgency: 1,
            };
            fazhi_store::clocks::notify(&mut self.tx, &n, self.now).await?;
        }
        Ok(())
    }
}
