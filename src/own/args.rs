//! The bench binary's command line, read the way Criterion reads it, so that one `cargo bench`
//! invocation means the same to the questions and to the Criterion groups beside them.

use crate::own::Error;

/// What the command line asks, read the way Criterion reads it: `--bench` (cargo bench passes it)
/// measures, its absence (`cargo test --benches`) or `--test` runs a small plan; the first free
/// argument filters by name (a regular expression, or the exact name with `--exact`); `--list`
/// lists.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Args {
    bench: bool,
    test: bool,
    pub(crate) list: bool,
    exact: bool,
    filter: Option<String>,
}

/// Criterion's options that take a value in the next argument (their `--x=v` form is one).
const VALUED: &[&str] = &[
    "-c",
    "--color",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--plotting-backend",
    "--output-format",
    "--format",
];

impl Args {
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, Error> {
        let mut parsed = Args::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => parsed.bench = true,
                "--test" => parsed.test = true,
                "--list" => parsed.list = true,
                "--exact" => parsed.exact = true,
                a if VALUED.contains(&a) => {
                    args.next();
                }
                a if a.starts_with('-') => {}
                _ if parsed.filter.is_none() => parsed.filter = Some(arg),
                _ => {}
            }
        }
        if let (Some(filter), false) = (&parsed.filter, parsed.exact) {
            regex::Regex::new(filter).map_err(|e| {
                Error::Input(format!(
                    "filter '{filter}': not a regular expression ({e}); expected a pattern of benchmark and question names"
                ))
            })?;
        }
        Ok(parsed)
    }

    /// A test run: `cargo test --benches` (no `--bench`) or `-- --test`.
    pub(crate) fn small(&self) -> bool {
        self.test || !self.bench
    }

    pub(crate) fn selects(&self, name: &str) -> bool {
        match &self.filter {
            None => true,
            Some(f) if self.exact => f == name,
            Some(f) => regex::Regex::new(f).is_ok_and(|re| re.is_match(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, Error> {
        Args::parse(list.iter().map(|a| a.to_string()))
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
        assert_eq!(saved.filter.as_deref(), Some("nest"));
        let exact = args(&["--bench", "--exact", "nest"]).unwrap();
        assert!(exact.selects("nest") && !exact.selects("nesting"));
        let e = args(&["--bench", "(unclosed"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("filter '(unclosed': not a regular expression")
        );
    }
}
