//! `fazhi-bench`: benchmarks of fazhi.
//!
//! - `infra`: the record infrastructure on a fresh database (ledger, use case, verify, search).
//! - `gen`: a realistic installation written through the application services.
//! - `http`: a closed-loop HTTP load generator against a running server.
//! - `suite`: starts `fazhi serve` on generated data and measures every scenario in one run,
//!   each beside the `/healthz` baseline; writes `bench/results/<date>-<engine>-<scale>.json`.

mod generate;
mod http;
mod infra;
mod suite;
mod text;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn code(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Parser)]
#[command(name = "fazhi-bench", about = "fazhi benchmarks: infrastructure, data generator, HTTP load, suite")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record infrastructure on a fresh database: ledger append, a use case, verify, search.
    Infra(infra::InfraArgs),
    /// Generate a realistic installation (org tree, users, a year of petitions) through the
    /// application services.
    Gen(generate::GenArgs),
    /// Closed-loop HTTP load against a running server.
    Http(http::HttpArgs),
    /// Start the server on generated data and measure every scenario in one run.
    Suite(suite::SuiteArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Infra(a) => infra::run(a).await,
            Command::Gen(a) => generate::generate(&a).await.map(|_| ()),
            Command::Http(a) => http::run(a).await,
            Command::Suite(a) => suite::run(a).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
