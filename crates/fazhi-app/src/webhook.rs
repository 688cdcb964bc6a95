//! Where reminder webhooks may go (issue 13): the group robots of 企业微信 and 钉钉 over
//! https, and nowhere else. A webhook URL is typed by a street admin and then POSTed to by
//! the server: unchecked, it reaches loopback, link-local (cloud metadata) and private
//! addresses inside the office network. Allowed: `https://` to a host in the list (the
//! robots' by default, configurable), no user info, port 443; at delivery every address the
//! host resolves to must be public, and redirects are not followed. The robot's key is in
//! the URL's query: only the host is ever logged or recorded.

use std::net::IpAddr;

/// The hosts of the group robots reminders are sent to by default.
pub const ROBOT_HOSTS: &[&str] = &["qyapi.weixin.qq.com", "oapi.dingtalk.com"];

/// Where webhooks may go.
#[derive(Debug, Clone)]
pub struct WebhookPolicy {
    /// Hosts a webhook may name (lower case).
    pub hosts: Vec<String>,
    /// Tests only (never from configuration): plain http to a loopback mock.
    pub allow_loopback_http: bool,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self { hosts: ROBOT_HOSTS.iter().map(|h| (*h).to_owned()).collect(), allow_loopback_http: false }
    }
}

/// Why a URL may not be a webhook (Chinese, for the field message).
fn refuse(policy: &WebhookPolicy) -> String {
    format!(
        "Webhook 地址须为 https://，主机为允许的群机器人地址（{}；可在配置项 webhook_hosts 中增加），不含用户名和端口",
        policy.hosts.join("、")
    )
}

impl WebhookPolicy {
    /// The host of `url` when the policy allows it.
    ///
    /// # Errors
    /// The Chinese reason when it does not.
    pub fn check(&self, url: &str) -> Result<String, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| refuse(self))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("").to_ascii_lowercase();
        if authority.contains('@') || authority.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse(self));
        }
        if self.allow_loopback_http && scheme == "http" {
            let host = authority.rsplit_once(':').map_or(authority.as_str(), |(h, _)| h);
            return if host == "127.0.0.1" || host == "localhost" { Ok(authority) } else { Err(refuse(self)) };
        }
        let host = authority.strip_suffix(":443").unwrap_or(&authority);
        if scheme != "https" || host.contains(':') || !self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return Err(refuse(self));
        }
        Ok(host.to_owned())
    }
}

/// The webhook agent's name resolver: the system's ([`DefaultResolver`]), refusing any answer
/// with an address that is not public, so the addresses the policy checked are the ones the
/// connection uses (no second lookup that DNS rebinding could answer differently).
///
/// [`DefaultResolver`]: ureq::unversioned::resolver::DefaultResolver
#[derive(Debug)]
pub struct PublicResolver {
    policy: std::sync::Arc<WebhookPolicy>,
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl PublicResolver {
    pub fn new(policy: std::sync::Arc<WebhookPolicy>) -> Self {
        Self { policy, inner: ureq::unversioned::resolver::DefaultResolver::default() }
    }
}

impl ureq::unversioned::resolver::Resolver for PublicResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if self.policy.allow_loopback_http {
            return Ok(addrs);
        }
        match addrs.iter().find(|a| !is_public(&a.ip())) {
            Some(a) => {
                let host = uri.host().unwrap_or("");
                let why = format!("{host} 解析到非公网地址 {}，已拒绝发送", a.ip());
                Err(ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::PermissionDenied, why)))
            }
            None => Ok(addrs),
        }
    }
}

/// Whether `ip` is a public address (not loopback, private, link-local, CGNAT, unique local,
/// unspecified, broadcast, multicast or documentation).
pub fn is_public(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(&IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_robot_hosts_over_https() {
        let p = WebhookPolicy::default();
        assert_eq!(
            p.check("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K").as_deref(),
            Ok("qyapi.weixin.qq.com")
        );
        assert!(p.check("https://oapi.dingtalk.com:443/robot/send?access_token=x").is_ok());
        for bad in [
            "http://qyapi.weixin.qq.com/x",
            "https://127.0.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://10.0.0.5/hook",
            "https://qyapi.weixin.qq.com@evil.example/x",
            "https://evil.example/?h=qyapi.weixin.qq.com",
            "https://qyapi.weixin.qq.com:8443/x",
            "ftp://x",
            "https:// qyapi.weixin.qq.com/x",
        ] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_that_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["101.226.1.1", "2408:8000::1"] {
            assert!(is_public(&ip.parse().unwrap()), "{ip}");
        }
    }
}
