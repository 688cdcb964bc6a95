//! `fazhi-bench gen`: writes a realistic installation through the application services
//! (`fazhi_app::App`), so every record has its ledger entries, search index rows, audit
//! lines and statutory clocks exactly as if people had typed it in.
//!
//! The layout is the one `fazhi serve` expects: a data directory with `ledger.key` and, for
//! SQLite, `fazhi.db`; for PostgreSQL a `fazhi.toml` naming the database. Beside it the
//! generator leaves `bench.json` (the [`Manifest`]): the account and API token the suite
//! uses, sample record ids, search terms and counts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use fazhi_app::App;
use fazhi_app::ctx::Ctx;
use fazhi_app::ledger::LedgerKeys;
use fazhi_app::org::By;
use fazhi_app::petitions::{IntakeDraft, PetitionerDraft};
use fazhi_domain::Day;
use fazhi_domain::access::{Principal, ScopeFilter, SystemActor};
use fazhi_domain::clock::SystemClock;
use fazhi_domain::org::{OrgDraft, OrgPath};
use fazhi_domain::petition::{Event, Outcome};
use fazhi_domain::security::SecurityPolicy;
use fazhi_domain::user::UserDraft;
use fazhi_domain::{OrgId, UserId};
use fazhi_store::{ConnectMode, Store};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::Engine;
use crate::text::{self, Prng};

/// The password of the accounts the suite logs in with (set through the password-change
/// use case, after a login with the one-time password).
/// The tables of business records (what "records in total" counts): petition items, their
/// transfers/assignments, clocks, mediation cases and sessions, reception days and
/// receptions, org nodes and accounts.
const RECORD_TABLES: &[&str] = &[
    "petition",
    "petition_transfer",
    "deadline_clock",
    "mediation_case",
    "mediation_session",
    "reception_day",
    "reception",
    "org_node",
    "app_user",
];
/// Derived and audit tables, reported beside them.
const INDEX_TABLES: &[&str] = &["search_doc", "ledger_entry", "audit_event"];

/// Items (each with all its handling steps) per transaction in the bulk path.
const BULK_BATCH: usize = 200;

pub const BENCH_PASSWORD: &str = "Fazhi@bench2026";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// One street (about 2,000 petitions).
    Street,
    /// One district of 15 streets.
    District,
    /// A city: 10 districts of 25 streets.
    City,
}

impl Scale {
    /// (districts, streets per district)
    fn shape(self) -> (usize, usize) {
        match self {
            Scale::Street => (1, 1),
            Scale::District => (1, 15),
            Scale::City => (10, 25),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Scale::Street => "street",
            Scale::District => "district",
            Scale::City => "city",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct GenArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    pub engine: Engine,
    #[arg(long, value_enum, default_value = "street")]
    pub scale: Scale,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Data directory to create (must be missing or empty).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// PostgreSQL server for --engine postgres; a database named after the data directory
    /// is (re)created on it and written into the data directory's fazhi.toml.
    #[arg(long, env = "FAZHI_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
    /// Petitions per street over the past year.
    #[arg(long, default_value_t = 2_000)]
    pub petitions: usize,
    /// Streets generated at the same time.
    #[arg(long, default_value_t = 2)]
    pub jobs: usize,
}

/// What the generator made, and what the suite needs to drive it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub engine: Engine,
    pub scale: Scale,
    pub seed: u64,
    pub petitions_per_street: usize,
    /// PostgreSQL database (SQLite: `fazhi.db` in the data directory).
    pub database_url: Option<String>,
    pub districts: usize,
    pub streets: usize,
    pub org_nodes: usize,
    pub users: usize,
    pub petitions: usize,
    pub ledger_entries: u64,
    /// Rows per table after generation (petition, mediation_case, reception, search_doc,
    /// deadline_clock …) and their sum over the record tables (`records_total`).
    #[serde(default)]
    pub tables: std::collections::BTreeMap<String, i64>,
    #[serde(default)]
    pub records_total: i64,
    pub gen_seconds: f64,
    /// A 信访办 worker of the first street (data scope: their desk).
    pub login_user: String,
    pub login_password: String,
    /// Bearer token acting as `login_user`.
    pub api_token: String,
    /// Items `login_user` can open.
    pub petition_ids: Vec<i64>,
    /// The log with the most entries (`fazhi ledger verify --org`).
    pub largest_log: i64,
    pub largest_log_entries: u64,
    pub common_term: String,
    pub rare_term: String,
}

impl Manifest {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("bench.json")
    }

    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let p = Self::path(dir);
        let text = std::fs::read_to_string(&p).with_context(|| format!("无法读取 {}", p.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}

/// The local operator: full reach, like the `fazhi` CLI on the data directory.
fn operator() -> Principal {
    Principal::system(SystemActor::Operator, OrgId(0), OrgPath::root(OrgId(0)))
}

/// `name` as a PostgreSQL identifier made of [a-z0-9_].
fn pg_name(dir: &Path) -> String {
    let base = dir.file_name().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let clean: String = base.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("fazhi_bench_{clean}")
}

/// (Re)creates database `name` on the server of `admin_url`; returns its URL.
pub async fn pg_create(admin_url: &str, name: &str, template: Option<&str>) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await.context("无法连接 PostgreSQL")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)"))).execute(&mut conn).await?;
    let sql = match template {
        Some(t) => format!("create database {name} template {t}"),
        None => format!("create database {name}"),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(fazhi_testkit::with_database(admin_url, name))
}

pub async fn pg_drop(admin_url: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name} with (force)"))).execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(())
}

/// Writes the private signing key as `fazhi` does (mode 600).
fn write_key(dir: &Path, keys: &LedgerKeys) -> anyhow::Result<()> {
    let path = dir.join("ledger.key");
    std::fs::write(&path, format!("{}\n", keys.signer.to_private_text()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The roles of a street's ~20 accounts: (role code, department index or community, count).
enum Seat {
    Street,
    Department(usize),
    Community,
}

const STAFF: &[(&str, &str, Seat, usize)] = &[
    ("admin", "admin", Seat::Street, 1),
    ("zhuren", "principal", Seat::Street, 1),
    ("fenguan", "deputy", Seat::Street, 2),
    ("shenhe", "legal_reviewer", Seat::Department(2), 1),
    ("zhifa", "enforcement_officer", Seat::Department(1), 4),
    ("xinfang", "petition_worker", Seat::Department(3), 3),
    ("wangge", "community_worker", Seat::Community, 6),
    ("guwen", "legal_counsel", Seat::Street, 1),
    ("pingan", "community_worker", Seat::Department(4), 1),
];

struct StreetPlan {
    index: usize,
    district_index: usize,
    street: OrgId,
    street_name: String,
    district_name: String,
    region: &'static str,
}

struct StreetDone {
    org_nodes: usize,
    users: usize,
    petitions: usize,
    /// (username, user id, one-time password) of the first petition worker.
    desk_worker: Option<(String, UserId, String)>,
}

/// Generates an installation in `args.data_dir`; returns its manifest (also written there).
#[expect(clippy::too_many_lines, reason = "a linear generator script")]
pub async fn generate(args: &GenArgs) -> anyhow::Result<Manifest> {
    let started = Instant::now();
    let dir = &args.data_dir;
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("数据目录 {} 已存在且不为空", dir.display());
    }
    std::fs::create_dir_all(dir)?;
    let (url, database_url) = match args.engine {
        Engine::Sqlite => (fazhi_store::db::sqlite_url_in(dir), None),
        Engine::Postgres => {
            let url = pg_create(&args.pg_url, &pg_name(dir), None).await?;
            std::fs::write(dir.join("fazhi.toml"), format!("database_url = \"{url}\"\n"))?;
            (url.clone(), Some(url))
        }
    };
    let store = Store::open(&url, ConnectMode::CreateIfMissing).await?;
    let keys = LedgerKeys::generate(fazhi_ledger::HashAlg::Sha256);
    write_key(dir, &keys)?;
    let app = App::new(store, Arc::new(SystemClock), SecurityPolicy::default()).with_ledger(keys);
    app.load_calendar().await?;

    let (districts, per_district) = args.scale.shape();
    let (d0, region0) = text::DISTRICTS[3];
    let s0 = text::street_name(0, 0);
    app.initialize(&format!("{d0}（模拟）"), &s0, "admin").await?.context("新建安装失败")?;
    let op = operator();
    let by = By { who: &op, username: "bench", source_addr: "bench" };
    let nodes = fazhi_store::org::list_nodes(&app.store.read, Some(&ScopeFilter::All)).await?;
    let first_district = nodes.iter().find(|n| n.kind == "district").context("区")?.id;
    let first_street = nodes.iter().find(|n| n.kind == "street").context("街道")?.id;

    // Districts and streets first, so the streets can then be filled in parallel.
    let mut plans = Vec::new();
    let mut org_nodes = 2;
    for d in 0..districts {
        let (dname, region) = if d == 0 { (d0, region0) } else { text::DISTRICTS[(3 + d) % text::DISTRICTS.len()] };
        let district_name = format!("{dname}（模拟）");
        let district = if d == 0 {
            first_district
        } else {
            org_nodes += 1;
            let draft = OrgDraft {
                name: district_name.clone(),
                kind: "district".into(),
                parent_id: None,
                code: "".into(),
                official_name: Default::default(),
            };
            app.create_org(&by, &draft).await?.0
        };
        for s in 0..per_district {
            let street_name = text::street_name(d, s);
            let street = if d == 0 && s == 0 {
                first_street
            } else {
                org_nodes += 1;
                let draft = OrgDraft {
                    name: street_name.clone(),
                    kind: "street".into(),
                    parent_id: Some(district),
                    code: "".into(),
                    official_name: Default::default(),
                };
                app.create_org(&by, &draft).await?.0
            };
            plans.push(StreetPlan {
                index: plans.len(),
                district_index: d,
                street: OrgId(street),
                street_name,
                district_name: district_name.clone(),
                region,
            });
        }
        // One district inspector per district.
        let roles = role_ids(&app, &["district_inspector"]).await?;
        let draft = UserDraft {
            username: format!("d{d:02}.ducha"),
            display_name: "区督查员".into(),
            mobile: String::new(),
            org_id: Some(district),
        };
        app.create_user(&by, &draft, &roles).await?;
    }
    let total_streets = plans.len();
    println!(
        "机构：{districts} 个区，{total_streets} 个街道；开始生成各街道数据（每街道 {} 件信访件）",
        args.petitions
    );

    // Fill the streets, `jobs` at a time; each has its own PRNG so the result does not
    // depend on the interleaving.
    let plans = Arc::new(std::sync::Mutex::new(plans.into_iter().rev().collect::<Vec<_>>()));
    let mut workers = Vec::new();
    let done_streets = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..args.jobs.max(1) {
        let app = app.clone();
        let plans = plans.clone();
        let done_streets = done_streets.clone();
        let (seed, n) = (args.seed, args.petitions);
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let next = plans.lock().map(|mut p| p.pop()).unwrap_or(None);
                let Some(plan) = next else { break };
                let t = Instant::now();
                let r = fill_street(&app, &plan, seed, n).await?;
                let k = done_streets.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                println!(
                    "  [{k}/{total_streets}] {}{}：{} 个机构，{} 个账户，{} 件信访件，{:.1} 秒",
                    plan.district_name,
                    plan.street_name,
                    r.org_nodes,
                    r.users,
                    r.petitions,
                    t.elapsed().as_secs_f64()
                );
                out.push((plan.index, r));
            }
            anyhow::Ok(out)
        }));
    }
    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await??);
    }
    results.sort_by_key(|(i, _)| *i);
    let users = results.iter().map(|(_, r)| r.users).sum::<usize>() + districts + 1;
    let petitions = results.iter().map(|(_, r)| r.petitions).sum();
    org_nodes += results.iter().map(|(_, r)| r.org_nodes).sum::<usize>();
    let (login_user, login_id, one_time) =
        results.first().and_then(|(_, r)| r.desk_worker.clone()).context("第一个街道没有信访工作人员")?;

    // The suite's account: a real login with the one-time password, then the password
    // change use case (ledger entry and audit line included).
    let s = app.login(&login_user, &one_time, "bench").await?;
    let session = app.session(&s.token).await?;
    app.change_password(&session, &one_time, BENCH_PASSWORD, BENCH_PASSWORD, "bench").await?;
    app.logout(&session, "bench").await?;
    // The API scenarios' account: an integration account beside the desk worker with the
    // same roles (tokens belong to integration accounts; one holding business permissions
    // gets its token from the operator, as `fazhi user token` does).
    let desk = fazhi_store::users::get_user(&app.store.read, login_id).await?.context("信访工作人员")?;
    let roles: Vec<i64> =
        fazhi_store::users::role_ids_of(&app.store.read, login_id).await?.into_iter().map(|r| r.0).collect();
    let op = operator();
    let op_by = By { who: &op, username: "system", source_addr: "bench" };
    let draft = fazhi_domain::user::UserDraft {
        username: "bench.api".into(),
        display_name: "压力测试对接".into(),
        mobile: String::new(),
        org_id: Some(desk.org_id),
    };
    let api_account = app.create_integration(&op_by, &draft, &roles).await?;
    let (_, api_token) = app.issue_token(&op_by, Some(api_account.0), "压力测试").await?;

    app.scan_clocks(&operator()).await?;
    app.checkpoint_all().await?;
    // The steady state a running installation is in: PostgreSQL's autovacuum reclaims the
    // row versions the generator's updates left and gathers statistics. Measured right after a
    // bulk load instead, a search plan depends on whether autovacuum happened to run yet
    // (seq scan through dead rows: 5 ms a query; after VACUUM ANALYZE: 0.4 ms).
    if let fazhi_store::Db::Postgres(p) = &app.store.write {
        sqlx::query("vacuum analyze").execute(p).await?;
    }
    let who = app.principal(login_id).await?;
    let q = fazhi_store::petitions::PetitionQuery { limit: 500, ..Default::default() };
    let petition_ids: Vec<i64> = app.petitions(&who, &q).await?.iter().map(|p| p.id).collect();
    let logs = fazhi_store::ledger::logs(&app.store.read).await?;
    let ledger_entries = logs.iter().map(|l| l.size as u64).sum();
    let largest = logs.iter().max_by_key(|l| l.size).context("账本")?;
    let mut tables = std::collections::BTreeMap::new();
    for t in RECORD_TABLES.iter().chain(INDEX_TABLES) {
        let sql = format!("select count(*) from {t}");
        let n: i64 = match &app.store.read {
            fazhi_store::Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?,
            fazhi_store::Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await?,
        };
        tables.insert((*t).to_owned(), n);
    }
    let records_total = RECORD_TABLES.iter().map(|t| tables[*t]).sum();
    let manifest = Manifest {
        engine: args.engine,
        scale: args.scale,
        seed: args.seed,
        petitions_per_street: args.petitions,
        database_url,
        districts,
        streets: total_streets,
        org_nodes,
        users,
        petitions,
        ledger_entries,
        tables,
        records_total,
        gen_seconds: started.elapsed().as_secs_f64(),
        login_user,
        login_password: BENCH_PASSWORD.into(),
        api_token,
        petition_ids,
        largest_log: largest.log_id,
        largest_log_entries: largest.size as u64,
        common_term: text::COMMON_TERM.into(),
        rare_term: text::RARE_TERMS[0].into(),
    };
    app.store.close().await;
    std::fs::write(Manifest::path(dir), serde_json::to_string_pretty(&manifest)?)?;
    println!("各表记录数：{:?}；业务记录合计 {}", manifest.tables, manifest.records_total);
    println!(
        "已生成：{} 个机构，{} 个账户，{} 件信访件，账本 {} 条；用时 {:.1} 秒（{:.0} 件/秒）",
        manifest.org_nodes,
        manifest.users,
        manifest.petitions,
        manifest.ledger_entries,
        manifest.gen_seconds,
        manifest.petitions as f64 / manifest.gen_seconds.max(1e-9)
    );
    Ok(manifest)
}

async fn role_ids(app: &App, codes: &[&str]) -> anyhow::Result<Vec<i64>> {
    let all = fazhi_store::roles::list_roles(&app.store.read).await?;
    Ok(codes.iter().filter_map(|c| all.iter().find(|r| r.code == *c).map(|r| r.id.0)).collect())
}

/// Departments, communities with grids, ~20 accounts and a year of petitions for one street.
#[expect(clippy::too_many_lines, reason = "a linear generator script")]
async fn fill_street(app: &App, plan: &StreetPlan, seed: u64, petitions: usize) -> anyhow::Result<StreetDone> {
    let mut rng = Prng::seed_from_u64(seed ^ (plan.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let op = operator();
    let by = By { who: &op, username: "bench", source_addr: "bench" };
    let org = |name: String, kind: &str, parent: OrgId| OrgDraft {
        name,
        kind: kind.into(),
        parent_id: Some(parent.0),
        code: String::new(),
        official_name: Default::default(),
    };
    let mut departments = Vec::new();
    for d in text::departments() {
        departments.push(app.create_org(&by, &org((*d).into(), "department", plan.street)).await?);
    }
    let mut used = Vec::new();
    let mut communities = Vec::new();
    for _ in 0..6 {
        let name = text::community_name(&mut rng, &mut used);
        let c = app.create_org(&by, &org(name.clone(), "community", plan.street)).await?;
        for g in 1..=3 {
            let short = name.trim_end_matches("社区");
            app.create_org(&by, &org(format!("{short}第{g}网格"), "grid", c)).await?;
        }
        communities.push((c, name));
    }
    let org_nodes = departments.len() + communities.len() * 4;

    // Accounts: created with one-time passwords, as an admin would.
    let mut users = 0;
    let mut desk = Vec::new();
    let mut leaders: Vec<i64> = Vec::new();
    let prefix = format!("d{:02}s{:03}", plan.district_index, plan.index);
    for (short, role, seat, count) in STAFF {
        let roles = role_ids(app, &[role]).await?;
        for k in 0..*count {
            let org_id = match seat {
                Seat::Street => plan.street,
                Seat::Department(i) => departments[*i],
                Seat::Community => communities[k % communities.len()].0,
            };
            let draft = UserDraft {
                username: format!("{prefix}.{short}{}", k + 1),
                display_name: text::person_name(&mut rng),
                mobile: text::mobile(&mut rng),
                org_id: Some(org_id.0),
            };
            let issued = app.create_user(&by, &draft, &roles).await?;
            users += 1;
            if *role == "principal" || *role == "deputy" {
                leaders.push(issued.user_id.0);
            }
            if *role == "petition_worker" {
                desk.push((issued.username, issued.user_id, issued.one_time_password));
            }
        }
    }
    let desk_worker = desk.first().cloned();
    let mut principals = Vec::new();
    for (name, id, _) in &desk {
        principals.push((name.clone(), app.principal(*id).await?));
    }

    // A year of petitions, oldest first, spread over every day of the year (weekends and
    // holidays too, a little less), registered at the desk and handled step by step.
    let today = fazhi_domain::clock::beijing_date(app.now());
    let mut days: Vec<i64> = (0..petitions)
        .map(|_| {
            loop {
                let age = rng.random_range(0..365);
                let wd = chrono::Datelike::weekday(&(today - chrono::Duration::days(age))).number_from_monday();
                if wd <= 5 || rng.random_bool(0.4) {
                    break age;
                }
            }
        })
        .collect();
    days.sort_unstable_by(|a, b| b.cmp(a));
    let mut people: Vec<PetitionerDraft> = Vec::new();
    let mut made = 0;
    let mut ids = Vec::new();
    // Through the same use cases as the forms (`intake_within`, `petition_step_in`: the
    // same validation, ledger entries, index rows and clocks), BATCH items to a transaction
    // instead of one transaction per step — what makes a city's million records take
    // minutes rather than hours. The first street (the suite's own) is written one
    // transaction per use case, exactly as typed.
    let batch = if plan.index == 0 { 1 } else { BULK_BATCH };
    let (uname0, who0) = &principals[0];
    let by0 = By { who: who0, username: uname0, source_addr: "bench" };
    let mut ctx = app.begin(&by0).await?;
    let mut in_tx = 0;
    for (i, age) in days.into_iter().enumerate() {
        let received = today - chrono::Duration::days(age);
        let community = communities.choose(&mut rng).cloned().context("社区")?;
        let draft = item(&mut rng, plan, &community.1, received, &mut people, i);
        let (uname, who) = &principals[i % principals.len()];
        let by = By { who, username: uname, source_addr: "bench" };
        ctx.by = by.clone();
        let intake = app.intake_within(&mut ctx, &draft).await.with_context(|| format!("登记 {draft:?}"))?;
        made += 1;
        ids.push(intake.id);
        handle(app, &mut ctx, &mut rng, intake.id, community.0, received, age, today).await?;
        in_tx += 1;
        if in_tx >= batch {
            ctx.commit().await?;
            ctx = app.begin(&by0).await?;
            in_tx = 0;
        }
    }
    ctx.commit().await?;
    // The street's other petition-work records: people's mediation and leaders' receptions.
    let (uname, who) = &principals[0];
    let by = By { who, username: uname, source_addr: "bench" };
    app.seed_street_mediation(&by, &plan.street_name, &ids, today).await?;
    if let [zhuren, fenguan, ..] = leaders[..] {
        app.seed_street_receptions(&by, &plan.street_name, &ids, today, zhuren, fenguan).await?;
    }
    Ok(StreetDone { org_nodes, users, petitions: made, desk_worker })
}

/// One petition item as a desk worker would type it. Fields added to `IntakeDraft` later
/// keep their defaults (hence the struct update, needless while there are none).
#[allow(clippy::needless_update)]
fn item(
    rng: &mut Prng,
    plan: &StreetPlan,
    community: &str,
    received: NaiveDate,
    people: &mut Vec<PetitionerDraft>,
    i: usize,
) -> IntakeDraft {
    let place = community.trim_end_matches("社区");
    let letter = text::letter(rng, place);
    let channel = *[
        "visit",
        "visit",
        "visit",
        "phone",
        "phone",
        "letter",
        "online",
        "online",
        "online",
        "hotline12345",
        "hotline12345",
        "platform",
    ]
    .choose(rng)
    .unwrap_or(&"visit");
    let external_no = match channel {
        "hotline12345" => format!("12345-{}-{:06}", received.format("%Y%m%d"), rng.random_range(0..1_000_000)),
        "platform" => format!("XF{}{:05}{:04}", received.format("%Y"), plan.index, i),
        _ => String::new(),
    };
    let category = match rng.random_range(0..100) {
        0..=19 => "suggestion",
        20..=24 => "accusation",
        _ => "claim",
    };
    let headcount = if rng.random_range(0..100) < 3 { rng.random_range(2..30) } else { 1 };
    let mut petitioners = Vec::new();
    let n = if rng.random_range(0..100) < 5 { rng.random_range(2..=3) } else { 1 };
    for _ in 0..n {
        // About one in ten comes back with another matter.
        let p = match people.choose(rng) {
            Some(p) if rng.random_range(0..10) == 0 => p.clone(),
            _ => {
                let p = PetitionerDraft {
                    name: text::person_name(rng),
                    phone: if rng.random_range(0..10) < 9 { text::mobile(rng) } else { String::new() },
                    id_number: if channel == "visit" || rng.random_range(0..4) == 0 {
                        text::citizen_id(rng, plan.region, received)
                    } else {
                        String::new()
                    },
                    address: format!(
                        "{}{}{}{}号楼{}门{}室",
                        plan.district_name.trim_end_matches("（模拟）"),
                        plan.street_name,
                        community,
                        rng.random_range(1..=40),
                        rng.random_range(1..=6),
                        rng.random_range(101..=1802)
                    ),
                };
                people.push(p.clone());
                p
            }
        };
        petitioners.push(p);
    }
    IntakeDraft {
        channel: channel.into(),
        external_no,
        category: category.into(),
        subject: letter.subject.into(),
        title: letter.title,
        content: letter.content,
        headcount: Some(headcount),
        received_on: received.to_string(),
        org_id: None,
        petitioners,
        ..Default::default()
    }
}

/// The handling an item of this age has had by now: recent ones are still open, most older
/// ones are closed, some were handed to their community (交办), a few were extended,
/// refused or are overdue.
#[allow(clippy::too_many_arguments)]
async fn handle(
    app: &App,
    ctx: &mut Ctx<'_>,
    rng: &mut Prng,
    id: i64,
    community: OrgId,
    received: NaiveDate,
    age: i64,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let day = |d: i64| Day((received + chrono::Duration::days(d)).min(today));
    if age < 10 && rng.random_range(0..10) < 7 {
        return Ok(());
    }
    if rng.random_range(0..100) < 4 {
        let reason = "不属于本机关职权范围，已告知信访人向有权处理的机关提出".to_owned();
        app.petition_step_in(ctx, id, Event::NotAccept { reason }).await?;
        return Ok(());
    }
    app.petition_step_in(ctx, id, Event::Accept { on: day(rng.random_range(0..=5)) }).await?;
    if rng.random_range(0..100) < 30 {
        let note = "请社区入户核实情况，5 个工作日内反馈处理意见".to_owned();
        app.petition_step_in(ctx, id, Event::Assign { to: community, note }).await?;
    }
    if age < 10 || rng.random_range(0..100) < 3 {
        return Ok(());
    }
    if age < 40 && rng.random_bool(0.5) {
        return Ok(());
    }
    let mut answer_after = rng.random_range(15..55);
    if rng.random_range(0..100) < 8 {
        let reason = "情况复杂，需多部门会商".to_owned();
        app.petition_step_in(ctx, id, Event::Extend { days: 30, approved: true, reason }).await?;
        answer_after += 30;
    }
    let outcome = *[Outcome::Support, Outcome::Support, Outcome::Explain, Outcome::Reject]
        .choose(rng)
        .unwrap_or(&Outcome::Explain);
    let reply = Event::Reply {
        outcome,
        legal_basis: "《信访工作条例》第三十一条、第三十二条".into(),
        text: "经调查核实，已责成相关单位依法处理，并向信访人说明有关情况和依据。".into(),
    };
    app.petition_step_in(ctx, id, reply).await?;
    if rng.random_range(0..100) < 5 {
        return Ok(());
    }
    app.petition_step_in(ctx, id, Event::Serve { on: day(answer_after) }).await?;
    if rng.random_range(0..100) < 90 {
        app.petition_step_in(ctx, id, Event::Close).await?;
    }
    Ok(())
}

/// An API body (`POST /api/v1/petitions`) for the write scenario: a fresh item received today.
pub fn api_bodies(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Prng::seed_from_u64(seed ^ 0xA5A5_5A5A);
    (0..n)
        .map(|i| {
            let l = text::letter(&mut rng, "万兴里");
            let phone = text::mobile(&mut rng);
            serde_json::json!({
                "channel": "hotline12345",
                "external_no": format!("BENCH-{seed}-{i:07}"),
                "category": "claim",
                "subject": l.subject,
                "title": l.title,
                "content": l.content,
                "headcount": 1,
                "petitioners": [{"name": text::person_name(&mut rng), "phone": phone}],
            })
            .to_string()
        })
        .collect()
}
