//! `fazhi-bench http`: a closed-loop HTTP/1.1 load generator. Each of C workers owns one
//! keep-alive connection and sends its next request as soon as the previous answer has
//! been read, for D seconds (or until N requests). Latency goes into an HDR histogram per
//! worker; any answer outside 2xx counts as an error and the first few are kept.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, client::conn::http1};
use hyper_util::rt::TokioIo;

/// The server: an address on this machine.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: String,
}

impl Target {
    /// `http://127.0.0.1:8080` (a path after the authority is ignored).
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("http://").context("只支持 http://地址:端口")?;
        let host = rest.split('/').next().unwrap_or_default().to_owned();
        let host_only = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let addr = if host_only == "localhost" {
            format!("127.0.0.1:{}", host.rsplit_once(':').map_or("80", |(_, p)| p)).parse()?
        } else {
            host.parse().with_context(|| format!("地址 {host} 无法识别（应为 IP:端口）"))?
        };
        let addr: SocketAddr = addr;
        if !addr.ip().is_loopback() {
            bail!("负载测试只能指向本机回环地址（127.0.0.0/8 或 ::1），而不是 {}", addr.ip());
        }
        Ok(Self { addr, host })
    }
}

/// One request to send (cloned cheaply: the body is shared).
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Req {
    pub fn get(path: impl Into<String>) -> Self {
        Self { method: Method::GET, path: path.into(), headers: Vec::new(), body: Bytes::new() }
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> anyhow::Result<Self> {
        self.headers.push((name, HeaderValue::from_str(value)?));
        Ok(self)
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(t: &Target) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(t.addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { sender })
    }

    pub async fn send(&mut self, t: &Target, r: &Req) -> anyhow::Result<Resp> {
        self.sender.ready().await?;
        let mut b = hyper::Request::builder().method(r.method.clone()).uri(&r.path).header(header::HOST, &t.host);
        for (k, v) in &r.headers {
            b = b.header(k, v);
        }
        let resp = self.sender.send_request(b.body(Full::new(r.body.clone()))?).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Resp { status: parts.status.as_u16(), headers: parts.headers, body })
    }
}

/// `application/x-www-form-urlencoded` / query-string encoding.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn cookie_value(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let first = v.split(';').next()?;
        let (k, val) = first.split_once('=')?;
        (k.trim() == name && !val.is_empty()).then(|| val.to_owned())
    })
}

/// Logs in through the staff login form (double-submit CSRF cookie) and returns the
/// `Cookie` header value of the session.
pub async fn login(t: &Target, user: &str, password: &str) -> anyhow::Result<String> {
    let mut c = Conn::open(t).await.with_context(|| format!("无法连接 {}", t.addr))?;
    let page = c.send(t, &Req::get("/login")).await?;
    let csrf = cookie_value(&page.headers, "fazhi_login_csrf").context("登录页没有设置 CSRF Cookie")?;
    let form =
        format!("csrf={}&username={}&password={}&next=%2F", urlencode(&csrf), urlencode(user), urlencode(password));
    let req = Req { method: Method::POST, path: "/login".into(), headers: Vec::new(), body: Bytes::from(form) }
        .header(header::COOKIE, &format!("fazhi_login_csrf={csrf}"))?
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")?;
    let r = c.send(t, &req).await?;
    let location = r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let Some(session) = cookie_value(&r.headers, "fazhi_session").filter(|_| (300..400).contains(&r.status)) else {
        bail!("登录失败（HTTP {}）：{}", r.status, excerpt(&r.body));
    };
    if location.starts_with("/account/password") {
        bail!("账户 {user} 须先修改一次性密码");
    }
    Ok(format!("fazhi_session={session}"))
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    // Pages are long: the <title> or the first error text says most.
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.chars().take(240).collect()
}

/// What one load run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadResult {
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    pub errors: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    pub first_errors: Vec<String>,
}

impl LoadResult {
    pub fn print(&self, label: &str) {
        println!(
            "{label}: {} 次请求 / {:.1} 秒 = {:.0} 次/秒；延迟 p50 {:.2} ms，p90 {:.2} ms，p99 {:.2} ms，最大 {:.2} ms；错误 {}",
            self.requests, self.seconds, self.rps, self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms, self.errors
        );
        for e in &self.first_errors {
            println!("  错误：{e}");
        }
    }
}

const KEEP_ERRORS: usize = 5;

/// Runs `conns` closed-loop workers for `duration` (or `max` requests in all), cycling
/// through `reqs` (worker w sends reqs[w], reqs[w + conns], …).
pub async fn load(
    t: &Target,
    reqs: Arc<Vec<Req>>,
    conns: usize,
    duration: Duration,
    max: Option<u64>,
) -> anyhow::Result<LoadResult> {
    anyhow::ensure!(!reqs.is_empty(), "没有要发送的请求");
    let t = Arc::new(t.clone());
    let sent = Arc::new(AtomicU64::new(0));
    let errors_seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for w in 0..conns {
        let (t, reqs, sent, errors_seen) = (t.clone(), reqs.clone(), sent.clone(), errors_seen.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds");
            let (mut ok, mut errors) = (0u64, 0u64);
            let mut conn: Option<Conn> = None;
            let mut i = w;
            let note = |msg: String| {
                if let Ok(mut v) = errors_seen.lock()
                    && v.len() < KEEP_ERRORS
                {
                    v.push(msg);
                }
            };
            while Instant::now() < deadline {
                if max.is_some_and(|m| sent.fetch_add(1, Ordering::Relaxed) >= m) {
                    break;
                }
                let c = match conn.as_mut() {
                    Some(c) => c,
                    None => match Conn::open(&t).await {
                        Ok(c) => conn.insert(c),
                        Err(e) => {
                            errors += 1;
                            note(format!("连接失败：{e}"));
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    },
                };
                let r = &reqs[i % reqs.len()];
                i += conns;
                let t0 = Instant::now();
                match tokio::time::timeout(Duration::from_secs(60), c.send(&t, r)).await {
                    Ok(Ok(resp)) => {
                        let us = t0.elapsed().as_micros().max(1) as u64;
                        let _ = hist.record(us.min(120_000_000));
                        if (200..300).contains(&resp.status) {
                            ok += 1;
                        } else {
                            errors += 1;
                            note(format!("{} {} → HTTP {}：{}", r.method, r.path, resp.status, excerpt(&resp.body)));
                        }
                    }
                    Ok(Err(e)) => {
                        errors += 1;
                        conn = None;
                        note(format!("{} {} → {e}", r.method, r.path));
                    }
                    Err(_) => {
                        errors += 1;
                        conn = None;
                        note(format!("{} {} → 60 秒无应答", r.method, r.path));
                    }
                }
            }
            (hist, ok, errors)
        }));
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 120_000_000, 3)?;
    let (mut ok, mut errors) = (0, 0);
    for task in tasks {
        let (h, o, e) = task.await?;
        hist.add(&h)?;
        ok += o;
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    let ms = |v: u64| v as f64 / 1000.0;
    let first_errors = errors_seen.lock().map(|v| v.clone()).unwrap_or_default();
    let requests = ok + errors;
    Ok(LoadResult {
        connections: conns,
        seconds,
        requests,
        errors,
        rps: requests as f64 / seconds.max(1e-9),
        p50_ms: ms(hist.value_at_quantile(0.5)),
        p90_ms: ms(hist.value_at_quantile(0.9)),
        p99_ms: ms(hist.value_at_quantile(0.99)),
        max_ms: ms(hist.max()),
        mean_ms: hist.mean() / 1000.0,
        first_errors,
    })
}

/// `10s`, `500ms`, `2m` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num.parse().map_err(|_| format!("无法识别的时长：{s}"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        _ => return Err(format!("无法识别的时长单位：{unit}（可用 ms、s、m）")),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Server, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long)]
    pub url: String,
    /// Staff account to log in with (session cookie on every request).
    #[arg(long)]
    pub user: Option<String>,
    #[arg(long, default_value = "")]
    pub password: String,
    /// API bearer token (Authorization header on every request).
    #[arg(long)]
    pub token: Option<String>,
    /// Path to request; repeat to cycle through several.
    #[arg(long = "path", default_value = "/healthz")]
    pub paths: Vec<String>,
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// Request body (with --method POST); sent as JSON.
    #[arg(long)]
    pub body: Option<String>,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 64)]
    pub connections: usize,
    /// How long to run, e.g. 10s.
    #[arg(short = 'd', long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop after this many requests in all.
    #[arg(long)]
    pub max_requests: Option<u64>,
}

pub async fn run(a: HttpArgs) -> anyhow::Result<()> {
    let t = Target::parse(&a.url)?;
    let cookie = match &a.user {
        Some(u) => Some(login(&t, u, &a.password).await?),
        None => None,
    };
    let method = Method::from_bytes(a.method.to_ascii_uppercase().as_bytes())?;
    let mut reqs = Vec::new();
    for p in &a.paths {
        let mut r = Req { method: method.clone(), path: p.clone(), headers: Vec::new(), body: Bytes::new() };
        if let Some(c) = &cookie {
            r = r.header(header::COOKIE, c)?;
        }
        if let Some(tok) = &a.token {
            r = r.header(header::AUTHORIZATION, &format!("Bearer {tok}"))?;
        }
        if let Some(b) = &a.body {
            r = r.header(header::CONTENT_TYPE, "application/json")?;
            r.body = Bytes::from(b.clone());
        }
        reqs.push(r);
    }
    let res = load(&t, Arc::new(reqs), a.connections, a.duration, a.max_requests).await?;
    res.print(&format!("{} {}", a.method, a.paths.join(" ")));
    if res.errors > 0 {
        bail!("{} 个请求出错", res.errors);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_encoding() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert!(parse_duration("2h").is_err());
        assert_eq!(urlencode("Fazhi@demo 2026"), "Fazhi%40demo%202026");
        assert_eq!(urlencode("物"), "%E7%89%A9");
        assert!(Target::parse("http://10.0.0.1:80").is_err());
        assert_eq!(Target::parse("http://127.0.0.1:8080/x").unwrap().addr.port(), 8080);
    }
}
