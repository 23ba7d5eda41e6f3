//! The environment a report describes: the machine the results were measured on (from the result
//! files, or this one), the git commit of the checkout, and when the report was written.

use serde::Serialize;

use crate::data::machine::Machine;

/// The environment a report describes.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct Environment {
    /// The machine the results were measured on (from the suite's result files), or this one.
    pub machine: Machine,
    pub git_commit: Option<String>,
    pub report_unix_time: u64,
}

impl Environment {
    /// The environment of results measured on `measured_on` (`None`: the files did not say; this
    /// machine is described instead).
    pub fn new(measured_on: Option<Machine>) -> Environment {
        let machine = measured_on.unwrap_or_else(Machine::current);
        let git_commit = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        Environment {
            machine,
            git_commit,
            report_unix_time: crate::data::machine::unix_now(),
        }
    }

    /// One line naming the machine, for the top of every table.
    pub fn summary(&self) -> String {
        self.machine.summary()
    }

    /// The cores of the measuring machine, when its files recorded them.
    pub fn cores(&self) -> Option<usize> {
        (self.machine.cores > 0).then_some(self.machine.cores)
    }
}
