//! The business records and the rows that belong to them: 转送/交办 of a petition, 调解工作
//! 记录 of a case, 调解员 of a committee, and every attachment. A child row is written by one
//! step of its record, and that step's entry states the row (`payload.transfer`,
//! `payload.session`, `payload.mediator`; an attachment's id, file and columns): the row
//! must be there, as stated. Entries of older versions that state no row id are counted,
//! and then the number of rows must match.

use std::collections::HashMap;

use fazhi_domain::record::{MEDIATION, MEDIATION_COMMITTEE, PETITION, RECEPTION, RECEPTION_DAY};
use fazhi_store::Tx;
use fazhi_store::attachments::AttachmentRow;
use fazhi_store::mediation::{self as med_store, CaseRow, CommitteeRow};
use fazhi_store::petitions::{self as pet_store, PetitionRow};
use fazhi_store::receptions as rec_store;
use fazhi_store::reconcile::{self as store, EntryFacts};
use serde_json::{Map, Value, json};

use super::{Acc, BATCH, Entries, ExpectedAttachment, Pass, RecordProblem, object};
use crate::ctx::Record;
use crate::{App, AppError, AppResult};

/// Problem labels of the child tables.
const TRANSFER: &str = "转送交办记录（petition_transfer）";
const SESSION: &str = "调解工作记录（mediation_session）";
const MEDIATOR: &str = "调解员（mediator）";
const ATTACHMENT: &str = "附件（attachment）";

/// Child rows by their record's id: `(row id, columns)`.
type ByParent = HashMap<i64, Vec<(i64, Map<String, Value>)>>;

/// The steps that write a `petition_transfer` row, one each.
const TRANSFER_ACTIONS: &[&str] = &["petition.assign", "petition.transfer", "petition.objection"];

/// A child row as the entry that wrote it states it: its id (entries of older versions may
/// name none) and the columns it vouches for.
#[derive(Debug, Default)]
struct Stated {
    id: Option<i64>,
    fields: Map<String, Value>,
}

impl Stated {
    /// From a stated row object (`{"id": …, columns …}`).
    fn row(v: &Value) -> Self {
        let mut fields = object(v.clone());
        let id = fields.remove("id").and_then(|v| v.as_i64());
        Self { id, fields }
    }
}

/// Compares the child rows of one record (`(id, columns)`) with what its entries state.
fn check_children(
    label: &'static str,
    parent: impl Fn() -> String,
    rows: Vec<(i64, Map<String, Value>)>,
    stated: Vec<Stated>,
    acc: &mut Acc,
) {
    let mut rows: HashMap<i64, Map<String, Value>> = rows.into_iter().collect();
    let mut unnamed = 0;
    for s in stated {
        let Some(id) = s.id else {
            unnamed += 1;
            continue;
        };
        match rows.remove(&id) {
            None => acc.problem(RecordProblem::Deleted { label, id: id.to_string() }),
            Some(row) => {
                let null = Value::Null;
                let mut differ: Vec<&str> = s
                    .fields
                    .iter()
                    .filter(|(k, v)| row.get(k.as_str()).unwrap_or(&null) != *v)
                    .map(|(k, _)| k.as_str())
                    .collect();
                differ.sort_unstable();
                if !differ.is_empty() {
                    acc.problem(RecordProblem::Altered { label, id, fields: differ.join("、") });
                }
            }
        }
    }
    if rows.len() != unnamed {
        if unnamed == 0 {
            let mut extra: Vec<i64> = rows.into_keys().collect();
            extra.sort_unstable();
            for id in extra {
                acc.problem(RecordProblem::Unrecorded { label, id });
            }
        } else {
            acc.problem(RecordProblem::Count { label, parent: parent(), stored: rows.len(), recorded: unnamed });
        }
    }
}

/// A row's columns as JSON, without those in `drop`.
fn columns<T: serde::Serialize>(row: &T, drop: &[&str]) -> AppResult<Map<String, Value>> {
    let mut m = object(serde_json::to_value(row).map_err(|e| AppError::internal("row to JSON", e))?);
    for k in drop {
        m.remove(*k);
    }
    Ok(m)
}

fn entries_for(entries: &Entries, id: i64) -> &[EntryFacts] {
    entries.get(&id.to_string()).map_or(&[][..], Vec::as_slice)
}

/// The transfers of a batch of petitions against their transfer steps' entries.
async fn transfers(tx: &mut Tx, rows: &[PetitionRow], entries: &Entries, acc: &mut Acc) -> AppResult<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_parent: ByParent = HashMap::new();
    for t in store::transfers_of(tx, &ids).await? {
        by_parent.entry(t.petition_id).or_default().push((t.id, columns(&t, &["id"])?));
    }
    for id in ids {
        let stated = entries_for(entries, id)
            .iter()
            .filter(|e| TRANSFER_ACTIONS.contains(&e.action.as_str()))
            .map(|e| e.change.pointer("/payload/transfer").map(Stated::row).unwrap_or_default())
            .collect();
        let rows = by_parent.remove(&id).unwrap_or_default();
        check_children(TRANSFER, || format!("{} {id}", PETITION.label), rows, stated, acc);
    }
    Ok(())
}

/// The 调解工作记录 of a batch of cases against their `mediation.session` entries.
async fn sessions(tx: &mut Tx, rows: &[CaseRow], entries: &Entries, acc: &mut Acc) -> AppResult<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_parent: ByParent = HashMap::new();
    for s in store::sessions_of(tx, &ids).await? {
        by_parent.entry(s.case_id).or_default().push((s.id, columns(&s, &["id"])?));
    }
    for id in ids {
        let stated = entries_for(entries, id)
            .iter()
            .filter(|e| e.action == "mediation.session")
            .map(|e| e.change.pointer("/payload/session").map(Stated::row).unwrap_or_default())
            .collect();
        let rows = by_parent.remove(&id).unwrap_or_default();
        check_children(SESSION, || format!("{} {id}", MEDIATION.label), rows, stated, acc);
    }
    Ok(())
}

/// The mediators of a batch of committees against their `mediation.mediator` entries
/// (older ones state the id and the name).
async fn mediators(tx: &mut Tx, rows: &[CommitteeRow], entries: &Entries, acc: &mut Acc) -> AppResult<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_parent: ByParent = HashMap::new();
    for m in med_store::mediators(&mut *tx, &ids).await? {
        by_parent.entry(m.committee_id).or_default().push((m.id, columns(&m, &["id"])?));
    }
    for id in ids {
        let stated = entries_for(entries, id)
            .iter()
            .filter(|e| e.action == "mediation.mediator")
            .map(|e| match e.change.pointer("/payload/mediator").filter(|m| m.is_object()) {
                Some(m) => Stated::row(m),
                None => {
                    let p = e.change.get("payload").cloned().unwrap_or(Value::Null);
                    Stated::row(&json!({"id": p.get("mediator_id"), "name": p.get("name")}))
                }
            })
            .collect();
        let rows = by_parent.remove(&id).unwrap_or_default();
        check_children(MEDIATOR, || format!("{} {id}", MEDIATION_COMMITTEE.label), rows, stated, acc);
    }
    Ok(())
}

/// The business records with their child rows.
pub(super) async fn records(tx: &mut Tx, acc: &mut Acc) -> AppResult<()> {
    fn view<R: Record>(r: &R) -> AppResult<(i64, Value)> {
        Ok((r.id(), r.ledger_view()?))
    }
    App::reconcile_kind(
        tx,
        Pass::of(&PETITION),
        acc,
        async |t: &mut Tx, a| Ok(pet_store::batch_after(t, a, BATCH).await?),
        view::<PetitionRow>,
        async |t: &mut Tx, rows: &[PetitionRow], es: &Entries, acc: &mut Acc| transfers(t, rows, es, acc).await,
    )
    .await?;
    App::reconcile_kind(
        tx,
        Pass::of(&MEDIATION),
        acc,
        async |t: &mut Tx, a| Ok(med_store::cases_after(t, a, BATCH).await?),
        view::<CaseRow>,
        async |t: &mut Tx, rows: &[CaseRow], es: &Entries, acc: &mut Acc| sessions(t, rows, es, acc).await,
    )
    .await?;
    App::reconcile_kind(
        tx,
        Pass::of(&MEDIATION_COMMITTEE),
        acc,
        async |t: &mut Tx, a| Ok(store::committees_after(t, a, BATCH).await?),
        view::<CommitteeRow>,
        async |t: &mut Tx, rows: &[CommitteeRow], es: &Entries, acc: &mut Acc| mediators(t, rows, es, acc).await,
    )
    .await?;
    let days = async |t: &mut Tx, a| Ok(rec_store::days_after(t, a, BATCH).await?);
    let none = async |_: &mut Tx, _: &[_], _: &Entries, _: &mut Acc| Ok(());
    App::reconcile_kind(tx, Pass::of(&RECEPTION_DAY), acc, days, view::<rec_store::DayRow>, none).await?;
    let receptions = async |t: &mut Tx, a| Ok(rec_store::receptions_after(t, a, BATCH).await?);
    let none = async |_: &mut Tx, _: &[_], _: &Entries, _: &mut Acc| Ok(());
    App::reconcile_kind(tx, Pass::of(&RECEPTION), acc, receptions, view::<rec_store::ReceptionRow>, none).await
}

/// What the entry of an attachment states about its row.
fn stated_attachment(x: &ExpectedAttachment) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("record_type".into(), json!(x.record_type));
    m.insert("record_id".into(), json!(x.record_id));
    if let Some(f) = &x.file {
        m.insert("blob_hash".into(), json!(f.hash));
        m.insert("name".into(), json!(f.name));
        m.insert("size".into(), json!(f.size));
        m.insert("mime".into(), json!(f.mime));
    }
    // Entries of older versions state the uploader as the actor, and no node or time.
    m.insert("uploaded_by".into(), x.change.get("uploaded_by").cloned().unwrap_or(json!(x.actor_id)));
    for k in ["org_id", "uploaded_at"] {
        if let Some(v) = x.change.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    m
}

/// The `attachment.add` entry of attachment `row`, looked up through its record (for a
/// record no pass read: one deleted, or of a kind without a table).
async fn attachment_entry(tx: &mut Tx, row: &AttachmentRow) -> AppResult<Option<ExpectedAttachment>> {
    let Some(kind) = fazhi_domain::record::kind(&row.record_type) else { return Ok(None) };
    let entries = store::entries_of(tx, kind.code, std::slice::from_ref(&row.record_id)).await?;
    Ok(entries
        .into_iter()
        .find(|e| e.action == "attachment.add" && e.change.get("attachment_id").and_then(Value::as_i64) == Some(row.id))
        .map(|e| ExpectedAttachment {
            record_type: kind.code,
            record_id: e.record_id,
            actor_id: e.actor_id,
            file: e.attachments.into_iter().next(),
            change: e.change,
        }))
}

/// Every attachment row against its `attachment.add` entry: its record, its file (the blob
/// hash, so a row repointed at another stored file is caught), name, size and type, its
/// uploader (and, from this version on, its node and time). Entries whose row is gone are
/// reported as deleted.
pub(super) async fn attachments(tx: &mut Tx, acc: &mut Acc) -> AppResult<()> {
    let mut after = 0;
    loop {
        let rows = store::attachments_after(tx, after, BATCH).await?;
        let Some(last) = rows.last().map(|r| r.id) else { break };
        for row in &rows {
            let expected = match acc.attachments.remove(&row.id) {
                Some(x) => Some(x),
                None => attachment_entry(tx, row).await?,
            };
            let Some(x) = expected else {
                acc.problem(RecordProblem::Unrecorded { label: ATTACHMENT, id: row.id });
                continue;
            };
            let stored = columns(
                &json!({"record_type": row.record_type, "record_id": row.record_id, "blob_hash": row.blob_hash,
                    "name": row.name, "size": row.size, "mime": row.mime, "uploaded_by": row.uploaded_by,
                    "org_id": row.org_id, "uploaded_at": row.uploaded_at}),
                &[],
            )?;
            let null = Value::Null;
            let mut differ: Vec<String> = stated_attachment(&x)
                .into_iter()
                .filter(|(k, v)| stored.get(k.as_str()).unwrap_or(&null) != v)
                .map(|(k, _)| k)
                .collect();
            differ.sort_unstable();
            if !differ.is_empty() {
                acc.problem(RecordProblem::Altered { label: ATTACHMENT, id: row.id, fields: differ.join("、") });
            }
        }
        acc.report.checked += rows.len() as u64;
        after = last;
    }
    let mut gone: Vec<i64> = acc.attachments.drain().map(|(id, _)| id).collect();
    gone.sort_unstable();
    for id in gone {
        acc.problem(RecordProblem::Deleted { label: ATTACHMENT, id: id.to_string() });
    }
    Ok(())
}
