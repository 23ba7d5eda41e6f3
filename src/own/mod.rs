//! Your own code: the suite's questions asked of a user's own recursive function (and, as this
//! module grows, their own type and multi-threaded workload), from their own crate. It sits on top of
//! the layers, beside the benches and the binaries, and uses the same child protocol, statistics and
//! words.

pub mod allocator;
pub mod recursion;
pub mod workload;

/// The numbers after the name in a child request `<name>\t<n>\t<n>...` read from `var`, when this
/// process is a child started for `name`: `None` when it is not (no request, or one for another
/// name); a malformed request ends the process with one line naming `var` and `expected`.
pub(crate) fn child_request<const N: usize>(
    var: &str,
    name: &str,
    expected: &str,
) -> Option<[u64; N]> {
    let spec = std::env::var(var).ok()?;
    let mut parts = spec.split('\t');
    if parts.next() != Some(name) {
        return None;
    }
    let numbers: Option<Vec<u64>> = parts.map(|p| p.parse().ok()).collect();
    match numbers.and_then(|n| <[u64; N]>::try_from(n).ok()) {
        Some(numbers) => Some(numbers),
        None => {
            say_error(format_args!(
                "error: child: bad {var} '{spec}': expected {expected}"
            ));
            std::process::exit(3)
        }
    }
}

/// Writes one line to this process's stderr handle: a child's last words must reach its parent
/// even when the child is a libtest binary, which captures `eprintln!`.
pub(crate) fn say_error(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Writes what `recursions` and `workloads` measured as `target/stackheap/own.json`, where
/// `scripts/report` reads it into the report's "Your code" section; `asked` names inputs whose stack
/// the report should give, per recursion name. Returns the path.
pub fn save(
    recursions: &[recursion::RecursionFit],
    asked: &[(&str, &[u64])],
    workloads: &[workload::WorkloadResult],
) -> std::io::Result<std::path::PathBuf> {
    use crate::data::own::{AllocatorRounds, OwnEntry, RecursionEntry, WorkloadEntry};
    let mut entries: Vec<OwnEntry> = recursions
        .iter()
        .map(|r| {
            OwnEntry::Recursion(RecursionEntry {
                name: r.name.clone(),
                fits: r.fits.clone(),
                asked_inputs: asked
                    .iter()
                    .filter(|(name, _)| *name == r.name)
                    .flat_map(|(_, inputs)| inputs.iter().copied())
                    .collect(),
            })
        })
        .collect();
    entries.extend(workloads.iter().map(|w| {
        OwnEntry::Workload(WorkloadEntry {
            name: w.name.clone(),
            threads: w.threads,
            calls: w.calls,
            allocators: w
                .per_call_ns
                .iter()
                .map(|(allocator, per_call_ns)| AllocatorRounds {
                    allocator: *allocator,
                    per_call_ns: per_call_ns.clone(),
                    proof: w
                        .proofs
                        .iter()
                        .find(|(a, _)| a == allocator)
                        .map_or(String::new(), |(_, p)| p.clone()),
                })
                .collect(),
        })
    }));
    crate::harness::output::write_results("own", &entries)
}

/// Writes the report of `target/stackheap/own.json` (saved by [`save`]) into
/// `target/stackheap/your-code/`: the page opens with "Your code"; the suite's own sections are
/// left out, as this program did not run its benches. Returns the directory.
pub fn write_report() -> Result<std::path::PathBuf, String> {
    let dir = crate::data::suite_file::results_dir();
    let own = crate::data::results::load_suite_file(&dir, "own")
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{}: no own.json: expected save() first", dir.display()))?;
    let env = crate::harness::environment::Environment::new(Some(own.machine.clone()));
    let results = crate::analysis::aggregate::Results {
        own: Some(own),
        ..Default::default()
    };
    let rendered = crate::render::report::render(&results, &env)?;
    let out = dir.join("your-code");
    crate::render::report::write(&out, &rendered)
        .map_err(|e| format!("{}: cannot write the report: {e}", out.display()))?;
    Ok(out)
}
