//! The bench binary's command line, read the way Criterion reads it, so that one `cargo bench`
//! invocation means the same to the questions and to the Criterion groups beside them.

use crate::harness::output::BenchFilter;
use crate::own::Error;

/// What the command line asks: `--bench` (cargo bench passes it) measures, its absence (`cargo
/// test --benches`) or `--test` runs a small plan; the filter is the suite's own [`BenchFilter`]
/// (a regular expression, `--exact` for one name); `--list` lists.
#[derive(Clone, Debug)]
pub(crate) struct Args {
    bench: bool,
    test: bool,
    pub(crate) list: bool,
    filter: BenchFilter,
}

impl Args {
    /// Reads `args`, the program's name first, as `std::env::args()` gives them.
    pub(crate) fn parse(args: &[String]) -> Result<Args, Error> {
        let has = |flag: &str| args.iter().skip(1).any(|a| a == flag);
        Ok(Args {
            bench: has("--bench"),
            test: has("--test"),
            list: has("--list"),
            filter: BenchFilter::from_args(args).map_err(Error::Input)?,
        })
    }

    /// A test run: `cargo test --benches` (no `--bench`) or `-- --test`.
    pub(crate) fn small(&self) -> bool {
        self.test || !self.bench
    }

    pub(crate) fn selects(&self, name: &str) -> bool {
        self.filter.selects(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, Error> {
        let all: Vec<String> = ["bench"]
            .iter()
            .chain(list)
            .map(|a| a.to_string())
            .collect();
        Args::parse(&all)
    }

    #[test]
    fn the_command_line_is_read_as_criterion_reads_it() {
        let bench = args(&["parse_and_index", "--bench"]).unwrap();
        assert!(!bench.small());
        assert!(bench.selects("parse_and_index") && !bench.selects("reading"));
        // cargo test --benches passes neither flag: a small plan, as Criterion's test mode.
        assert!(args(&[]).unwrap().small());
        assert!(args(&["--bench", "--test"]).unwrap().small());
        // A valued option's value is not the filter.
        let saved = args(&["--bench", "--save-baseline", "main", "nest"]).unwrap();
        assert!(saved.selects("nest") && !saved.selects("main"));
        let exact = args(&["--bench", "--exact", "nest"]).unwrap();
        assert!(exact.selects("nest") && !exact.selects("nesting"));
        let e = args(&["--bench", "(unclosed"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("filter '(unclosed' is not a regular expression")
        );
    }
}
