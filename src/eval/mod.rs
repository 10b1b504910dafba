//! The concrete evaluator: one request → a decision with the statements that decided it.
pub mod authorize;
pub mod condition;
pub mod context;
pub mod plan;
pub mod principal;
pub mod request;
