//! Typed ids. Every table key is a BIGINT; wrapping it keeps an org id from being passed
//! where a user id is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// A node of the organisation tree (区, 街道, 科室, 社区, 网格 ...).
    OrgId
);
id_type!(
    /// A person who logs in (or an integration account that holds API tokens).
    UserId
);
id_type!(
    /// A role: a set of permissions plus a data scope.
    RoleId
);
id_type!(
    /// An API bearer token issued to an integration.
    TokenId
);
