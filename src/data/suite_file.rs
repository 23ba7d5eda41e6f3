//! The envelope of every `target/stackheap/*.json` file the benches write: one type for the writer
//! and the reader.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::data::machine::Machine;

/// Version of every JSON file the suite writes; bumped when a field changes meaning or disappears.
pub const SCHEMA: u32 = 1;

/// The target directory: `CARGO_TARGET_DIR` when set, else the cargo target directory that holds the
/// running executable (the ancestor with cargo's `CACHEDIR.TAG`), else `./target`.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|dir| dir.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// `target/stackheap/`, where the suite's own result files go.
pub fn results_dir() -> PathBuf {
    target_dir().join("stackheap")
}

/// A result file: schema version, what it holds (`depth`, `memory`, ...), the machine it came
/// from, and its entries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteFile<E> {
    pub schema: u32,
    pub kind: String,
    pub machine: Machine,
    pub entries: Vec<E>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_dir_of_a_test_binary_is_the_cargo_target() {
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert!(target_dir().join("debug").is_dir() || target_dir().join("release").is_dir());
        }
    }
}
