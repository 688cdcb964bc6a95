//! The organisation tree: 区 -> 街道/乡镇 -> 科室 | 社区/村 -> 网格.
//!
//! Node kinds are data ([`OrgKind`]): each kind says which kinds may be its parent, so an
//! installation can add, say, 片区 without code. A node's position is kept as a
//! materialised path (`/1/5/12/`), which is what the data-scope policy compares: "本级及下级"
//! of node 5 is every node whose path starts with `/1/5/`.

use crate::validation::{FieldError, bounded_text};
use crate::{FieldErrors, OrgId};

/// Maximum length of an org node name, in characters.
pub const ORG_NAME_MAX: usize = 50;

/// Maximum length of an org node's full official name (发文机关署名), in characters.
pub const ORG_OFFICIAL_NAME_MAX: usize = 50;

/// One kind of org node, as stored in the `org_kind` table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgKind {
    /// Stable code (`district`, `street`, `department` ...).
    pub code: String,
    /// Chinese label (区, 街道 ...).
    pub label: String,
    /// Codes of the kinds this kind may sit under; empty = may be a root.
    pub parent_kinds: Vec<String>,
    /// Whether a node of this kind keeps its own record log (街道/乡镇, and the 区 for
    /// district-level records): the "street" a record belongs to for the ledger.
    pub keeps_log: bool,
    pub sort_order: i64,
}

/// The kinds every installation starts with (seeded by the first migration).
pub fn builtin_kinds() -> Vec<OrgKind> {
    let k = |code: &str, label: &str, parents: &[&str], keeps_log: bool, sort_order: i64| OrgKind {
        code: code.into(),
        label: label.into(),
        parent_kinds: parents.iter().map(|s| (*s).to_owned()).collect(),
        keeps_log,
        sort_order,
    };
    vec![
        k("district", "区", &[], true, 10),
        k("street", "街道", &["district"], true, 20),
        k("township", "乡镇", &["district"], true, 30),
        k("department", "科室", &["district", "street", "township"], false, 40),
        k("community", "社区", &["street", "township"], false, 50),
        k("village", "村", &["township"], false, 60),
        k("grid", "网格", &["community", "village"], false, 70),
    ]
}

/// The materialised path of a node: `/` + ancestor ids + own id, each followed by `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root(id: OrgId) -> Self {
        Self(format!("/{id}/"))
    }

    pub fn child(&self, id: OrgId) -> Self {
        Self(format!("{}{id}/", self.0))
    }

    /// Parses a stored path, checking its shape.
    pub fn parse(s: &str) -> Option<Self> {
        let inner = s.strip_prefix('/')?.strip_suffix('/')?;
        if inner.is_empty() || !inner.split('/').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Some(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &OrgPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// Ids from the root down to this node.
    pub fn ids(&self) -> Vec<OrgId> {
        self.0.trim_matches('/').split('/').filter_map(|p| p.parse().ok()).map(OrgId).collect()
    }

    pub fn depth(&self) -> usize {
        self.ids().len()
    }

    /// The half-open range `[lo, hi)` of paths that lie within this one, in byte order.
    /// `/` (0x2F) is followed by `0` (0x30), so every descendant path sorts below `hi`.
    /// Engines compare it with the C/binary collation (PostgreSQL column is `COLLATE "C"`).
    pub fn subtree_range(&self) -> (String, String) {
        let mut hi = self.0.clone();
        hi.pop();
        hi.push('0');
        (self.0.clone(), hi)
    }

    /// The path of this subtree re-rooted: `old` prefix replaced by `new` prefix.
    pub fn rebase(&self, old: &OrgPath, new: &OrgPath) -> Option<OrgPath> {
        self.0.strip_prefix(&old.0).map(|rest| OrgPath(format!("{}{rest}", new.0)))
    }
}

/// A node of the tree as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgNode {
    pub id: OrgId,
    pub parent_id: Option<OrgId>,
    pub kind: String,
    pub name: String,
    pub path: OrgPath,
}

/// Why a change to the tree is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeRefusal {
    #[error("不能把「{node}」移到它自己或它的下级「{target}」之下（组织机构不能成环）")]
    Cycle { node: String, target: String },
    #[error("「{kind}」不能设在「{parent_kind}」之下（允许的上级：{allowed}）")]
    KindNotAllowed { kind: String, parent_kind: String, allowed: String },
    #[error("「{kind}」必须有上级机构（允许的上级：{allowed}）")]
    NeedsParent { kind: String, allowed: String },
    #[error("「{node}」下还有 {children} 个下级机构和 {users} 个用户，请先移走或删除后再删除")]
    NotEmpty { node: String, children: i64, users: i64 },
    #[error("未知的机构类型「{0}」")]
    UnknownKind(String),
}

fn label_of<'a>(kinds: &'a [OrgKind], code: &'a str) -> &'a str {
    kinds.iter().find(|k| k.code == code).map_or(code, |k| k.label.as_str())
}

fn allowed_labels(kinds: &[OrgKind], kind: &OrgKind) -> String {
    if kind.parent_kinds.is_empty() {
        return "无（只能作为顶级）".into();
    }
    kind.parent_kinds.iter().map(|c| label_of(kinds, c)).collect::<Vec<_>>().join("、")
}

/// Checks that a node of `kind` may sit under `parent` (None = as a root).
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn check_placement(kinds: &[OrgKind], kind: &str, parent: Option<&OrgNode>) -> Result<(), TreeRefusal> {
    let def = kinds.iter().find(|k| k.code == kind).ok_or_else(|| TreeRefusal::UnknownKind(kind.into()))?;
    match parent {
        None if def.parent_kinds.is_empty() => Ok(()),
        None => Err(TreeRefusal::NeedsParent { kind: def.label.clone(), allowed: allowed_labels(kinds, def) }),
        Some(p) if def.parent_kinds.contains(&p.kind) => Ok(()),
        Some(p) => Err(TreeRefusal::KindNotAllowed {
            kind: def.label.clone(),
            parent_kind: label_of(kinds, &p.kind).into(),
            allowed: allowed_labels(kinds, def),
        }),
    }
}

/// Checks moving `node` under `new_parent`: no cycle, and the kind allows that parent.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn check_move(kinds: &[OrgKind], node: &OrgNode, new_parent: &OrgNode) -> Result<(), TreeRefusal> {
    if new_parent.path.is_within(&node.path) {
        return Err(TreeRefusal::Cycle { node: node.name.clone(), target: new_parent.name.clone() });
    }
    check_placement(kinds, &node.kind, Some(new_parent))
}

/// Checks deleting a node: only a leaf without users may go.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub fn check_delete(node: &OrgNode, children: i64, users: i64) -> Result<(), TreeRefusal> {
    if children > 0 || users > 0 {
        return Err(TreeRefusal::NotEmpty { node: node.name.clone(), children, users });
    }
    Ok(())
}

/// Validated input for creating or renaming a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInput {
    pub name: String,
    pub kind: String,
    pub parent_id: Option<OrgId>,
    pub code: String,
    /// The full official name the node signs documents with (发文机关署名, e.g.
    /// 天津市南开区人民政府万兴街道办事处); `None`: its name.
    pub official_name: Option<String>,
}

/// What a form or API body offers for a node, before validation.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct OrgDraft {
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    #[serde(default)]
    pub code: String,
    /// 发文机关署名; empty: the name.
    #[serde(default)]
    pub official_name: String,
}

impl OrgDraft {
    /// Validate.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub fn validate(&self, kinds: &[OrgKind]) -> Result<OrgInput, FieldErrors> {
        let mut errs = FieldErrors::new();
        let name = errs.take(bounded_text("name", "机构名称", &self.name, 1, ORG_NAME_MAX));
        if !kinds.iter().any(|k| k.code == self.kind) {
            errs.add("kind", "请选择机构类型");
        }
        let code = errs.take(org_code(&self.code));
        let official =
            errs.take(bounded_text("official_name", "发文机关署名", &self.official_name, 0, ORG_OFFICIAL_NAME_MAX));
        errs.into_result()?;
        Ok(OrgInput {
            name: name.unwrap_or_default(),
            kind: self.kind.clone(),
            parent_id: self.parent_id.map(OrgId),
            code: code.unwrap_or_default(),
            official_name: official.filter(|o| !o.is_empty()),
        })
    }
}

/// The optional administrative division / unified social credit code of a node.
fn org_code(raw: &str) -> Result<String, FieldError> {
    let v = raw.trim();
    if v.chars().count() > 32 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldError {
            field: "code", message: "机构代码只能由字母、数字和“-”组成，最多 32 位".into()
        });
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, kind: &str, path: &str) -> OrgNode {
        OrgNode {
            id: OrgId(id),
            parent_id: None,
            kind: kind.into(),
            name: format!("n{id}"),
            path: OrgPath::parse(path).unwrap(),
        }
    }

    #[test]
    fn paths() {
        let p = OrgPath::root(OrgId(1)).child(OrgId(5));
        assert_eq!(p.as_str(), "/1/5/");
        assert!(OrgPath::parse("/1/5/12/").unwrap().is_within(&p));
        assert!(!OrgPath::parse("/1/50/").unwrap().is_within(&p));
        assert_eq!(p.subtree_range(), ("/1/5/".into(), "/1/50".into()));
        assert!("/1/5/999/" < "/1/50" && "/1/50/" >= "/1/50");
        assert_eq!(p.ids(), vec![OrgId(1), OrgId(5)]);
        assert!(OrgPath::parse("1/5/").is_none());
        assert!(OrgPath::parse("/").is_none());
        assert!(OrgPath::parse("/a/").is_none());
        let moved = OrgPath::parse("/1/5/12/").unwrap().rebase(&p, &OrgPath::parse("/1/7/5/").unwrap());
        assert_eq!(moved.unwrap().as_str(), "/1/7/5/12/");
    }

    #[test]
    fn placement_rules_follow_kinds() {
        let kinds = builtin_kinds();
        let d = node(1, "district", "/1/");
        let s = node(2, "street", "/1/2/");
        let c = node(3, "community", "/1/2/3/");
        assert!(check_placement(&kinds, "district", None).is_ok());
        assert!(check_placement(&kinds, "street", Some(&d)).is_ok());
        assert!(check_placement(&kinds, "grid", Some(&c)).is_ok());
        assert!(matches!(check_placement(&kinds, "grid", Some(&s)), Err(TreeRefusal::KindNotAllowed { .. })));
        assert!(matches!(check_placement(&kinds, "street", None), Err(TreeRefusal::NeedsParent { .. })));
        assert!(matches!(check_placement(&kinds, "planet", None), Err(TreeRefusal::UnknownKind(_))));
    }

    #[test]
    fn move_under_own_child_is_a_cycle() {
        let kinds = builtin_kinds();
        let s = node(2, "street", "/1/2/");
        let dept = node(4, "department", "/1/2/4/");
        let err = check_move(&kinds, &s, &dept).unwrap_err();
        assert!(matches!(err, TreeRefusal::Cycle { .. }));
        assert!(err.to_string().contains("不能成环"));
        assert!(matches!(check_move(&kinds, &s, &s), Err(TreeRefusal::Cycle { .. })));
    }

    #[test]
    fn delete_needs_empty_node() {
        let s = node(2, "street", "/1/2/");
        assert!(check_delete(&s, 0, 0).is_ok());
        let msg = check_delete(&s, 2, 1).unwrap_err().to_string();
        assert!(msg.contains("2 个下级机构") && msg.contains("1 个用户"), "{msg}");
    }

    #[test]
    fn draft_validation() {
        let kinds = builtin_kinds();
        let bad = OrgDraft {
            name: "".into(),
            kind: "x".into(),
            parent_id: None,
            code: "a b".into(),
            official_name: "万兴街道\n办事处".into(),
        };
        let e = bad.validate(&kinds).unwrap_err();
        assert_eq!(e.get("name"), Some("机构名称不能为空"));
        assert!(e.get("kind").is_some() && e.get("code").is_some());
        assert_eq!(e.get("official_name"), Some("发文机关署名不能包含换行或控制字符"));
        let long = OrgDraft { name: "长".repeat(51), kind: "street".into(), parent_id: Some(1), ..Default::default() };
        assert!(long.validate(&kinds).unwrap_err().get("name").unwrap().contains("最多 50 个字"));
        let signed = OrgDraft {
            name: "万兴街道".into(),
            kind: "street".into(),
            official_name: " 天津市南开区人民政府万兴街道办事处 ".into(),
            ..Default::default()
        };
        assert_eq!(
            signed.validate(&kinds).unwrap().official_name.as_deref(),
            Some("天津市南开区人民政府万兴街道办事处")
        );
        let plain = OrgDraft { official_name: "  ".into(), ..signed };
        assert_eq!(plain.validate(&kinds).unwrap().official_name, None, "empty: the name");
    }
}
