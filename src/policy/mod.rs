//! The policy grammar: span-preserving JSON, the normalised policy model, validation.
pub mod wildcard;
