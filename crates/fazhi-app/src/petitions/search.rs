//! Finding items the way staff look for them (issue 14): by the petitioner's name (indexed
//! with the request), by 身份证号 or phone (the petitioner key, exact), by tracking code with
//! or without dashes (exact); each hit with the facts staff tell an item by.

use fazhi_domain::access::{Decision, Principal, authorize};
use fazhi_domain::identity::{CitizenId, Phone};
use fazhi_domain::petition::TrackingCode;
use fazhi_domain::record::PETITION;
use fazhi_store::petitions as store;
use fazhi_store::search::{MARK_END, MARK_START, SearchHit};

use super::petition_ref;
use crate::ctx::Record;
use crate::lookup_cache::OrgTree;
use crate::{App, AppResult};

/// The version of the text petitions are indexed with: 1 title and request, 2 with the
/// petitioners' names. Documents of an older version are rebuilt once at start.
pub const SEARCH_TEXT_VERSION: i64 = 2;

/// Items rebuilt per transaction.
const BATCH: i64 = 500;

/// Exact matches shown at most (a petitioner with many items).
const MAX_EXACT: usize = 20;

/// The names of the petitioners stored on an item (JSON objects with `name`).
pub(crate) fn petitioner_names(petitioners_json: &str) -> Vec<String> {
    serde_json::from_str::<Vec<serde_json::Value>>(petitioners_json)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned))
        .collect()
}

/// What a query names exactly, if anything: a tracking code, or a petitioner key (a valid
/// 身份证号 or phone, in its stored form) with the masked form to show.
enum Exact {
    Code(TrackingCode),
    Person { field: &'static str, key: String, shown: String },
}

fn exact(query: &str) -> Option<Exact> {
    let q = query.trim();
    if let Some(c) = TrackingCode::parse(q) {
        return Some(Exact::Code(c));
    }
    if let Ok(id) = CitizenId::parse("q", q) {
        return Some(Exact::Person {
            field: "id_number",
            shown: format!("身份证号 {}", id.masked()),
            key: id.as_str().to_owned(),
        });
    }
    // Digits with the usual separators only, so that words are never taken for a phone.
    let phone_like = q.chars().filter(char::is_ascii_digit).count() >= 7
        && q.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if phone_like && let Ok(p) = Phone::parse("q", q) {
        return Some(Exact::Person {
            field: "phone",
            shown: format!("电话 {}", p.as_str()),
            key: p.as_str().to_owned(),
        });
    }
    None
}

impl App {
    /// Items a query names exactly (tracking code, 身份证号, phone) that `who` may read,
    /// newest first; the identifier is shown marked, an ID number masked.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn petition_exact_hits(&self, who: &Principal, query: &str) -> AppResult<Vec<SearchHit>> {
        let Some(q) = exact(query) else { return Ok(Vec::new()) };
        let (rows, shown) = match q {
            Exact::Code(c) => {
                let row = store::by_code(&self.store.read, c.as_str()).await?;
                (row.into_iter().collect::<Vec<_>>(), format!("查询码 {}", c.display()))
            }
            Exact::Person { field, key, shown } => {
                // Read past what one reader may see: the scope is applied below, row by row.
                (store::by_identifier(&self.store.read, field, &key, 200).await?, shown)
            }
        };
        let tree = self.org_snapshot().await?;
        Ok(rows
            .into_iter()
            .filter(|r| authorize(who, PETITION.read, &petition_ref(&tree, r)) == Decision::Allow)
            .take(MAX_EXACT)
            .map(|r| SearchHit {
                module: PETITION.module.code().to_owned(),
                record_type: PETITION.code.to_owned(),
                record_id: r.id.to_string(),
                org_id: r.org_id,
                title: r.title.clone(),
                snippet: format!("{MARK_START}{shown}{MARK_END}"),
                score: f64::MAX,
                updated_at: r.updated_at,
                facts: String::new(),
            })
            .collect())
    }

    /// Fills in the facts of the petition hits (编号, 收到日期, state, community), reading
    /// the items in one query.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn petition_hit_facts(&self, hits: &mut [SearchHit]) -> AppResult<()> {
        let ids: Vec<i64> =
            hits.iter().filter(|h| h.record_type == PETITION.code).filter_map(|h| h.record_id.parse().ok()).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let rows = fazhi_store::petition_facts::facts_of(&self.store.read, &ids).await?;
        let tree = self.org_snapshot().await?;
        for h in hits.iter_mut().filter(|h| h.record_type == PETITION.code) {
            if let Some(row) = rows.iter().find(|r| r.id.to_string() == h.record_id) {
                h.facts = facts(&tree, row);
            }
        }
        Ok(())
    }

    /// Rebuilds the search documents of every item indexed with an older text version
    /// ([`SEARCH_TEXT_VERSION`]), once per installation, in batches. Returns the items
    /// rebuilt.
    ///
    /// # Errors
    /// Database errors (the version is recorded only when every item was rebuilt).
    pub async fn reindex_petitions_if_stale(&self) -> AppResult<u64> {
        if fazhi_store::search::text_version(&self.store.read, PETITION.code).await? >= SEARCH_TEXT_VERSION {
            return Ok(0);
        }
        let (mut after, mut n) = (0i64, 0u64);
        loop {
            let rows = store::batch_after(&self.store.read, after, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.id) else { break };
            let tree = self.org_snapshot().await?;
            let mut tx = self.store.begin().await?;
            for row in &rows {
                let Some((title, body)) = row.search_text() else { continue };
                let holders: Vec<_> = row.holder_ids().into_iter().filter_map(|(o, u)| tree.holder(o.0, u)).collect();
                let doc = fazhi_store::search::SearchDoc {
                    kind: &PETITION,
                    record_id: row.id.to_string(),
                    holders: &holders,
                    title,
                    body,
                    updated_at: row.updated_at,
                };
                fazhi_store::search::upsert_doc(&mut tx, &self.search, &doc).await?;
                n += 1;
            }
            tx.commit().await?;
            after = last;
        }
        let mut tx = self.store.begin().await?;
        fazhi_store::search::set_text_version(&mut tx, PETITION.code, SEARCH_TEXT_VERSION).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// "编号 450 · 收到 2026-09-21 · 已受理 · 万兴里社区".
fn facts(tree: &OrgTree, r: &fazhi_store::petition_facts::PetitionFacts) -> String {
    let place = r.handler_org_id.or(r.community_id).unwrap_or(r.org_id);
    let place = tree.get(place).map_or_else(String::new, |n| format!(" · {}", n.name));
    format!("编号 {} · 收到 {} · {}{place}", r.id, r.received_on, r.state.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_query_names_exactly() {
        assert!(
            matches!(exact("11010519491231002X"), Some(Exact::Person { ref shown, .. }) if shown == "身份证号 1101**********002X")
        );
        assert!(matches!(exact("138 0013 8000"), Some(Exact::Person { ref key, .. }) if key == "13800138000"));
        assert!(matches!(exact("022-23456789"), Some(Exact::Person { ref key, .. }) if key == "022-23456789"));
        assert!(exact("物业").is_none() && exact("12345热线").is_none() && exact("2026").is_none());
        assert_eq!(petitioner_names(r#"[{"name":"张三"},{"name":" "},{"phone":"1"}]"#), vec!["张三".to_owned()]);
    }
}
