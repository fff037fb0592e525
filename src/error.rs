//! The crate's top-level error.
//!
//! An error that wraps another (an OS error, a parser's) returns it from
//! [`std::error::Error::source`] and does not repeat it in its own message; [`Report`]
//! prints the whole chain, each cause once.

use crate::load::LoadError;
use crate::ops::OpError;
use crate::statement::RenderError;
use crate::validate::Problems;

/// Anything that can go wrong between reading a config and writing a script.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config cannot be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The operation cannot be done on this cluster.
    #[error(transparent)]
    Operation(#[from] OpError),
    /// An import (`slonik-gen import ...`, the altperl drop-in) failed (feature `import`).
    #[cfg(feature = "import")]
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    /// A statement cannot be rendered for the target version.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A runbook's plan cannot be rendered.
    #[error(transparent)]
    Plan(#[from] crate::runbook::PlanError),
    /// A script could not be written.
    #[error(transparent)]
    WriteScript(#[from] crate::render::WriteError),
    /// `--write-config` could not write its file.
    #[error(transparent)]
    WriteConfig(#[from] crate::config_writer::WriteError),
    /// The command-line front end failed (feature `cli`).
    #[cfg(feature = "cli")]
    #[error(transparent)]
    Frontend(#[from] crate::frontend::FrontendError),
}

/// So that `validate(&config)?` works in a function returning [`Result`]: a
/// [`LoadError::Invalid`]. The problems are part of the message, as in
/// [`LoadError::InvalidConfig`], not a [`std::error::Error::source`].
impl From<Problems> for Error {
    fn from(problems: Problems) -> Self {
        Error::Load(LoadError::Invalid(problems))
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error with its causes, as the binary prints it: the message, then one
/// `caused by: ...` line per [`std::error::Error::source`], each cause once.
pub struct Report<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// An error and its causes on one line, `message: cause: cause`, for embedding in
/// another message.
pub fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
