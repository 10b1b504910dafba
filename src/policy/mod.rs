//! The policy grammar: span-preserving JSON, the normalised policy model, validation.
pub mod arn;
pub mod err;
pub mod json;
pub mod model;
pub mod parse;
pub mod time;
pub mod wildcard;
