//! One configuration: TOML file < `FAZHI_*` environment < command-line flags.
//!
//! The file is `--config FILE` (or `FAZHI_CONFIG`), else `fazhi.toml` in the data
//! directory when present. Unknown keys are an error, so a typo never goes unnoticed.
//! Secrets (the database URL may hold a password) are never printed.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fazhi_domain::security::SecurityPolicy;

/// What the TOML file may say.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub secure_cookies: Option<bool>,
    pub body_limit_kib: Option<usize>,
    /// Hash of new ledgers: "sha256" (default) or "sm3".
    pub ledger_hash: Option<String>,
    /// Largest attachment, in MiB (default 50).
    pub attachment_max_mib: Option<u64>,
    /// Where attachment bytes live: "local" (default: `blobs/` in the data directory) or
    /// "s3" (needs a build with `--features s3`; credentials from AWS_* variables).
    pub blob_store: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub security: SecurityPolicy,
    pub install: InstallConfig,
    /// 黄牌 when a clock is due within this many working days (default 3).
    pub yellow_card_working_days: Option<u32>,
    /// An open petition received more than this many days ago is 积案 (default 90).
    pub petition_backlog_days: Option<u32>,
    /// Seconds between checkpoint rounds of a server (default 5, 1–60): every write a
    /// server acknowledged is covered by a signed checkpoint within this time.
    pub checkpoint_interval_secs: Option<u64>,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` / `X-Real-IP`
    /// names the client; none by default.
    pub trusted_proxies: Vec<String>,
    /// Hosts reminder webhooks may be sent to over https (default: the 企业微信 and 钉钉
    /// group robots).
    pub webhook_hosts: Option<Vec<String>>,
    /// Per-installation changes to deadline rules (values DOMAIN.md marks UNVERIFIED,
    /// sectoral rules), by rule id; each needs its `basis`.
    pub deadline_rules: fazhi_domain::deadline::RuleOverrides,
}

/// Names used when a new installation is created.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstallConfig {
    pub district: String,
    pub street: String,
    pub admin: String,
}

impl Default for InstallConfig {
    fn default() -> Self {
        Self { district: "本区".into(), street: "本街道".into(), admin: "admin".into() }
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("无法读取配置文件 {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("配置文件 {} 有误", path.display()))
    }
}

/// The effective configuration of one run.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// `None` = SQLite in the data directory.
    pub database_url: Option<String>,
    pub listen: String,
    pub secure_cookies: bool,
    pub body_limit: usize,
    pub ledger_hash: fazhi_ledger::HashAlg,
    pub attachment_max_bytes: u64,
    pub blob_store: BlobConfig,
    pub security: SecurityPolicy,
    pub install: InstallConfig,
    pub yellow_days: u32,
    pub petition_backlog_days: u32,
    pub deadline_rules: fazhi_domain::deadline::RuleOverrides,
    /// Seconds between checkpoint rounds (1–60).
    pub checkpoint_interval_secs: u64,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub webhook_hosts: Vec<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_deref().map(fazhi_store::db::redact_url))
            .field("listen", &self.listen)
            .field("secure_cookies", &self.secure_cookies)
            .field("body_limit", &self.body_limit)
            .field("security", &self.security)
            .finish()
    }
}

/// `trusted_proxies` entries: a network (`10.0.0.0/8`) or one address (`127.0.0.1`).
fn parse_proxies(list: &[String]) -> anyhow::Result<Vec<ipnet::IpNet>> {
    list.iter()
        .map(|s| {
            let s = s.trim();
            s.parse::<ipnet::IpNet>().or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
                anyhow::anyhow!("配置项 trusted_proxies 中的「{s}」不是 IP 地址或网段（如 10.0.0.1 或 10.0.0.0/8）")
            })
        })
        .collect()
}

pub const DEFAULT_DATA_DIR: &str = "./fazhi-data";
pub const DEFAULT_DEMO_DIR: &str = "./fazhi-demo";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Where attachment bytes are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobConfig {
    Local,
    S3 { bucket: String, endpoint: Option<String>, region: Option<String> },
}

/// Values given as flags or environment (clap merges those two, flags winning).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub secure_cookies: Option<bool>,
    pub demo: bool,
}

impl Config {
    pub fn resolve(o: &Overrides) -> anyhow::Result<Self> {
        let explicit_file = o.config.clone();
        let default_dir = if o.demo { DEFAULT_DEMO_DIR } else { DEFAULT_DATA_DIR };
        let file = match &explicit_file {
            Some(p) => FileConfig::load(p)?,
            None => {
                let dir = o.data_dir.clone().unwrap_or_else(|| PathBuf::from(default_dir));
                let p = dir.join("fazhi.toml");
                if p.exists() { FileConfig::load(&p)? } else { FileConfig::default() }
            }
        };
        let data_dir = o.data_dir.clone().or(file.data_dir.clone()).unwrap_or_else(|| PathBuf::from(default_dir));
        let database_url = o.database_url.clone().or(file.database_url.clone()).filter(|s| !s.trim().is_empty());
        let ledger_hash = match file.ledger_hash.as_deref() {
            None => fazhi_ledger::HashAlg::Sha256,
            Some(code) => fazhi_ledger::HashAlg::parse(code)
                .ok_or_else(|| anyhow::anyhow!("配置项 ledger_hash 只能是 \"sha256\" 或 \"sm3\"，而不是 \"{code}\""))?,
        };
        let blob_store = match file.blob_store.as_deref() {
            None | Some("local") => BlobConfig::Local,
            Some("s3") => BlobConfig::S3 {
                bucket: file
                    .s3_bucket
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("blob_store = \"s3\" 需要配置 s3_bucket"))?,
                endpoint: file.s3_endpoint.clone(),
                region: file.s3_region.clone(),
            },
            Some(other) => anyhow::bail!("配置项 blob_store 只能是 \"local\" 或 \"s3\"，而不是 \"{other}\""),
        };
        let mib = file.attachment_max_mib.unwrap_or(50);
        if !(1..=4096).contains(&mib) {
            anyhow::bail!("配置项 attachment_max_mib 应在 1 到 4096 之间（现在是 {mib}）");
        }
        Ok(Self {
            data_dir,
            ledger_hash,
            attachment_max_bytes: mib * 1024 * 1024,
            blob_store,
            database_url,
            listen: o.listen.clone().or(file.listen.clone()).unwrap_or_else(|| DEFAULT_LISTEN.into()),
            secure_cookies: o.secure_cookies.or(file.secure_cookies).unwrap_or(false),
            body_limit: file.body_limit_kib.unwrap_or(256) * 1024,
            security: file.security,
            install: file.install,
            yellow_days: file.yellow_card_working_days.unwrap_or(3),
            petition_backlog_days: file.petition_backlog_days.unwrap_or(90).clamp(1, 3650),
            checkpoint_interval_secs: file.checkpoint_interval_secs.unwrap_or(5).clamp(1, 60),
            trusted_proxies: parse_proxies(&file.trusted_proxies)?,
            webhook_hosts: file
                .webhook_hosts
                .clone()
                .unwrap_or_else(|| fazhi_app::webhook::ROBOT_HOSTS.iter().map(|h| (*h).to_owned()).collect())
                .into_iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            deadline_rules: file.deadline_rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://u:pw@h/db\"\n[security]\nmax_failures = 3\n",
        )
        .unwrap();
        let o = Overrides { config: Some(f.clone()), ..Default::default() };
        let c = Config::resolve(&o).unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.security.max_failures, 3);
        assert_eq!(c.security.lockout_minutes, 15);
        assert!(!format!("{c:?}").contains("pw@"), "secrets never printed");
        let o = Overrides { config: Some(f), listen: Some("127.0.0.1:1".into()), ..Default::default() };
        assert_eq!(Config::resolve(&o).unwrap().listen, "127.0.0.1:1");
    }

    #[test]
    fn deadline_rules_are_configurable() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "yellow_card_working_days = 5\n[deadline_rules.\"enforcement.statement\"]\nlength = 7\nbasis = \"某市行政处罚程序规定第二十条\"\n",
        )
        .unwrap();
        let c = Config::resolve(&Overrides { config: Some(f.clone()), ..Default::default() }).unwrap();
        assert_eq!(c.yellow_days, 5);
        let rules = fazhi_domain::deadline::RuleSet::builtin().with_overrides(&c.deadline_rules).unwrap();
        let r = rules.get("enforcement.statement").unwrap();
        assert_eq!(r.length, 7);
        assert!(r.overridden.as_deref().unwrap().contains("某市"));
        std::fs::write(&f, "[deadline_rules.\"enforcement.statement\"]\nlength = 7\n").unwrap();
        let c = Config::resolve(&Overrides { config: Some(f), ..Default::default() }).unwrap();
        let e = fazhi_domain::deadline::RuleSet::builtin().with_overrides(&c.deadline_rules).unwrap_err();
        assert!(e.to_string().contains("依据"), "{e}");
    }

    /// The example in the README is what a new user copies: it must load as it stands.
    #[test]
    fn the_readme_example_loads() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n").expect("a TOML example in the README") + "```toml\n".len();
        let len = readme[start..].find("```").expect("end of the example");
        let example: FileConfig = toml::from_str(&readme[start..start + len]).expect("the README's fazhi.toml loads");
        assert_eq!(example.yellow_card_working_days, Some(3));
        assert_eq!(example.ledger_hash.as_deref(), Some("sha256"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "lisen = \"x\"\n").unwrap();
        let err = Config::resolve(&Overrides { config: Some(f), ..Default::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn defaults() {
        let c = Config::resolve(&Overrides { data_dir: Some("/nonexistent/x".into()), ..Default::default() }).unwrap();
        assert_eq!(c.listen, DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from("/nonexistent/x"));
        let d = Config::resolve(&Overrides { demo: true, ..Default::default() }).unwrap();
        assert_eq!(d.data_dir, PathBuf::from(DEFAULT_DEMO_DIR));
    }
}
