//! The installation's checkpoint keys, registered in the database (issue 12).
//!
//! A checkpoint is only worth something if everyone knows which key may sign it. Nodes that
//! share one database each used to generate a key of their own, silently, and so did a node
//! whose key file was lost: `ledger verify` then failed everywhere and the public page
//! depended on which node answered. Now the public halves live in `ledger_key` with the time
//! each began and stopped signing; a node whose key is not the one signing refuses to start
//! unless told to rotate, and a rotation retires the old key (kept for checking the
//! checkpoints it signed) and is recorded on the ledger.

use fazhi_domain::OrgId;
use fazhi_ledger::note::Verifier;
use fazhi_store::ledger::keys::{self as store, KeyRow};

use crate::audit::Actor;
use crate::ledger::Change;
use crate::{App, AppError, AppResult};

/// What [`App::ensure_signing_key`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// The first key of this installation: registered now.
    Registered,
    /// This node's key is the one signing.
    Known,
    /// This node's key replaced the one signing (asked for with `rotate`).
    Rotated,
}

impl App {
    /// Checks this node's signing key against the installation's registered keys, and
    /// registers it when the installation has none yet. With `rotate`, a key the database
    /// does not know replaces the signing one (recorded on the ledger as `key.rotate`).
    ///
    /// # Errors
    /// [`AppError::Refused`] when this node's key is not the installation's signing key and
    /// `rotate` is not set (the message says how nodes share the key); database errors.
    pub async fn ensure_signing_key(&self, rotate: bool) -> AppResult<KeyCheck> {
        let mine = self.ledger.verifier().to_vkey();
        let keys = store::keys(&self.store.read).await?;
        if keys.iter().any(|k| k.vkey == mine && k.valid_to.is_none()) {
            return Ok(KeyCheck::Known);
        }
        let signing: Vec<&KeyRow> = keys.iter().filter(|k| k.valid_to.is_none()).collect();
        if !signing.is_empty() && !rotate {
            let known = signing.iter().map(|k| k.vkey.split('+').next().unwrap_or("")).collect::<Vec<_>>().join("、");
            let retired = keys.iter().any(|k| k.vkey == mine);
            return Err(AppError::Refused(format!(
                "本节点的账本签名密钥 {} {}；本安装当前的签名密钥是 {known}。\
                 多个节点共用一个数据库时，请把首个节点数据目录中的 ledger.key 复制到每个节点的数据目录；\
                 密钥丢失时请从备份恢复 ledger.key。确需启用新密钥，请加 --rotate-key 启动（记入账本，旧检查点仍用旧公钥核验）",
                self.ledger.signer.name(),
                if retired { "已被停用" } else { "未在本安装中登记" }
            )));
        }
        let now = self.now();
        let first = keys.is_empty();
        let mut tx = self.store.begin().await?;
        let retired = store::retire_keys(&mut tx, now).await?;
        // The first key signed everything before it was registered (an installation made
        // before keys were registered): valid from the start.
        let id = store::insert_key(&mut tx, &mine, if first { 0 } else { now }, now).await?;
        if let Some(root) = self.root_org().await? {
            let change = serde_json::json!({"vkey": mine, "retired": retired});
            let c = Change {
                org: root,
                record_type: fazhi_domain::record::LEDGER_KEY.code,
                record_id: id.to_string(),
                action: if first { "key.register" } else { "key.rotate" },
                change,
                attachments: vec![],
            };
            let actor = Actor { username: "system", user_id: None, org_id: None, source_addr: "local" };
            self.record(&mut tx, &actor, c).await?;
        }
        tx.commit().await?;
        Ok(if first { KeyCheck::Registered } else { KeyCheck::Rotated })
    }

    /// The registered keys, oldest first (for verification and the public page).
    ///
    /// # Errors
    /// Database errors.
    pub async fn ledger_keys(&self) -> AppResult<Vec<KeyRow>> {
        Ok(store::keys(&self.store.read).await?)
    }

    /// Every key that may have signed this installation's checkpoints: the registered ones
    /// and this node's own (an installation that registered none yet).
    ///
    /// # Errors
    /// Database errors; a registered key that does not parse is [`AppError::Internal`].
    pub async fn checkpoint_verifiers(&self) -> AppResult<Vec<Verifier>> {
        let mut out = vec![self.ledger.verifier()];
        for k in store::keys(&self.store.read).await? {
            let v = Verifier::parse(&k.vkey).map_err(|e| AppError::internal("ledger_key", e))?;
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// The root of the org tree (the installation's top node), if any.
    async fn root_org(&self) -> AppResult<Option<OrgId>> {
        let tree = self.org_snapshot().await?;
        Ok(tree.nodes.iter().find(|n| n.parent_id.is_none()).map(|n| OrgId(n.id)))
    }
}

/// The key among `keys` that signed `note` (the first whose signature checks), else the
/// first key (whose error the caller reports).
pub fn signer_of<'k>(keys: &'k [Verifier], note: &str) -> Option<&'k Verifier> {
    keys.iter().find(|k| k.open(note).is_ok()).or(keys.first())
}
