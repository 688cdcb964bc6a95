//! Lookups nearly every request repeats — the session (user, roles; not the inbox count, which
//! is read fresh), the API
//! token, the org tree — kept for a moment, so that a page pays for its own data only.
//! (With SQLite every query is a round trip to a connection's worker thread; on the list
//! page those hand-offs cost more than the queries.)
//!
//! Correctness: an entry lives at most [`LOOKUP_CACHE_MS`] (by the app's one clock) and every
//! change this process makes to users, roles, org nodes, tokens or sessions drops the whole
//! cache at once (a logout, a disabled user or a role change takes effect on the next
//! request). A change made by ANOTHER server process in front of the same database takes
//! effect within [`LOOKUP_CACHE_MS`] — the bound accepted for a multi-instance deployment.

use std::collections::HashMap;
use std::sync::Mutex;

use std::sync::Arc;

use fazhi_domain::access::Principal;
use fazhi_domain::clock::Millis;
use fazhi_store::org::OrgRow;

use crate::auth::SessionInfo;
use fazhi_domain::TokenId;

/// The leaders of one government body: (user id, name).
pub type Leaders = Arc<Vec<(i64, String)>>;

/// How long a resolved session or token is reused.
pub const LOOKUP_CACHE_MS: Millis = 2_000;
/// More entries than this and the cache starts afresh (bounded memory under many users).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Clone)]
struct Cached<T> {
    at: Millis,
    value: T,
}

#[derive(Debug, Default)]
struct Maps {
    sessions: HashMap<String, Cached<SessionInfo>>,
    tokens: HashMap<String, Cached<(TokenId, Principal)>>,
    tree: Option<Cached<Arc<OrgTree>>>,
    /// Leaders (supervise permission) of a government body, by its node id.
    leaders: HashMap<i64, Cached<Leaders>>,
}

/// Every org node, in path order, with an index by id, and which node kinds are government
/// bodies (their kind keeps a log: 街道/乡镇/区 by default; kinds are data).
#[derive(Debug, Default)]
pub struct OrgTree {
    pub nodes: Vec<OrgRow>,
    by_id: HashMap<i64, usize>,
    government_kinds: Vec<String>,
}

impl OrgTree {
    /// The tree of `nodes`; `kinds` says which kinds are government bodies.
    pub fn new(nodes: Vec<OrgRow>, kinds: &[fazhi_domain::org::OrgKind]) -> Self {
        let by_id = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        let government_kinds = kinds.iter().filter(|k| k.keeps_log).map(|k| k.code.clone()).collect();
        Self { nodes, by_id, government_kinds }
    }

    pub fn get(&self, id: i64) -> Option<&OrgRow> {
        self.by_id.get(&id).map(|i| &self.nodes[*i])
    }

    /// Whether a node is a government body (its kind keeps a log).
    pub fn is_government(&self, n: &OrgRow) -> bool {
        self.government_kinds.contains(&n.kind)
    }

    /// The government bodies at or above node `id`, nearest first.
    pub fn governments_above(&self, id: i64) -> Vec<&OrgRow> {
        let Some(node) = self.get(id) else { return Vec::new() };
        node.org_path()
            .ids()
            .into_iter()
            .rev()
            .filter_map(|o| self.get(o.0))
            .filter(|n| self.is_government(n))
            .collect()
    }

    /// The holder of node `id` as the policy sees it.
    pub fn holder(&self, id: i64, owner: Option<fazhi_domain::UserId>) -> Option<fazhi_domain::access::Holder> {
        self.get(id).map(|n| fazhi_domain::access::Holder {
            org_id: fazhi_domain::OrgId(n.id),
            org_path: n.org_path(),
            owner,
        })
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct LookupCache {
    maps: Mutex<Maps>,
    /// Held by the one request that reloads the org tree (single flight: at city scale the
    /// tree is 7,500 nodes, and 64 requests reloading it at once stalled pages for seconds).
    pub(crate) tree_reload: tokio::sync::Mutex<()>,
}

fn fresh<T: Clone>(c: Option<&Cached<T>>, now: Millis) -> Option<T> {
    c.filter(|c| now >= c.at && now - c.at < LOOKUP_CACHE_MS).map(|c| c.value.clone())
}

impl LookupCache {
    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        // A panic while holding the lock cannot leave the maps inconsistent (single inserts).
        self.maps.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn session(&self, token_hash: &str, now: Millis) -> Option<SessionInfo> {
        fresh(self.maps().sessions.get(token_hash), now)
    }

    pub fn put_session(&self, token_hash: &str, now: Millis, value: SessionInfo) {
        let mut m = self.maps();
        if m.sessions.len() >= MAX_ENTRIES {
            m.sessions.clear();
        }
        m.sessions.insert(token_hash.to_owned(), Cached { at: now, value });
    }

    pub fn token(&self, token_hash: &str, now: Millis) -> Option<(TokenId, Principal)> {
        fresh(self.maps().tokens.get(token_hash), now)
    }

    pub fn put_token(&self, token_hash: &str, now: Millis, value: (TokenId, Principal)) {
        let mut m = self.maps();
        if m.tokens.len() >= MAX_ENTRIES {
            m.tokens.clear();
        }
        m.tokens.insert(token_hash.to_owned(), Cached { at: now, value });
    }

    pub fn tree(&self, now: Millis) -> Option<Arc<OrgTree>> {
        fresh(self.maps().tree.as_ref(), now)
    }

    /// The last snapshot whatever its age (`None` after an invalidation): served while one
    /// request reloads an expired one. Changes made by this process drop it, so a stale
    /// snapshot is at most one reload older than a change made by another process.
    pub fn stale_tree(&self) -> Option<Arc<OrgTree>> {
        self.maps().tree.as_ref().map(|c| c.value.clone())
    }

    pub fn put_tree(&self, now: Millis, tree: Arc<OrgTree>) {
        self.maps().tree = Some(Cached { at: now, value: tree });
    }

    /// The cached leaders of government body `gov` (user id, name).
    pub fn leaders(&self, gov: i64, now: Millis) -> Option<Leaders> {
        fresh(self.maps().leaders.get(&gov), now)
    }

    pub fn put_leaders(&self, gov: i64, now: Millis, value: Leaders) {
        let mut m = self.maps();
        if m.leaders.len() >= MAX_ENTRIES {
            m.leaders.clear();
        }
        m.leaders.insert(gov, Cached { at: now, value });
    }

    /// Drops everything: called after any change to who may do what, or where.
    pub fn invalidate(&self) {
        let mut m = self.maps();
        m.sessions.clear();
        m.tokens.clear();
        m.tree = None;
        m.leaders.clear();
    }
}
