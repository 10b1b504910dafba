//! keyproof: proves who can use an AWS KMS key.
pub mod catalog;
pub mod policy;
