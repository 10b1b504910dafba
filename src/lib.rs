//! keyproof: proves who can use an AWS KMS key.
pub mod catalog;
pub mod cli;
pub mod config;
pub mod eval;
pub mod ingest;
pub mod policy;
pub mod report;
pub mod rules;
pub mod sim;
pub mod solve;
pub mod source;
pub mod world;
