//! Running queued jobs: the daily clock scan and webhook deliveries. Each `fazhi serve`
//! runs a worker; the store's claim guarantees a job runs on one worker at a time. A
//! failing webhook is retried with back-off and never blocks the work that queued it.

use std::time::Duration;

use fazhi_domain::clock::{MINUTE_MS, beijing_date};
use fazhi_store::clocks as clock_store;
use fazhi_store::jobs::{self as store, JobRow};

use crate::{App, AppResult};

/// How long a claimed job is reserved for its worker.
const LEASE_MS: i64 = 10 * MINUTE_MS;

/// A webhook delivery: the group-robot JSON of 企业微信 / 钉钉 (markdown message).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct WebhookJob {
    url: String,
    title: String,
    text: String,
}

impl App {
    /// Queues the daily scan of today (idempotent: one per day, whichever node adds it).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn schedule_daily(&self) -> AppResult<bool> {
        let key = format!("clock.scan:{}", beijing_date(self.now()));
        Ok(store::enqueue(&self.store.write, "clock.scan", "{}", Some(&key), self.now(), self.now()).await?)
    }

    /// Queues a scan now (the "check now" button and `fazhi clocks scan`).
    /// Queues an immediate scan of every open clock (the 期限监督 page's button). Needs the
    /// installation-settings permission: a scan touches every street's clocks.
    ///
    /// # Errors
    /// [`crate::AppError::Forbidden`]; database errors.
    pub async fn schedule_scan_now(&self, who: &fazhi_domain::access::Principal) -> AppResult<()> {
        crate::require_installation(who)?;
        store::enqueue(&self.store.write, "clock.scan", "{}", None, self.now(), self.now()).await?;
        Ok(())
    }

    pub(crate) async fn enqueue_webhook(&self, org_id: i64, title: &str, text: &str) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let log = self.log_of(&mut tx, fazhi_domain::OrgId(org_id)).await?;
        drop(tx);
        for org in [org_id, log] {
            if let Some(url) = clock_store::webhook(&self.store.read, org).await? {
                let job = WebhookJob { url, title: title.to_owned(), text: text.to_owned() };
                let payload = serde_json::to_string(&job).map_err(|e| crate::AppError::internal("internal", e))?;
                store::enqueue(&self.store.write, "webhook", &payload, None, self.now(), self.now()).await?;
                break;
            }
        }
        Ok(())
    }

    /// Claims and runs ready jobs until none is left; returns how many ran.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn run_jobs(&self, worker: &str) -> AppResult<usize> {
        let mut ran = 0;
        while let Some(job) = store::claim(&self.store.write, worker, self.now(), LEASE_MS).await? {
            ran += 1;
            match self.run_job(&job).await {
                Ok(()) => {
                    store::complete(&self.store.write, job.id, worker, self.now()).await?;
                }
                Err(e) => {
                    // Back-off: 1, 2, 4, 8 … minutes.
                    let wait = MINUTE_MS << job.attempts.clamp(0, 10);
                    tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed");
                    store::fail(&self.store.write, job.id, worker, &e, self.now() + wait).await?;
                }
            }
        }
        Ok(ran)
    }

    async fn run_job(&self, job: &JobRow) -> Result<(), String> {
        match job.kind.as_str() {
            "clock.scan" => {
                let r = self
                    .scan_clocks(&fazhi_domain::access::Principal::system(
                        fazhi_domain::access::SystemActor::Scheduler,
                        fazhi_domain::OrgId(0),
                        fazhi_domain::org::OrgPath::root(fazhi_domain::OrgId(0)),
                    ))
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(?r, "clock scan");
                Ok(())
            }
            "webhook" => {
                let w: WebhookJob = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
                post_webhook(self.webhooks.clone(), w).await
            }
            other => Err(format!("unknown job kind {other}")),
        }
    }
}

/// Posts a markdown message in the shape both 企业微信 and 钉钉 group robots accept, to a
/// URL the policy allows and a host that resolves to public addresses only; no redirect is
/// followed; errors name the host, never the URL (its query holds the robot's key).
async fn post_webhook(policy: std::sync::Arc<crate::webhook::WebhookPolicy>, w: WebhookJob) -> Result<(), String> {
    let host = policy.check(&w.url).map_err(|why| format!("webhook {}: {why}", webhook_host(&w.url)))?;
    let body = serde_json::json!({
        "msgtype": "markdown",
        "markdown": {"title": w.title, "content": format!("**{}**\n\n{}", w.title, w.text), "text": format!("**{}**\n\n{}", w.title, w.text)},
    });
    tokio::task::spawn_blocking(move || {
        let config =
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).max_redirects(0).build();
        // The addresses checked are the addresses connected to: the check is the agent's
        // resolver, so a name that resolves to a public address for a check and to a private
        // one for the connection (DNS rebinding) is refused.
        let resolver = crate::webhook::PublicResolver::new(policy.clone());
        let agent = ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::new(), resolver);
        agent
            .post(&w.url)
            .send_json(&body)
            .map(|_| ())
            .map_err(|e| format!("webhook {host}: {}", redact(&e.to_string(), &w.url)))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// `text` without `url`'s path and query (an error message of the HTTP client may quote it).
fn redact(text: &str, url: &str) -> String {
    text.replace(url, &webhook_host(url))
}

/// Scheme and host of a webhook URL: what may be shown and recorded (the path and query of
/// a group-robot URL carry its secret key).
pub fn webhook_host(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    format!("{scheme}://{host}")
}

impl App {
    /// Sets (or, with an empty URL, removes) the reminder webhook of an org node.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::NotFound`] for a missing record; [`AppError::Invalid`] naming the fields at fault; [`AppError::Internal`] for database failures.
    pub async fn set_webhook(&self, by: &crate::org::By<'_>, org: fazhi_domain::OrgId, url: &str) -> AppResult<()> {
        use fazhi_domain::FieldErrors;
        let node = fazhi_store::org::get_node(&self.store.read, org).await?.ok_or(crate::AppError::NotFound("机构"))?;
        crate::check(by.who, fazhi_domain::access::ORG_MANAGE, &crate::org::node_ref(&node))?;
        let url = url.trim();
        if !url.is_empty() {
            let allowed = if url.chars().count() > 500 {
                Err("Webhook 地址最多 500 个字符".to_owned())
            } else {
                self.webhooks.check(url)
            };
            if let Err(why) = allowed {
                return Err(crate::AppError::Invalid(FieldErrors::single("webhook", why)));
            }
        }
        let value = (!url.is_empty()).then_some(url);
        let mut tx = self.store.begin().await?;
        let before = crate::reconcile::views::node(&mut tx, org.0).await?;
        clock_store::set_webhook(&mut tx, org.0, value, self.now()).await?;
        // The URL's path carries the robot's key: the entry has its host and a digest.
        let payload = serde_json::json!({"webhook": value.map(webhook_host)});
        self.save_node(&mut tx, &by.actor(), org, before.as_ref(), "org.webhook", payload).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The host of an org's webhook, if one is set.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub async fn webhook_of(&self, org: fazhi_domain::OrgId) -> AppResult<Option<String>> {
        Ok(clock_store::webhook(&self.store.read, org.0).await?.map(|u| webhook_host(&u)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host on the list that resolves to a loopback address is refused by the agent's own
    /// resolver (the address checked is the address connected to), and the error names the
    /// host, never the key in the URL.
    #[tokio::test]
    async fn a_listed_host_resolving_to_loopback_is_refused() {
        let policy = std::sync::Arc::new(crate::webhook::WebhookPolicy {
            hosts: vec!["localhost".into()],
            allow_loopback_http: false,
        });
        let job = WebhookJob {
            url: "https://localhost/cgi-bin/webhook/send?key=SECRET-KEY".into(),
            title: "t".into(),
            text: "x".into(),
        };
        let err = post_webhook(policy, job).await.unwrap_err();
        assert!(err.contains("非公网地址"), "{err}");
        assert!(!err.contains("SECRET-KEY"), "{err}");
    }
}
