//! The access tables against the ledger: accounts with their role grants, custom roles with
//! their permissions (built-in ones against the program's definition), API tokens, and the
//! org tree with its webhooks and derived paths. Their views are in [`super::views`].

use std::collections::HashMap;

use fazhi_domain::access::builtin_roles;
use fazhi_domain::record::{API_TOKEN, ORG_NODE, ROLE, USER};
use fazhi_store::Tx;
use fazhi_store::reconcile::{self as store, NodeRecord, RoleRecord};
use serde_json::Value;

use super::views::{NodeView, RoleView, TokenView, UserView, to_json};
use super::{Acc, BATCH, Entries, Pass, RecordProblem};
use crate::{App, AppResult};

const USERS: Pass = Pass { kind: &USER, label: "用户（app_user）", deletes: &[] };
const ROLES: Pass = Pass { kind: &ROLE, label: "角色（role）", deletes: &[] };
const TOKENS: Pass = Pass { kind: &API_TOKEN, label: "接口令牌（api_token）", deletes: &[] };
const NODES: Pass = Pass { kind: &ORG_NODE, label: "机构（org_node）", deletes: &["org.delete"] };

/// The fields of a built-in role that differ from the program's definition (`code` when
/// the program defines no built-in role of its code: a forged one).
fn not_as_built(r: &RoleRecord) -> Vec<&'static str> {
    let Some(def) = builtin_roles().into_iter().find(|b| b.code == r.code) else { return vec!["code"] };
    let mut perms: Vec<String> = def.permissions.iter().map(|p| p.code().to_owned()).collect();
    perms.sort_unstable();
    perms.dedup();
    let mut differ = Vec::new();
    if r.name != def.name {
        differ.push("name");
    }
    if r.description != def.description {
        differ.push("description");
    }
    if r.scope != def.scope.code() {
        differ.push("scope");
    }
    if r.permissions != perms {
        differ.push("permissions");
    }
    differ
}

/// Each node's stored `path` against the path its parents give it (`/root/…/id/`).
fn check_paths(nodes: &[(i64, Option<i64>, String)], acc: &mut Acc) {
    let parent: HashMap<i64, Option<i64>> = nodes.iter().map(|(id, p, _)| (*id, *p)).collect();
    for (id, _, stored) in nodes {
        // Ancestors from the node up; a cycle or a missing parent leaves no valid path.
        let mut chain = vec![*id];
        let mut at = parent.get(id).copied().flatten();
        while let Some(p) = at {
            if chain.contains(&p) || chain.len() > nodes.len() {
                break;
            }
            chain.push(p);
            at = parent.get(&p).copied().flatten();
        }
        let expected: String = chain.iter().rev().fold("/".to_owned(), |s, i| format!("{s}{i}/"));
        if *stored != expected {
            acc.problem(RecordProblem::Altered { label: NODES.label, id: *id, fields: "path".into() });
        }
    }
}

/// Accounts, roles, tokens and org nodes (see the module docs).
pub(super) async fn records(tx: &mut Tx, acc: &mut Acc) -> AppResult<()> {
    let none = async |_: &mut Tx, _: &[_], _: &Entries, _: &mut Acc| Ok(());
    App::reconcile_kind(
        tx,
        USERS,
        acc,
        async |t: &mut Tx, a| Ok(store::users_after(t, a, BATCH).await?),
        |u| Ok((u.id, to_json(&UserView::from(u))?)),
        none,
    )
    .await?;
    let mut custom = Vec::new();
    let mut after = 0;
    loop {
        let batch = store::roles_after(tx, after, BATCH).await?;
        let Some(last) = batch.last().map(|r| r.id) else { break };
        for r in batch {
            if r.builtin {
                let differ = not_as_built(&r);
                if !differ.is_empty() {
                    acc.problem(RecordProblem::NotAsBuilt { label: ROLES.label, id: r.id, fields: differ.join("、") });
                }
                acc.report.checked += 1;
            } else {
                custom.push(r);
            }
        }
        after = last;
    }
    let custom = &custom;
    App::reconcile_kind(
        tx,
        ROLES,
        acc,
        async |_: &mut Tx, a| Ok(custom.iter().filter(|r| r.id > a).take(BATCH as usize).cloned().collect()),
        |r: &RoleRecord| Ok((r.id, to_json(&RoleView::from(r))?)),
        async |_: &mut Tx, _: &[RoleRecord], _: &Entries, _: &mut Acc| Ok(()),
    )
    .await?;
    App::reconcile_kind(
        tx,
        TOKENS,
        acc,
        async |t: &mut Tx, a| Ok(store::tokens_after(t, a, BATCH).await?),
        |t| Ok((t.id, to_json(&TokenView::from(t))?)),
        async |_: &mut Tx, _: &[_], _: &Entries, _: &mut Acc| Ok(()),
    )
    .await?;
    let mut paths = Vec::new();
    App::reconcile_kind(
        tx,
        NODES,
        acc,
        async |t: &mut Tx, a| Ok(store::nodes_after(t, a, BATCH).await?),
        |n: &NodeRecord| -> AppResult<(i64, Value)> { Ok((n.id, to_json(&NodeView::from(n))?)) },
        async |_: &mut Tx, rows: &[NodeRecord], _: &Entries, _: &mut Acc| {
            paths.extend(rows.iter().map(|n| (n.id, n.parent_id, n.path.clone())));
            Ok(())
        },
    )
    .await?;
    check_paths(&paths, acc);
    Ok(())
}
