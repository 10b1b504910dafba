//! keyproof: proves who can use an AWS KMS key.
pub mod policy;
pub mod source;
