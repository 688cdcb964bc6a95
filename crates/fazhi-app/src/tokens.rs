//! API bearer tokens for integrations (12345 hotline, 信访平台 push ...). A token acts as
//! the account it was issued for, under the same policy. Only its hash is stored. Tokens
//! belong to integration accounts, never to people: a token is issued only to an
//! integration account, and a token a person account got before 0017 is refused at use.

use fazhi_domain::access::{Principal, RecordRef, TOKEN_MANAGE};
use fazhi_domain::validation::bounded_text;
use fazhi_domain::{FieldErrors, OrgId, TokenId, UserId};
pub use fazhi_store::auth::TokenRow;
use fazhi_store::auth::{self as store};
use fazhi_store::users as user_store;

use crate::org::By;
use crate::reconcile::views::{self, Saved};
use crate::secrets::{random_hex, sha256_hex};
use crate::users::user_ref;
use crate::{App, AppError, AppResult, check, require};

/// Prefix of every token, so leaked tokens are recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "fzt_";

impl App {
    /// Records a token's issue or revocation made in `tx` (its view read `before` it), in
    /// the log of its holder's street. The token's hash is there only as a digest.
    async fn save_token(
        &self,
        tx: &mut fazhi_store::Tx,
        by: &By<'_>,
        org: OrgId,
        id: TokenId,
        before: Option<&serde_json::Value>,
        action: &'static str,
    ) -> AppResult<()> {
        let after = views::token(tx, id.0).await?;
        let s = Saved {
            kind: &fazhi_domain::record::API_TOKEN,
            id: id.0,
            org,
            action,
            before,
            after: after.as_ref(),
            payload: serde_json::Value::Null,
        };
        self.save_view(tx, &by.actor(), s).await?;
        Ok(())
    }
}

impl App {
    /// Lists tokens.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub async fn list_tokens(&self, who: &Principal) -> AppResult<Vec<TokenRow>> {
        require(who, TOKEN_MANAGE)?;
        Ok(store::list_tokens(&self.store.read, who.filter(TOKEN_MANAGE).as_ref()).await?)
    }

    /// Issues a token for the account `user`; returns the token, shown once.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn issue_token(&self, by: &By<'_>, user: Option<i64>, name: &str) -> AppResult<(TokenId, String)> {
        self.issue_token_as(by, user, name, None).await
    }

    /// [`App::issue_token`] with a given token value (the demo's published token) instead
    /// of a random one.
    pub(crate) async fn issue_token_as(
        &self,
        by: &By<'_>,
        user: Option<i64>,
        name: &str,
        value: Option<&str>,
    ) -> AppResult<(TokenId, String)> {
        require(by.who, TOKEN_MANAGE)?;
        let mut errs = FieldErrors::new();
        let name = errs.take(bounded_text("name", "令牌用途", name, 1, 50));
        let target = match user {
            None => {
                errs.add("user_id", "请选择令牌代表的账户");
                None
            }
            Some(u) => match user_store::get_user(&self.store.read, UserId(u)).await? {
                None => {
                    errs.add("user_id", "所选账户不存在");
                    None
                }
                Some(row) if !row.is_integration() => {
                    errs.add(
                        "user_id",
                        format!(
                            "「{}」是个人账户：接口令牌只签发给对接账户（请由系统管理员新建对接账户）",
                            row.display_name
                        ),
                    );
                    None
                }
                Some(row) => Some(row),
            },
        };
        let (Some(name), Some(target)) = (name, target) else {
            return Err(errs.into());
        };
        check(by.who, TOKEN_MANAGE, &user_ref(&target))?;
        // A token acts as its account: whoever issues one hands over every permission the
        // account holds, and sees the token. Privilege ceiling, as for a role's definition
        // (`access::may_define`): the issuer holds each of them at least as widely. The
        // 系统管理员 issues a directory sync's token; the 12345 desk's is the operator's
        // (`fazhi user token`), never a way into business data for one administrator.
        let holder = self.principal(target.user_id()).await?;
        if let Some((p, s)) = holder.permissions().find(|(p, s)| by.who.scope_of(*p).is_none_or(|mine| mine < *s)) {
            return Err(AppError::Invalid(FieldErrors::single(
                "user_id",
                format!(
                    "对接账户「{}」持有「{}」（{}），超出您本人的权限：令牌代表该账户的全部权限，只能由持有这些权限的人或运维人员（fazhi user token）签发",
                    target.display_name,
                    p.label(),
                    s.label()
                ),
            )));
        }
        let token = value.map_or_else(|| format!("{TOKEN_PREFIX}{}", random_hex(24)), str::to_owned);
        let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let mut tx = self.store.begin().await?;
        let id = store::insert_token(
            &mut tx,
            target.user_id(),
            &name,
            &sha256_hex(&token),
            &prefix,
            by.who.user(),
            self.now(),
        )
        .await?;
        self.save_token(&mut tx, by, OrgId(target.org_id), id, None, "token.issue").await?;
        self.audit(&mut tx, "token_issued", &by.actor(), &format!("{name} -> {}", target.username)).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok((id, token))
    }

    /// Revokes token.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn revoke_token(&self, by: &By<'_>, id: TokenId) -> AppResult<()> {
        let row = store::get_token(&self.store.write, id).await?.ok_or(AppError::NotFound("接口令牌"))?;
        let holder =
            user_store::get_user(&self.store.read, UserId(row.user_id)).await?.ok_or(AppError::NotFound("用户"))?;
        let rec = RecordRef::single(OrgId(holder.org_id), holder.path(), None);
        check(by.who, TOKEN_MANAGE, &rec)?;
        let mut tx = self.store.begin().await?;
        let before = views::token(&mut tx, id.0).await?;
        store::revoke_token(&mut tx, id, self.now()).await?;
        self.save_token(&mut tx, by, OrgId(holder.org_id), id, before.as_ref(), "token.revoke").await?;
        self.audit(&mut tx, "token_revoked", &by.actor(), &row.name).await?;
        tx.commit().await?;
        self.lookups.invalidate();
        Ok(())
    }
}
