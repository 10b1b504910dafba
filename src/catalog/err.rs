//! Errors raised while loading the embedded catalogue data.

/// The embedded catalogue data (`rules/catalog/*.json`) could not be loaded.
///
/// The data is compiled into the binary, so this is a programming error that the
/// module's unit tests catch; at run time [`super::catalog`] falls back to an empty
/// catalogue instead of panicking.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A data file is not valid JSON or does not have the expected shape.
    #[error("embedded catalogue file `{file}` does not parse: {source}")]
    Parse {
        /// File name under `rules/catalog/`.
        file: &'static str,
        /// The serde error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A data file parses but breaks an invariant (duplicate name, dangling key reference, ...).
    #[error("embedded catalogue file `{file}` is inconsistent: {message}")]
    Invalid {
        /// File name under `rules/catalog/`.
        file: &'static str,
        /// What is wrong.
        message: String,
    },
}
