//! `fazhi user …`: accounts from the shell, as the operator (三员分立: this is how the
//! 安全管理员 and 审计管理员 are appointed on a new installation).

use clap::Subcommand;
use fazhi_app::App;
use fazhi_app::org::By;
use fazhi_domain::user::UserDraft;

use crate::config::Config;
use crate::{app, datadir, explain, ledger_cmd, open, operator};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a one-time password.
    Add {
        #[arg(long)]
        username: String,
        /// Real name.
        #[arg(long)]
        name: String,
        /// Org node id the user sits on.
        #[arg(long)]
        org: i64,
        /// Built-in or custom role code (repeatable), e.g. admin, security_admin, auditor,
        /// enforcement_officer.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        mobile: String,
        /// An integration account (12345 热线, 信访平台): no password login, API tokens only.
        #[arg(long)]
        integration: bool,
    },
    /// Replace a user's roles (三员分立: how the operator appoints the 安全管理员 and
    /// 审计管理员, e.g. `--role security_admin`). No `--role` removes every role.
    Roles {
        username: String,
        /// Built-in or custom role code (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Set a new one-time password for a user and print it.
    Passwd { username: String },
    /// Disable a user; their sessions end at once.
    Disable { username: String },
    /// Re-enable a disabled user.
    Enable { username: String },
    /// Issue an API token for an integration account and print it (shown once). The
    /// operator's path for an account holding business permissions, which no single
    /// administrator may hand over through the web (privilege ceiling).
    Token {
        username: String,
        /// What the token is for (令牌用途).
        #[arg(long)]
        name: String,
    },
}

pub async fn user(cfg: Config, cmd: UserCommand) -> anyhow::Result<()> {
    let _lock = datadir::lock(&cfg, false)?;
    let store = open(&cfg, false).await?;
    let app = app(store, &cfg)?.with_ledger(ledger_cmd::load_keys(&cfg, false)?);
    let who = operator();
    let by = By { who: &who, username: "cli", source_addr: "local" };
    let find = |name: String| {
        let app = app.clone();
        async move {
            let n = name.trim().to_ascii_lowercase();
            fazhi_store::users::get_by_username(&app.store.read, &n)
                .await?
                .map(|u| u.user_id())
                .ok_or_else(|| anyhow::anyhow!("没有用户名为「{name}」的用户"))
        }
    };
    match cmd {
        UserCommand::Add { username, name, org, roles, mobile, integration } => {
            let ids = role_ids(&app, &roles).await?;
            let draft = UserDraft { username, display_name: name, mobile, org_id: Some(org) };
            if integration {
                app.create_integration(&by, &draft, &ids).await.map_err(explain)?;
                println!("已创建对接账户 {}（不能登录；请签发接口令牌）", draft.username.trim().to_ascii_lowercase());
            } else {
                let issued = app.create_user(&by, &draft, &ids).await.map_err(explain)?;
                println!("已创建用户 {}；一次性密码：{}", issued.username, issued.one_time_password);
            }
        }
        UserCommand::Roles { username, roles } => {
            let ids = role_ids(&app, &roles).await?;
            let id = find(username.clone()).await?;
            let d = app.user_detail(&who, id).await.map_err(explain)?;
            let draft = UserDraft {
                username: d.user.username.clone(),
                display_name: d.user.display_name.clone(),
                mobile: d.user.mobile.clone().unwrap_or_default(),
                org_id: Some(d.user.org_id),
            };
            app.update_user(&by, id, &draft, &ids).await.map_err(explain)?;
            println!("已设置用户 {username} 的角色：{}", if roles.is_empty() { "无".into() } else { roles.join(", ") });
        }
        UserCommand::Passwd { username } => {
            let id = find(username).await?;
            let issued = app.reset_password(&by, id).await.map_err(explain)?;
            println!("用户 {} 的一次性密码：{}（登录后必须修改）", issued.username, issued.one_time_password);
        }
        UserCommand::Disable { username } => {
            let id = find(username.clone()).await?;
            app.set_user_disabled(&by, id, true).await.map_err(explain)?;
            println!("已停用用户 {username}");
        }
        UserCommand::Token { username, name } => {
            let id = find(username.clone()).await?;
            let (_, token) = app.issue_token(&by, Some(id.0), &name).await.map_err(explain)?;
            println!("对接账户 {username} 的接口令牌（只显示这一次）：{token}");
        }
        UserCommand::Enable { username } => {
            let id = find(username.clone()).await?;
            app.set_user_disabled(&by, id, false).await.map_err(explain)?;
            println!("已启用用户 {username}");
        }
    }
    Ok(())
}

/// The ids of roles given by code, or an error listing the codes there are.
async fn role_ids(app: &App, codes: &[String]) -> anyhow::Result<Vec<i64>> {
    let all = app.list_roles(&operator()).await.map_err(explain)?;
    let mut ids = Vec::new();
    for code in codes {
        let r = all.iter().find(|r| r.code == *code).ok_or_else(|| {
            anyhow::anyhow!(
                "没有代码为「{code}」的角色；可用：{}",
                all.iter().map(|r| r.code.as_str()).collect::<Vec<_>>().join(", ")
            )
        })?;
        ids.push(r.id.0);
    }
    Ok(ids)
}
