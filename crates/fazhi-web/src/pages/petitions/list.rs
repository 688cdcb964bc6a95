//! The list of items: filters, paging.

use super::*;

#[derive(Template)]
#[template(path = "pages/petitions.html")]
pub(super) struct ListPage {
    chrome: Chrome,
    lines: Vec<Line>,
    total: i64,
    can_handle: bool,
    q: ListQuery,
    states: Vec<Choice>,
    channels: Vec<Choice>,
    communities: Vec<(i64, String)>,
    backlog_days: u32,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub(super) struct ListQuery {
    state: String,
    channel: String,
    category: String,
    community: String,
    /// "1": only items with a 红牌 clock.
    overdue: String,
    /// "any": items a leader owns; "mine": items I own.
    lead: String,
    /// "1": 积案 only.
    backlog: String,
    page: String,
    /// `?done=` notice of a redirect.
    done: String,
}

impl ListQuery {
    fn is(&self, field: &str, v: impl AsRef<str>) -> bool {
        let cur = match field {
            "state" => &self.state,
            "channel" => &self.channel,
            "category" => &self.category,
            "lead" => &self.lead,
            _ => &self.community,
        };
        cur == v.as_ref()
    }

    fn community_is<T: std::borrow::Borrow<i64>>(&self, id: T) -> bool {
        form_id(&self.community) == Some(*id.borrow())
    }

    fn link(&self, page: i64) -> String {
        let pairs = [
            ("state", &self.state),
            ("channel", &self.channel),
            ("category", &self.category),
            ("community", &self.community),
            ("overdue", &self.overdue),
            ("lead", &self.lead),
            ("backlog", &self.backlog),
        ];
        let mut out: Vec<String> =
            pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", urlencode(v))).collect();
        out.push(format!("page={page}"));
        format!("/petitions?{}", out.join("&"))
    }
}

pub(super) fn urlencode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rows per list page (the issue-6 benchmark measures this page: 20 rows, default filters).
pub(super) const PAGE: i64 = 20;

pub(super) async fn list(State(state): State<AppState>, Staff(s): Staff, Query(q): Query<ListQuery>) -> PageResult {
    let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    let page = q.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let offered = state.app.petition_communities(&s.principal).await?;
    let communities: Vec<(i64, String)> = offered.iter().map(|(id, name, _)| (*id, name.clone())).collect();
    // A community that is not offered (another street's, or a typo) matches nothing.
    let (community_path, none) = match form_id(&q.community) {
        Some(id) => match offered.iter().find(|(c, _, _)| *c == id) {
            Some((_, _, range)) => (Some(range.clone()), false),
            None => (None, true),
        },
        None => (None, !q.community.trim().is_empty()),
    };
    let filter = PetitionQuery {
        state: opt(&q.state),
        channel: opt(&q.channel),
        category: opt(&q.category),
        community_path,
        overdue: q.overdue == "1",
        lead: match q.lead.as_str() {
            "any" => Some(None),
            "mine" => Some(Some(s.principal.user_id.0)),
            _ => None,
        },
        backlog_before: (q.backlog == "1").then(|| state.app.backlog_cutoff().to_string()),
        limit: PAGE,
        offset: (page - 1) * PAGE,
        ids: none.then(Vec::new),
        ..Default::default()
    };
    let rows = state.app.petitions(&s.principal, &filter).await?;
    let total = state.app.count_petitions(&s.principal, &filter).await?;
    render(&ListPage {
        chrome: Chrome::new(&s, "信访件", "/petitions").with_notice(Some(q.done.as_str())),
        lines: rows.iter().map(line).collect(),
        total,
        can_handle: s.principal.has(PETITION_HANDLE),
        states: PState::ALL.iter().map(|x| Choice { code: x.code(), label: x.label() }).collect(),
        channels: Channel::ALL.iter().map(|c| Choice { code: c.code(), label: c.label() }).collect(),
        communities,
        backlog_days: state.app.petition_backlog_days,
        prev: (page > 1).then(|| q.link(page - 1)),
        next: (page * PAGE < total).then(|| q.link(page + 1)),
        q,
    })
}
