//! `fazhi-bench suite`: starts `fazhi serve` on generated data (made once and cached by
//! engine, scale, seed and size; every run works on a copy) and measures in one run:
//! `/healthz` (the baseline), the petition list and one petition page of a street desk
//! worker, search for a common and a rare term, petition creation through the API,
//! `fazhi ledger verify` over the largest log and the server's peak memory. Prints a
//! Markdown table (each figure beside the baseline) and writes the results as JSON.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use fazhi_domain::clock::Clock;
use hyper::Method;
use hyper::header;

use crate::Engine;
use crate::generate::{self, GenArgs, Manifest, Scale};
use crate::http::{self, LoadResult, Req, Target};

#[derive(Debug, Args)]
pub struct SuiteArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    engine: Engine,
    #[arg(long, value_enum, default_value = "street")]
    scale: Scale,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Quick check for CI: street scale, few records, ~2 s per scenario; exits non-zero
    /// when any request failed (speed is not judged).
    #[arg(long)]
    smoke: bool,
    /// The `fazhi` binary to start. Default: `fazhi` next to this program.
    #[arg(long)]
    server: Option<PathBuf>,
    /// Where generated installations are kept between runs.
    #[arg(long, default_value = "bench/cache")]
    cache_dir: PathBuf,
    /// Where the JSON results go (default bench/results; none with --smoke).
    #[arg(long)]
    results_dir: Option<PathBuf>,
    /// Concurrent connections per scenario.
    #[arg(short = 'c', long, default_value_t = 64)]
    connections: usize,
    /// Length of each scenario.
    #[arg(short = 'd', long, value_parser = http::parse_duration)]
    duration: Option<Duration>,
    /// Petitions per street (default 2,000; 200 with --smoke).
    #[arg(long)]
    petitions: Option<usize>,
    /// Streets generated at the same time.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    #[arg(long, env = "FAZHI_TEST_PG_URL", default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pg_url: String,
}

/// One measured scenario.
#[derive(Debug, Clone, serde::Serialize)]
struct Scenario {
    name: &'static str,
    label: &'static str,
    request: String,
    #[serde(flatten)]
    result: LoadResult,
    /// req/s divided by the baseline's req/s.
    rps_vs_baseline: f64,
    /// p99 divided by the baseline's p99.
    p99_vs_baseline: f64,
    /// The target (city scale, 2 cores, 64 connections).
    target: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Verify {
    log_id: i64,
    entries: u64,
    seconds: f64,
    entries_per_sec: f64,
    ok: bool,
    output_tail: String,
}

#[derive(Debug, Clone, serde::Serialize)]
struct Machine {
    cpus: usize,
    cpu_model: String,
    memory_gib: f64,
    os: String,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_owned()))
        .unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    Machine {
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        cpu_model,
        memory_gib: kib / 1024.0 / 1024.0,
        os: format!("Linux {os}"),
    }
}

/// A running `fazhi serve`, stopped (SIGTERM, then kill) when dropped.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmHWM` (peak resident set) and `VmRSS` of the process, in KiB.
    fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn stop(&mut self) -> anyhow::Result<bool> {
        if self.child.try_wait()?.is_some() {
            return Ok(false);
        }
        // No unsafe code here: ask the kill(1) program to send SIGTERM.
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        Ok(false)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

async fn start_server(bin: &Path, data: &Path, log: PathBuf) -> anyhow::Result<(Server, Target)> {
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let out = std::fs::File::create(&log)?;
    let child = Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", &listen])
        .env("FAZHI_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .with_context(|| format!("无法启动 {}", bin.display()))?;
    let mut server = Server { child, log };
    let target = Target::parse(&format!("http://{listen}"))?;
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!("服务器启动失败（{status}）：\n{}", server.log_tail());
        }
        if let Ok(mut c) = http::Conn::open(&target).await
            && c.send(&target, &Req::get("/healthz")).await.is_ok_and(|r| r.status == 200)
        {
            return Ok((server, target));
        }
        if Instant::now() > until {
            bail!("服务器 120 秒内未就绪：\n{}", server.log_tail());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last path segment of a database URL (its name).
fn db_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    base.rsplit('/').next().unwrap_or_default().to_owned()
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

/// Runs `fazhi ledger verify --org LOG` and reads the count and rate it prints.
fn ledger_verify(bin: &Path, data: &Path, log_id: i64) -> anyhow::Result<Verify> {
    let t = Instant::now();
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(data)
        .args(["ledger", "verify", "--org", &log_id.to_string()])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("无法运行 {} ledger verify", bin.display()))?;
    let wall = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // 共核验 N 条记录，用时 X 秒（R 条/秒）
    let line = stdout.lines().find(|l| l.starts_with("共核验")).unwrap_or_default();
    let num = |after: &str, before: &str| -> Option<f64> {
        let rest = line.split_once(after)?.1;
        rest.split_once(before)?.0.trim().parse().ok()
    };
    let entries = num("共核验", "条记录").unwrap_or(0.0) as u64;
    let seconds = num("用时", "秒").unwrap_or(wall);
    let tail: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
    Ok(Verify {
        log_id,
        entries,
        seconds,
        entries_per_sec: entries as f64 / seconds.max(1e-9),
        ok: out.status.success() && entries > 0,
        output_tail: tail[tail.len().saturating_sub(6)..].join("\n"),
    })
}

/// The generated installation for these settings: reused when cached, made otherwise.
async fn cached_data(a: &SuiteArgs, cache: &Path, petitions: usize) -> anyhow::Result<(PathBuf, Manifest)> {
    let dir = cache.join(format!("{}-{}-s{}-p{}", a.engine.code(), a.scale.code(), a.seed, petitions));
    if let Ok(m) = Manifest::load(&dir) {
        println!("使用已生成的数据：{}（生成用时 {:.1} 秒）", dir.display(), m.gen_seconds);
        return Ok((dir, m));
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    println!("生成数据：{}", dir.display());
    let g = GenArgs {
        engine: a.engine,
        scale: a.scale,
        seed: a.seed,
        data_dir: dir.clone(),
        pg_url: a.pg_url.clone(),
        petitions,
        jobs: a.jobs,
    };
    let m = generate::generate(&g).await?;
    Ok((dir, m))
}

/// A copy of the cached installation for this run (the write scenario changes it).
async fn run_copy(a: &SuiteArgs, cached: &Path, m: &Manifest, run: &Path) -> anyhow::Result<Option<String>> {
    copy_dir(cached, run)?;
    match (&m.database_url, a.engine) {
        (Some(url), Engine::Postgres) => {
            let name = format!("fazhi_bench_run_{}", std::process::id());
            let new = generate::pg_create(&a.pg_url, &name, Some(&db_name(url))).await?;
            std::fs::write(run.join("fazhi.toml"), format!("database_url = \"{new}\"\n"))?;
            Ok(Some(name))
        }
        _ => Ok(None),
    }
}

const TARGETS: &[(&str, &str, &str)] = &[
    ("list", "≥8,000/s, p99 ≤25 ms", "≥4,000/s"),
    ("record", "≥8,000/s", "≥4,000/s"),
    ("search_common", "p99 ≤50 ms (1M records)", "p99 ≤100 ms"),
    ("search_rare", "p99 ≤50 ms (1M records)", "p99 ≤100 ms"),
    ("create", "≥1,500/s", "≥1,000/s"),
];

fn target(engine: Engine, name: &str) -> Option<String> {
    TARGETS.iter().find(|t| t.0 == name).map(|t| if engine == Engine::Sqlite { t.1 } else { t.2 }.to_owned())
}

fn today() -> String {
    fazhi_domain::clock::beijing_date(fazhi_domain::clock::SystemClock.now_ms()).to_string()
}

pub async fn run(a: SuiteArgs) -> anyhow::Result<()> {
    let scale = if a.smoke { Scale::Street } else { a.scale };
    let a = SuiteArgs { scale, ..a };
    // ~2,000 items a street at every scale (the street); a city of 250 streets then
    // holds 500,000 items and ~2 million business records (clocks, transfers, mediation…).
    let petitions = a.petitions.unwrap_or(if a.smoke { 200 } else { 2_000 });
    let duration = a.duration.unwrap_or(Duration::from_secs(if a.smoke { 2 } else { 10 }));
    let server_bin = match &a.server {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.parent().context("程序目录")?.join("fazhi"),
    };
    anyhow::ensure!(server_bin.exists(), "找不到服务器程序 {}（用 --server 指定）", server_bin.display());
    // Smoke runs keep nothing: their data lives in a temporary directory.
    let smoke_cache = if a.smoke { Some(tempfile::tempdir()?) } else { None };
    let cache = smoke_cache.as_ref().map_or(a.cache_dir.clone(), |d| d.path().to_path_buf());
    std::fs::create_dir_all(&cache)?;
    let (cached, manifest) = cached_data(&a, &cache, petitions).await?;
    let run_dir = cache.join(format!("run-{}", std::process::id()));
    if run_dir.exists() {
        std::fs::remove_dir_all(&run_dir)?;
    }
    let run_db = run_copy(&a, &cached, &manifest, &run_dir).await?;
    let outcome = measure(&a, &server_bin, &run_dir, &manifest, duration).await;
    // Clean up the run copy whatever happened.
    let _ = std::fs::remove_dir_all(&run_dir);
    if let Some(name) = &run_db {
        let _ = generate::pg_drop(&a.pg_url, name).await;
    }
    if a.smoke
        && let Some(url) = &manifest.database_url
    {
        let _ = generate::pg_drop(&a.pg_url, &db_name(url)).await;
    }
    let report = outcome?;

    let results_dir = a.results_dir.clone().or_else(|| (!a.smoke).then(|| PathBuf::from("bench/results")));
    if let Some(dir) = results_dir {
        std::fs::create_dir_all(&dir)?;
        let suffix = if a.smoke { "-smoke" } else { "" };
        let path = dir.join(format!("{}-{}-{}{suffix}.json", today(), a.engine.code(), a.scale.code()));
        std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
        println!("\n结果已写入 {}", path.display());
    }
    let errors: u64 =
        report["scenarios"].as_array().map(|v| v.iter().map(|s| s["errors"].as_u64().unwrap_or(0)).sum()).unwrap_or(0);
    let verify_ok = report["ledger_verify"]["ok"].as_bool().unwrap_or(false);
    let stopped_ok = report["server_stopped_cleanly"].as_bool().unwrap_or(false);
    if errors > 0 || !verify_ok || !stopped_ok {
        bail!(
            "有 {errors} 个请求出错；账本核验{}；服务器{}正常停止",
            if verify_ok { "通过" } else { "未通过" },
            if stopped_ok { "" } else { "未" }
        );
    }
    Ok(())
}

#[expect(clippy::too_many_lines, reason = "a linear benchmark script: scenarios in order")]
async fn measure(
    a: &SuiteArgs,
    bin: &Path,
    run_dir: &Path,
    m: &Manifest,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    let log = run_dir.join("serve.log");
    let (mut server, t) = start_server(bin, run_dir, log).await?;
    let (_, rss_idle) = server.memory_kib();
    println!("服务器已启动：http://{}（PID {}，常驻内存 {:.1} MiB）", t.addr, server.pid(), rss_idle as f64 / 1024.0);
    let cookie = http::login(&t, &m.login_user, &m.login_password).await?;
    let with_cookie = |path: String| Req::get(path).header(header::COOKIE, &cookie);
    let list = vec![with_cookie("/petitions".into())?];
    let mut record = Vec::new();
    for id in m.petition_ids.iter().take(200) {
        record.push(with_cookie(format!("/petitions/{id}"))?);
    }
    anyhow::ensure!(!record.is_empty(), "生成的数据中没有该账户可见的信访件");
    let search = |q: &str| with_cookie(format!("/search?q={}", http::urlencode(q)));
    let n_bodies = if a.smoke { 1_000 } else { 30_000 };
    let create: Vec<Req> = generate::api_bodies(a.seed ^ u64::from(std::process::id()), n_bodies)
        .into_iter()
        .map(|b| {
            Req { method: Method::POST, path: "/api/v1/petitions".into(), headers: Vec::new(), body: Bytes::from(b) }
                .header(header::AUTHORIZATION, &format!("Bearer {}", m.api_token))?
                .header(header::CONTENT_TYPE, "application/json")
        })
        .collect::<anyhow::Result<_>>()?;
    let plan: Vec<(&'static str, &'static str, String, Vec<Req>)> = vec![
        ("baseline", "基线：/healthz", "GET /healthz".into(), vec![Req::get("/healthz")]),
        ("list", "信访件列表页（街道信访办工作人员）", "GET /petitions".into(), list),
        ("record", "信访件详情页（期限与时间线）", format!("GET /petitions/{{id}} × {}", record.len()), record),
        (
            "search_common",
            "全文检索：常见词",
            format!("GET /search?q={}", m.common_term),
            vec![search(&m.common_term)?],
        ),
        ("search_rare", "全文检索：罕见词", format!("GET /search?q={}", m.rare_term), vec![search(&m.rare_term)?]),
        ("create", "接口登记信访件（写入）", "POST /api/v1/petitions".into(), create),
    ];
    let mut scenarios: Vec<Scenario> = Vec::new();
    for (name, label, request, reqs) in plan {
        let r = http::load(&t, Arc::new(reqs), a.connections, duration, None).await?;
        r.print(label);
        let (base_rps, base_p99) =
            scenarios.first().map_or((r.rps, r.p99_ms), |b| (b.result.rps, b.result.p99_ms.max(1e-3)));
        scenarios.push(Scenario {
            name,
            label,
            request,
            rps_vs_baseline: r.rps / base_rps.max(1e-9),
            p99_vs_baseline: r.p99_ms / base_p99.max(1e-3),
            target: target(a.engine, name),
            result: r,
        });
    }
    let (peak_kib, rss_kib) = server.memory_kib();
    let stopped_cleanly = server.stop()?;
    if !stopped_cleanly {
        println!("服务器未正常停止：\n{}", server.log_tail());
    }
    let verify = ledger_verify(bin, run_dir, m.largest_log)?;
    println!(
        "账本核验（账本 {}）：{} 条，{:.2} 秒，{:.0} 条/秒{}",
        verify.log_id,
        verify.entries,
        verify.seconds,
        verify.entries_per_sec,
        if verify.ok { "" } else { "，未通过" }
    );
    if !verify.ok {
        println!("{}", verify.output_tail);
    }

    let base = &scenarios[0].result;
    println!("\n### {} · {} · {}\n", today(), a.engine.code(), a.scale.code());
    println!(
        "数据：{} 个街道，{} 个账户，{} 件信访件，账本 {} 条（生成用时 {:.0} 秒）；{} 个连接，每项 {:.0} 秒\n",
        m.streets,
        m.users,
        m.petitions,
        m.ledger_entries,
        m.gen_seconds,
        a.connections,
        duration.as_secs_f64()
    );
    println!(
        "| scenario | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | req/s ÷ baseline | p99 ÷ baseline | target |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for s in &scenarios {
        let r = &s.result;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} | {:.3} | {:.1} | {} |",
            s.label,
            r.rps,
            r.p50_ms,
            r.p90_ms,
            r.p99_ms,
            r.max_ms,
            r.errors,
            s.rps_vs_baseline,
            s.p99_vs_baseline,
            s.target.as_deref().unwrap_or("—")
        );
    }
    println!(
        "| ledger verify（账本 {}，{} 条） | {:.0} entries/s | | | | {:.2} s | {} | {:.3} | | ≥500,000 entries/s |",
        verify.log_id,
        verify.entries,
        verify.entries_per_sec,
        verify.seconds,
        if verify.ok { 0 } else { 1 },
        verify.entries_per_sec / base.rps.max(1e-9)
    );
    println!("| server peak RSS (VmHWM) | {:.0} MiB | | | | | | | | ≤300 MB |", peak_kib as f64 / 1024.0);

    Ok(serde_json::json!({
        "date": today(),
        "engine": a.engine,
        "scale": a.scale,
        "smoke": a.smoke,
        "machine": machine(),
        "connections": a.connections,
        "scenario_seconds": duration.as_secs_f64(),
        "data": {
            "districts": m.districts, "streets": m.streets, "org_nodes": m.org_nodes, "users": m.users,
            "petitions": m.petitions, "ledger_entries": m.ledger_entries, "gen_seconds": m.gen_seconds,
            "seed": m.seed, "petitions_per_street": m.petitions_per_street,
        },
        "scenarios": scenarios,
        "ledger_verify": verify,
        "server_memory": { "peak_rss_kib": peak_kib, "rss_end_kib": rss_kib, "rss_idle_kib": rss_idle },
        "server_stopped_cleanly": stopped_cleanly,
    }))
}
