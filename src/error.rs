//! The suite's one error type for bad input: one line naming the file, variable or name and what
//! was expected. Library code returns it; only the `main`s print it and exit (with code 2).

use std::fmt;

/// Bad input: one line naming the file or name and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}
