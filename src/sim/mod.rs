//! The software KMS (`keyproof sim`, `keyproof prove`): keys, key material and states
//! ([`keystore`]), cryptography ([`crypto`]), the API operations ([`api`]), the bridge to the
//! evaluator ([`authz`]: every call is authorized by [`crate::eval::authorize::authorize`]),
//! the scenario runner ([`scenario`]) and proof by execution ([`prove`]). See `docs/sim.md`.

pub mod api;
pub mod authz;
pub mod crypto;
pub mod keystore;
pub mod prove;
pub mod scenario;

use std::fmt;

pub use api::{Call, Output, Sim};

/// A KMS error: the exception name of the KMS API and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsError {
    /// `AccessDeniedException`, `NotFoundException`, …
    pub exception: &'static str,
    /// The message.
    pub message: String,
}

impl KmsError {
    /// An error.
    #[must_use]
    pub fn new(exception: &'static str, message: impl Into<String>) -> Self {
        Self { exception, message: message.into() }
    }
}

impl fmt::Display for KmsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.exception)
        } else {
            write!(f, "{}: {}", self.exception, self.message)
        }
    }
}

impl std::error::Error for KmsError {}
