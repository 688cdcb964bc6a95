//! `fazhi-bench infra`: measures the record infrastructure on a fresh database of either
//! engine — ledger appends through a real use case and in bare one-entry transactions,
//! `ledger verify` throughput, and search latency over a generated Chinese corpus — and
//! prints each figure beside a baseline measured in the same run (a bare one-row insert
//! transaction; a point select).

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use fazhi_app::App;
use fazhi_app::org::By;
use fazhi_domain::OrgId;
use fazhi_domain::access::{ORG_READ, ScopeFilter};
use fazhi_domain::clock::SystemClock;
use fazhi_domain::org::OrgDraft;
use fazhi_domain::org::OrgPath;
use fazhi_domain::security::SecurityPolicy;
use fazhi_store::ledger::NewEntry;
use fazhi_store::search::{SearchDoc, Segmenter};

use crate::Engine;

#[derive(Debug, Args)]
pub struct InfraArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    engine: Engine,
    /// PostgreSQL server for --engine postgres (a database is created and dropped).
    #[arg(long, env = "FAZHI_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
    /// Ledger entries to append in bare transactions.
    #[arg(long, default_value_t = 20_000)]
    entries: u64,
    /// Use-case calls (rename an org node: validation, ledger, audit, search index).
    #[arg(long, default_value_t = 2_000)]
    use_cases: u64,
    /// Documents in the search corpus.
    #[arg(long, default_value_t = 20_000)]
    docs: u64,
}

fn rate(n: u64, secs: f64) -> f64 {
    n as f64 / secs.max(1e-9)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

const PHRASES: &[&str] = &[
    "居民反映小区消防通道被电动自行车占用，请求清理",
    "商户占道经营影响通行，综合执法大队责令改正",
    "邻里噪声纠纷经人民调解委员会调解达成协议",
    "物业公司拒不维修电梯，业主申请信息公开",
    "拖欠农民工工资，劳资纠纷申请听证",
    "违法建设拆除前告知当事人陈述申辩权利",
    "飞线充电存在火灾隐患，网格员现场劝导整改",
    "校园周边食品安全专项检查发现过期食品",
];

#[expect(clippy::too_many_lines, reason = "a linear benchmark script: each figure beside its baseline")]
pub async fn run(cli: InfraArgs) -> anyhow::Result<()> {
    let db = match cli.engine {
        Engine::Sqlite => fazhi_testkit::TestDb::sqlite().await,
        Engine::Postgres => fazhi_testkit::TestDb::postgres(&cli.pg_url).await,
    };
    let app = App::new(db.store.clone(), std::sync::Arc::new(SystemClock), SecurityPolicy::default());
    app.seed_demo().await?;
    let admin = fazhi_store::users::get_by_username(&app.store.read, "admin").await?.context("demo admin")?;
    let who = app.principal(admin.user_id()).await?;
    let by = By { who: &who, username: "admin", source_addr: "bench" };
    let street = OrgId(admin.org_id);
    println!("engine: {:?}", cli.engine);

    // Baseline: a bare one-row insert transaction, and a point select.
    let n = cli.entries.min(5_000);
    let t = Instant::now();
    for i in 0..n {
        let mut tx = app.store.begin().await?;
        fazhi_store::auth::record_failure(&mut tx, "bench", i as i64).await?;
        tx.commit().await?;
    }
    let base_tx = rate(n, t.elapsed().as_secs_f64());
    let t = Instant::now();
    for _ in 0..n {
        fazhi_store::org::get_node(&app.store.read, street).await?;
    }
    let base_read = rate(n, t.elapsed().as_secs_f64());
    println!("| figure | value | baseline (same run) | ratio |");
    println!("|---|---|---|---|");
    println!("| baseline: one-row insert tx | {base_tx:.0}/s | — | — |");
    println!("| baseline: point select | {base_read:.0}/s | — | — |");

    // Ledger append, bare (one entry per transaction, as every use case does).
    let t = Instant::now();
    for i in 0..cli.entries {
        let mut tx = app.store.begin().await?;
        let e = NewEntry {
            log_id: street.0,
            at: i as i64,
            actor_id: Some(admin.id),
            actor_name: "bench".into(),
            record_type: "bench".into(),
            record_id: (i % 1000).to_string(),
            action: "bench.append".into(),
            change: serde_json::json!({"n": i, "text": PHRASES[(i % 8) as usize]}),
            attachments: vec![],
        };
        fazhi_store::ledger::append(&mut tx, app.ledger.alg, e).await?;
        tx.commit().await?;
    }
    let append = rate(cli.entries, t.elapsed().as_secs_f64());
    println!("| ledger append, 1 entry/tx | {append:.0}/s | {base_tx:.0}/s | {:.2} |", append / base_tx);

    // The whole write path of a use case.
    let grid = fazhi_store::org::list_nodes(&app.store.read, Some(&ScopeFilter::All))
        .await?
        .into_iter()
        .find(|n| n.kind == "grid")
        .context("demo grid")?;
    let t = Instant::now();
    for i in 0..cli.use_cases {
        let d = OrgDraft { name: format!("网格{i}"), kind: "grid".into(), ..Default::default() };
        app.update_org(&by, OrgId(grid.id), &d).await?;
    }
    let uc = rate(cli.use_cases, t.elapsed().as_secs_f64());
    println!(
        "| use case (rename node: check, validate, write, ledger, audit, index) | {uc:.0}/s | {base_tx:.0}/s | {:.2} |",
        uc / base_tx
    );

    // Verify the whole log.
    app.checkpoint_all().await?;
    let t = Instant::now();
    let reports = app
        .verify_ledger(
            &fazhi_domain::access::Principal::system(
                fazhi_domain::access::SystemActor::Operator,
                fazhi_domain::OrgId(0),
                fazhi_domain::org::OrgPath::root(fazhi_domain::OrgId(0)),
            ),
            Some(street.0),
            |_, _| {},
        )
        .await?;
    let secs = t.elapsed().as_secs_f64();
    let entries: u64 = reports.iter().map(|r| r.entries).sum();
    anyhow::ensure!(reports.iter().all(|r| r.problems.is_empty()), "verify found problems: {reports:?}");
    let verify = rate(entries, secs);
    println!(
        "| ledger verify ({entries} entries) | {verify:.0} entries/s | {base_read:.0} selects/s | {:.1} |",
        verify / base_read
    );

    // Search over a generated corpus across 10 streets (only street A visible).
    let seg = Segmenter::shared();
    let mut done = 0;
    let t = Instant::now();
    while done < cli.docs {
        let mut tx = app.store.begin().await?;
        for _ in 0..500.min(cli.docs - done) {
            let i = done;
            let org = if i % 10 == 0 { street } else { OrgId(100_000 + (i % 10) as i64) };
            let holder = fazhi_domain::access::Holder { org_id: org, org_path: OrgPath::root(org), owner: None };
            let doc = SearchDoc {
                kind: &fazhi_domain::record::ORG_NODE,
                // Not a real node: ids of their own so they never meet the street's documents.
                record_id: format!("bench-{i}"),
                holders: std::slice::from_ref(&holder),
                title: format!("第{i}号 {}", &PHRASES[(i % 8) as usize][..12]),
                body: format!("{} {} 编号{i}", PHRASES[(i % 8) as usize], PHRASES[((i / 8) % 8) as usize]),
                updated_at: i as i64,
            };
            fazhi_store::search::upsert_doc(&mut tx, &seg, &doc).await?;
            done += 1;
        }
        tx.commit().await?;
    }
    let index = rate(cli.docs, t.elapsed().as_secs_f64());
    println!("| search indexing | {index:.0} docs/s | {base_tx:.0} tx/s | — |");
    let filter = who.filter(ORG_READ);
    for (label, q, scope) in [
        ("common term, street scope", "消防通道", filter.clone()),
        ("rare term, street scope", "编号1230", filter.clone()),
        ("common term, all streets", "调解", Some(ScopeFilter::All)),
    ] {
        let mut lat = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            fazhi_store::search::search(
                &app.store.read,
                &seg,
                q,
                &[(&fazhi_domain::record::ORG_NODE, scope.clone())],
                20,
            )
            .await?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| search {label} ({q}) | p50 {:.1} ms, p99 {:.1} ms | point select {:.3} ms | — |",
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            1000.0 / base_read
        );
    }
    let _ = fazhi_ledger::HashAlg::Sha256;
    Ok(())
}
