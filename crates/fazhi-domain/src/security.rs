//! Login security rules (等保 2.0 level-3 habits): lockout after repeated failures and the
//! idle timeout of a session. All numbers are configuration with these defaults.

use crate::clock::{MINUTE_MS, Millis};

/// The security settings of an installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Failed attempts of one account that lock it.
    pub max_failures: u32,
    /// Failed attempts from one source address that lock the address (default 50): far
    /// above the per-account limit, since a whole office can share one address (NAT, or a
    /// proxy not listed in `trusted_proxies`) and five typos must not lock everyone out.
    pub max_failures_per_address: u32,
    /// How long a lock lasts, and the window in which failures are counted, in minutes.
    pub lockout_minutes: u32,
    /// A session unused this long is over, in minutes.
    pub idle_timeout_minutes: u32,
    /// A session is over this long after login, however active (default 12 h; OWASP ASVS
    /// 3.3.2 asks for an absolute lifetime).
    pub session_max_hours: u32,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            max_failures_per_address: 50,
            lockout_minutes: 15,
            idle_timeout_minutes: 30,
            session_max_hours: 12,
        }
    }
}

impl SecurityPolicy {
    pub fn lockout_ms(&self) -> Millis {
        Millis::from(self.lockout_minutes) * MINUTE_MS
    }

    pub fn idle_timeout_ms(&self) -> Millis {
        Millis::from(self.idle_timeout_minutes) * MINUTE_MS
    }

    /// Given the failures recorded for one key (account or address) within the last
    /// `lockout_ms`, until when is it locked? `None` when it is not locked.
    pub fn locked_until(&self, recent_failures: i64, last_failure_at: Option<Millis>, now: Millis) -> Option<Millis> {
        self.locked_after(self.max_failures, recent_failures, last_failure_at, now)
    }

    /// [`Self::locked_until`] for a source address ([`Self::max_failures_per_address`]).
    pub fn address_locked_until(
        &self,
        recent_failures: i64,
        last_failure_at: Option<Millis>,
        now: Millis,
    ) -> Option<Millis> {
        self.locked_after(self.max_failures_per_address, recent_failures, last_failure_at, now)
    }

    fn locked_after(&self, limit: u32, recent: i64, last_failure_at: Option<Millis>, now: Millis) -> Option<Millis> {
        let last = last_failure_at?;
        let until = last + self.lockout_ms();
        (recent >= i64::from(limit) && until > now).then_some(until)
    }

    /// Is a session made at `created` and last used at `last_seen` still alive at `now`:
    /// used within the idle timeout, and younger than the absolute lifetime?
    pub fn session_alive(&self, created: Millis, last_seen: Millis, now: Millis) -> bool {
        now - last_seen < self.idle_timeout_ms()
            && now - created < Millis::from(self.session_max_hours) * 60 * MINUTE_MS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_after_five_for_fifteen_minutes() {
        let p = SecurityPolicy::default();
        let t = 1_000_000;
        assert_eq!(p.locked_until(4, Some(t), t), None);
        assert_eq!(p.locked_until(5, Some(t), t), Some(t + 15 * MINUTE_MS));
        assert_eq!(p.locked_until(5, Some(t), t + 15 * MINUTE_MS), None);
        assert_eq!(p.locked_until(0, None, t), None);
        // An address shared by an office is locked far later than one account.
        assert_eq!(p.address_locked_until(5, Some(t), t), None);
        assert_eq!(p.address_locked_until(50, Some(t), t), Some(t + 15 * MINUTE_MS));
    }

    #[test]
    fn idle_timeout() {
        let p = SecurityPolicy::default();
        assert!(p.session_alive(0, 0, 29 * MINUTE_MS));
        assert!(!p.session_alive(0, 0, 30 * MINUTE_MS));
        // Busy all day: over after 12 hours anyway.
        let h12 = 12 * 60 * MINUTE_MS;
        assert!(p.session_alive(0, h12 - MINUTE_MS, h12 - 1));
        assert!(!p.session_alive(0, h12 - MINUTE_MS, h12));
    }
}
