//! `fazhi`: the one binary. Subcommands serve the web UI and API, initialise an
//! installation and manage users from the shell. Configuration: TOML file < `FAZHI_*`
//! environment < flags (see `config`).

mod backup_cmd;
mod calendar_cmd;
mod cli_zh;
mod config;
mod datadir;
mod ledger_cmd;
mod ledger_trust;
mod user_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use fazhi_app::bootstrap::DEMO_PASSWORD;
use fazhi_app::org::By;
use fazhi_app::{App, AppError};
use fazhi_domain::OrgId;
use fazhi_domain::access::{Principal, SystemActor};
use fazhi_domain::clock::SystemClock;
use fazhi_domain::org::OrgPath;
use fazhi_store::{ConnectMode, Store};
use fazhi_web::{AppState, WebSettings, app_router};

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(name = "fazhi", version, about = "fazhi 法治政府建设工作平台")]
struct Cli {
    /// Configuration file (TOML). Default: fazhi.toml in the data directory, if present.
    #[arg(long, global = true, env = "FAZHI_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database, later attachments and keys). Default ./fazhi-data
    /// (./fazhi-demo with `serve --demo`).
    #[arg(long, global = true, env = "FAZHI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL, e.g. postgres://user@host/db. Default: SQLite in the data directory.
    #[arg(long, global = true, env = "FAZHI_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the staff UI and the API. The first start creates the data directory, a
    /// district, a street and an administrator, and prints the administrator's one-time
    /// password.
    Serve(ServeArgs),
    /// Create a new installation (data directory, database, district, street, admin).
    Init(InitArgs),
    /// Manage user accounts from the shell.
    #[command(subcommand)]
    User(user_cmd::UserCommand),
    /// The working-day calendar: statutory due dates with their explanation.
    #[command(subcommand)]
    Calendar(calendar_cmd::CalendarCommand),
    /// Check every open statutory clock now (the daily job does this at start of day).
    Clocks,
    /// The tamper-evident record log: verify, proofs, checkpoints, key.
    #[command(subcommand)]
    Ledger(ledger_cmd::LedgerCommand),
    /// Write a consistent backup (database snapshot, signing key, configuration, blobs,
    /// manifest) into a new directory, while the server may keep running.
    Backup {
        /// A directory that does not exist yet (or is empty).
        dest: PathBuf,
    },
    /// Restore a backup into the configured, empty data directory or database, then verify
    /// it against its manifest.
    Restore {
        /// A directory written by `fazhi backup`.
        src: PathBuf,
    },
    /// Database tools: copy an installation between SQLite and PostgreSQL.
    #[command(subcommand)]
    Db(backup_cmd::DbCommand),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FAZHI_LISTEN")]
    listen: Option<String>,
    /// Serve a demo installation (separate data directory ./fazhi-demo) with demo data and
    /// one account per built-in role.
    #[arg(long)]
    demo: bool,
    /// Mark cookies Secure (set when users reach the server over https).
    #[arg(long, env = "FAZHI_SECURE_COOKIES")]
    secure_cookies: Option<bool>,
    /// Make this node's key (the data directory's ledger.key, generated when missing) the
    /// installation's checkpoint signing key, retiring the current one (recorded on the
    /// ledger). Without it a node whose key the database does not know refuses to start.
    #[arg(long)]
    rotate_key: bool,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Name of the district (区).
    #[arg(long)]
    district: Option<String>,
    /// Name of the street or township (街道/乡镇).
    #[arg(long)]
    street: Option<String>,
    /// Username of the first administrator.
    #[arg(long)]
    admin: Option<String>,
}

fn main() -> ExitCode {
    // The command line is read in Chinese (cli_zh): help, headings and errors.
    let matches = match cli_zh::localize(<Cli as clap::CommandFactory>::command()).try_get_matches() {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => {
            eprintln!("{}", cli_zh::message(&e));
            return ExitCode::from(2);
        }
    };
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}", cli_zh::message(&e));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let demo = matches!(&cli.command, Command::Serve(a) if a.demo);
    let (listen, secure_cookies) = match &cli.command {
        Command::Serve(a) => (a.listen.clone(), a.secure_cookies),
        _ => (None, None),
    };
    let overrides = Overrides {
        config: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        listen,
        secure_cookies,
        demo,
    };
    let cfg = Config::resolve(&overrides)?;
    match cli.command {
        Command::Serve(a) => serve(cfg, a.demo, a.rotate_key).await,
        Command::Init(a) => init(cfg, a).await,
        Command::User(u) => user_cmd::user(cfg, u).await,
        Command::Calendar(
            cmd @ (calendar_cmd::CalendarCommand::Import { .. } | calendar_cmd::CalendarCommand::Show { .. }),
        ) => {
            let _lock = datadir::lock(&cfg, false)?;
            let store = open(&cfg, false).await?;
            let app = app(store, &cfg)?.with_ledger(ledger_cmd::load_keys(&cfg, false)?);
            app.load_calendar().await.map_err(explain)?;
            let who = operator();
            calendar_cmd::run_with_store(cmd, &app, &By { who: &who, username: "cli", source_addr: "local" }).await
        }
        Command::Calendar(cmd) => {
            // Include the years imported into this installation, when there is one.
            let mut cal = fazhi_domain::calendar::WorkCalendar::builtin();
            if let Ok(store) = open(&cfg, false).await {
                for (_, text) in fazhi_store::clocks::calendar_years(&store.read).await.unwrap_or_default() {
                    for s in fazhi_domain::calendar::parse_schedules(&text).unwrap_or_default() {
                        let _ = cal.merge_year(s);
                    }
                }
            }
            calendar_cmd::run(cmd, &cal)
        }
        Command::Clocks => {
            let _lock = datadir::lock(&cfg, false)?;
            let store = open(&cfg, false).await?;
            let app = app(store, &cfg)?.with_ledger(ledger_cmd::load_keys(&cfg, false)?);
            app.load_calendar().await.map_err(explain)?;
            let r = app.scan_clocks(&operator()).await.map_err(explain)?;
            println!("已检查 {} 个未结期限：黄牌 {}，红牌 {}，新发提醒 {} 条", r.checked, r.yellow, r.red, r.notified);
            if r.recomputed > 0 {
                println!("其中 {} 个期限按现行节假日安排重新计算了到期日，已记入账本", r.recomputed);
            }
            Ok(())
        }
        Command::Ledger(ledger_cmd::LedgerCommand::CheckProof { file, key }) => {
            ledger_cmd::check_proof(&file, key.as_deref())
        }
        Command::Ledger(ledger_cmd::LedgerCommand::Witness { url, key, state }) => {
            let state = state.unwrap_or_else(|| ledger_trust::default_state(&cfg.data_dir));
            ledger_trust::witness_cmd(&url, &key, &state).await
        }
        Command::Ledger(cmd) => {
            // Verifying and reading proofs only read: they run beside a server. Signing
            // writes, so it takes the lock like every writing command.
            let _lock = if cmd.writes() { datadir::lock(&cfg, false)? } else { None };
            let store = open(&cfg, false).await?;
            let keys = ledger_cmd::load_keys(&cfg, false)?;
            let app = app(store, &cfg)?.with_ledger(keys);
            ledger_cmd::run(&app, cmd).await
        }
        Command::Backup { dest } => backup_cmd::backup(&cfg, &dest).await,
        Command::Restore { src } => {
            // No server may start on the directory while it is being filled.
            let _lock = datadir::lock(&cfg, true)?;
            backup_cmd::restore(&cfg, &src).await
        }
        Command::Db(cmd) => backup_cmd::run_db(cmd).await,
    }
}

/// Whether a directory is missing or holds nothing: safe to make an installation in.
fn is_fresh(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Err(_) => !dir.exists(),
        Ok(mut entries) => entries.next().is_none(),
    }
}

/// Opens the store. SQLite in the data directory is created only when `create` is set
/// (init, first serve); an explicit URL is never created except by init.
pub(crate) async fn open(cfg: &Config, create: bool) -> anyhow::Result<Store> {
    let (url, mode) = match &cfg.database_url {
        Some(url) => (
            url.clone(),
            if create && url.starts_with("sqlite:") { ConnectMode::CreateIfMissing } else { ConnectMode::Existing },
        ),
        None => {
            if create {
                std::fs::create_dir_all(&cfg.data_dir)
                    .with_context(|| format!("无法创建数据目录 {}", cfg.data_dir.display()))?;
            }
            let mode = if create { ConnectMode::CreateIfMissing } else { ConnectMode::Existing };
            (fazhi_store::db::sqlite_url_in(&cfg.data_dir), mode)
        }
    };
    Ok(Store::open(&url, mode).await?)
}

pub(crate) fn app(store: Store, cfg: &Config) -> anyhow::Result<App> {
    let blobs = match &cfg.blob_store {
        config::BlobConfig::Local => fazhi_store::blobs::BlobStore::local(&cfg.data_dir.join("blobs"))?,
        #[cfg(feature = "s3")]
        config::BlobConfig::S3 { bucket, endpoint, region } => {
            fazhi_store::blobs::BlobStore::s3(bucket, endpoint.as_deref(), region.as_deref())?
        }
        #[cfg(not(feature = "s3"))]
        config::BlobConfig::S3 { .. } => {
            bail!("此程序未包含 S3 支持：请用 `cargo build --release -p fazhi --features s3` 构建")
        }
    };
    let mut app = App::new(store, Arc::new(SystemClock), cfg.security).with_blobs(blobs, cfg.attachment_max_bytes);
    let rules = fazhi_domain::deadline::RuleSet::builtin()
        .with_overrides(&cfg.deadline_rules)
        .map_err(|e| anyhow::anyhow!("配置项 deadline_rules 有误：{e}"))?;
    app.deadlines.rules = Arc::new(rules);
    app.deadlines.yellow_days = cfg.yellow_days;
    app.petition_backlog_days = cfg.petition_backlog_days;
    app.webhooks =
        Arc::new(fazhi_app::webhook::WebhookPolicy { hosts: cfg.webhook_hosts.clone(), allow_loopback_http: false });
    Ok(app)
}

async fn serve(cfg: Config, demo: bool, rotate_key: bool) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FAZHI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        // Colour codes only on a terminal: a log written to a file or a journal stays plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    if demo && datadir::demo_missing(&cfg) {
        datadir::build_demo_aside(&cfg, build_demo).await?;
    }
    let lock = datadir::lock(&cfg, cfg.database_url.is_none() && is_fresh(&cfg.data_dir))?;
    let first_start = cfg.database_url.is_none() && is_fresh_but_lock(&cfg.data_dir, lock.as_ref());
    let store = open(&cfg, first_start).await?;
    let app = app(store, &cfg)?;
    // A key is made only for a new installation or when asked to rotate: a lost key is
    // never silently replaced.
    let new_installation = !app.is_initialized().await?;
    let app = app.with_ledger(ledger_cmd::load_keys(&cfg, new_installation || rotate_key)?);
    app.ensure_builtins().await?;
    app.load_calendar().await?;
    app.warn_if_next_year_missing();
    if demo {
        // Complete on SQLite (built aside); on PostgreSQL generated in place on first start.
        let fresh = !app.is_initialized().await?;
        let accounts = app.seed_demo().await?;
        if fresh {
            seed_demo_records(&app).await?;
        }
        println!("演示数据：{}", where_data(&cfg));
        println!("演示账号（密码均为 {DEMO_PASSWORD}）：");
        for a in accounts {
            println!("  {:<10} {}（{}）", a.username, a.role_name, a.org_name);
        }
        println!(
            "  对接账户 {}（12345 热线导入，不能登录）的接口令牌：{}",
            fazhi_app::bootstrap::DEMO_INTEGRATION,
            fazhi_app::bootstrap::DEMO_TOKEN
        );
    } else if !app.is_initialized().await? {
        let i = &cfg.install;
        if let Some(first) = app.initialize(&i.district, &i.street, &i.admin).await? {
            print_first_admin(&first.username, &first.one_time_password);
        }
    }
    match app.ensure_signing_key(rotate_key).await.map_err(explain)? {
        fazhi_app::ledger_keys::KeyCheck::Rotated => {
            println!("已启用新的账本签名密钥：{}", app.ledger.verifier().to_vkey())
        }
        fazhi_app::ledger_keys::KeyCheck::Registered | fazhi_app::ledger_keys::KeyCheck::Known => {}
    }
    let settings = WebSettings {
        secure_cookies: cfg.secure_cookies,
        demo,
        body_limit: cfg.body_limit,
        trusted_proxies: cfg.trusted_proxies.clone(),
    };
    let state = AppState::new(app.clone(), settings);
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("无法监听 {}（端口被占用或地址无效？可用 --listen 指定）", cfg.listen))?;
    let shutdown = shutdown_signal();
    println!("fazhi 已启动：http://{}  （数据：{}；按 Ctrl+C 停止）", listener.local_addr()?, where_data(&cfg));
    let purge = tokio::spawn(purge_sessions(app.clone()));
    let checkpoints = tokio::spawn(sign_checkpoints(app.clone(), cfg.checkpoint_interval_secs));
    let worker = tokio::spawn(run_jobs(app.clone()));
    let router = app_router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
    purge.abort();
    checkpoints.abort();
    worker.abort();
    // A last checkpoint so nothing recorded is left unsigned.
    if let Err(e) = app.checkpoint_all().await {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
    app.store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Generates a whole demo installation in `cfg`'s (fresh) data directory and closes it.
async fn build_demo(cfg: Config) -> anyhow::Result<()> {
    let store = open(&cfg, true).await?;
    let app = app(store, &cfg)?.with_ledger(ledger_cmd::load_keys(&cfg, true)?);
    app.ensure_builtins().await?;
    app.load_calendar().await?;
    app.seed_demo().await?;
    seed_demo_records(&app).await?;
    app.ensure_signing_key(false).await.map_err(explain)?;
    app.checkpoint_all().await?;
    app.store.close().await;
    Ok(())
}

async fn seed_demo_records(app: &App) -> anyhow::Result<()> {
    app.seed_demo_deadlines().await?;
    let n = app.seed_demo_petitions(430).await?;
    println!("已生成演示信访件 {n} 件（一年内，各种办理状态）");
    Ok(())
}

/// Whether the data directory holds nothing but (possibly) our own lock file: a first start.
fn is_fresh_but_lock(dir: &Path, lock: Option<&datadir::DirLock>) -> bool {
    match std::fs::read_dir(dir) {
        Err(_) => !dir.exists(),
        Ok(entries) => entries.flatten().all(|e| lock.is_some_and(|l| l.path().file_name() == Some(&e.file_name()))),
    }
}

fn where_data(cfg: &Config) -> String {
    match &cfg.database_url {
        Some(u) => fazhi_store::db::redact_url(u),
        None => cfg.data_dir.join("fazhi.db").display().to_string(),
    }
}

fn print_first_admin(username: &str, password: &str) {
    println!("已创建新的安装。管理员账号：{username}");
    println!("一次性密码：{password}");
    println!("（只显示这一次；首次登录后必须修改。）");
    println!("三员分立：该账号是系统管理员，不能分配角色。请用 `fazhi user add --role security_admin`");
    println!("和 `--role auditor` 为其他人建立安全管理员、审计管理员账号（或 `fazhi user roles`）。");
}

/// Removes sessions idle longer than the timeout, every ten minutes.
async fn purge_sessions(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let cutoff = app.now() - app.security.idle_timeout_ms();
        if let Err(e) = fazhi_store::auth::purge_sessions(&app.store.write, cutoff).await {
            tracing::warn!(error = %e, "session purge failed");
        }
    }
}

/// The job worker of this node: checks the calendar version (for the calendar status pages),
/// queues the daily clock scan and runs ready jobs.
async fn run_jobs(app: App) {
    let worker = format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "fazhi".into()), std::process::id());
    let mut tick = tokio::time::interval(Duration::from_secs(15));
    loop {
        tick.tick().await;
        // A calendar imported through another node (or the CLI) is shown here too. Due
        // dates never wait for this: each computation checks the version in its transaction.
        if let Err(e) = app.refresh_calendar().await {
            tracing::warn!(error = %e, "could not check the calendar version");
        }
        if let Err(e) = app.schedule_daily().await {
            tracing::warn!(error = %e, "could not queue the daily scan");
        }
        match app.run_jobs(&worker).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "jobs run"),
            Err(e) => tracing::warn!(error = %e, "job worker"),
        }
    }
}

/// Signs a checkpoint every `secs` seconds for each log that grew: no acknowledged write
/// stays outside a signed checkpoint longer than that (plus one signing, ~1 ms a log).
async fn sign_checkpoints(app: App, secs: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs(secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match app.checkpoint_all().await {
            Ok(made) if !made.is_empty() => tracing::info!(?made, "checkpoints signed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
        }
    }
}

/// Waits for Ctrl+C or SIGTERM. The handlers are installed when this is CALLED, not when the
/// future is first polled: a TERM that arrives right after the server said it started must
/// stop it gracefully, not kill it.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let term = async {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            () = term => {},
        }
        tracing::info!("shutting down");
    }
}

async fn init(cfg: Config, a: InitArgs) -> anyhow::Result<()> {
    if cfg.database_url.is_none() && !is_fresh(&cfg.data_dir) {
        bail!("数据目录 {} 已存在且不为空；如要使用现有安装，请运行 `fazhi serve`", cfg.data_dir.display());
    }
    let _lock = datadir::lock(&cfg, true)?;
    let store = open(&cfg, true).await?;
    let app = app(store, &cfg)?.with_ledger(ledger_cmd::load_keys(&cfg, true)?);
    let district = a.district.unwrap_or_else(|| cfg.install.district.clone());
    let street = a.street.unwrap_or_else(|| cfg.install.street.clone());
    let admin = a.admin.unwrap_or_else(|| cfg.install.admin.clone());
    match app.initialize(&district, &street, &admin).await.map_err(explain)? {
        Some(first) => {
            app.ensure_signing_key(false).await.map_err(explain)?;
            println!("数据：{}", where_data(&cfg));
            print_first_admin(&first.username, &first.one_time_password);
            Ok(())
        }
        None => bail!("该数据库已经初始化过；如要使用，请运行 `fazhi serve`"),
    }
}

/// The local operator: whoever can run the binary on the data directory has full reach.
pub(crate) fn operator() -> Principal {
    Principal::system(SystemActor::Operator, OrgId(0), OrgPath::root(OrgId(0)))
}

pub(crate) fn explain(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(f) => anyhow::anyhow!(
            "{}",
            f.0.iter().map(|e| format!("{}：{}", e.field, e.message)).collect::<Vec<_>>().join("；")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_dirs() {
        let d = tempfile::tempdir().unwrap();
        assert!(is_fresh(d.path()));
        assert!(is_fresh(&d.path().join("missing")));
        std::fs::write(d.path().join("x"), "").unwrap();
        assert!(!is_fresh(d.path()));
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let c = Cli::try_parse_from(["fazhi", "serve", "--demo", "--listen", "127.0.0.1:9"]).unwrap();
        assert!(matches!(c.command, Command::Serve(ServeArgs { demo: true, .. })));
        let c = Cli::try_parse_from(["fazhi", "--data-dir", "/x", "user", "passwd", "admin"]).unwrap();
        assert_eq!(c.data_dir, Some(PathBuf::from("/x")));
    }
}
