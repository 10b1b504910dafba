//! The concrete evaluator: one request → a decision with the statements that decided it.
pub mod condition;
pub mod context;
