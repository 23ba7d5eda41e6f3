//! The library's folders are layers, and nothing lower imports anything higher:
//! workload < data < harness < analysis < render (the binaries and benches sit on top), with
//! `platform`, `config` and `error` as a foundation every layer may use. A module's tests may use
//! anything; the check reads each file up to its `#[cfg(test)]` module and skips `tests.rs` files.

use std::path::{Path, PathBuf};

/// The layers, lowest first.
const LAYERS: [&str; 5] = ["workload", "data", "harness", "analysis", "render"];

/// Top-level modules below every layer.
const FOUNDATION: [&str; 3] = ["platform", "config", "error"];

/// Imports that still point up, each with why it is left: the list shrinks as the code moves.
/// An entry that no longer occurs fails the test too, so the list stays true.
const KNOWN_UPWARD: [(&str, &str); 0] = [];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every Rust file under `src/`, sorted, as (path relative to `src/`, its text).
fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(f).unwrap())
        })
        .collect()
}

/// The rank of a `src/` file: its layer's index, -1 for the foundation (which may use no layer);
/// `None` for `lib.rs` and the binaries, which sit on top.
fn rank_of(rel: &str) -> Option<i32> {
    let first = rel.split('/').next()?;
    if FOUNDATION.iter().any(|f| first == format!("{f}.rs")) {
        return Some(-1);
    }
    LAYERS.iter().position(|l| *l == first).map(|i| i as i32)
}

/// Every `crate::<module>` a file's non-test code names.
fn crate_references(code: &str) -> Vec<String> {
    let code = code.split("#[cfg(test)]\nmod tests").next().unwrap_or(code);
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // `crate::<name>!` is a `#[macro_export]` macro, which lives at the crate root, not in a
        // layer (the layer that defines it is the one whose file holds it).
        let is_macro = rest[name.len()..].starts_with('!');
        if !name.is_empty() && !is_macro {
            found.push(name);
        }
    }
    found
}

#[test]
fn no_layer_imports_a_higher_one() {
    let mut upward = Vec::new();
    for (rel, code) in sources() {
        let Some(own) = rank_of(&rel) else { continue };
        // A module's tests in a file of their own (`tests.rs`) may use anything, as inline ones do.
        if rel.ends_with("/tests.rs") {
            continue;
        }
        for name in crate_references(&code) {
            if FOUNDATION.contains(&name.as_str()) {
                continue;
            }
            match LAYERS.iter().position(|l| *l == name) {
                Some(target) if target as i32 > own => upward.push(format!("src/{rel} -> {name}")),
                Some(_) => {}
                None => upward.push(format!(
                    "src/{rel} -> {name} (not a layer: name the layer, crate::<layer>::<module>)"
                )),
            }
        }
    }
    upward.sort();
    upward.dedup();
    let known: Vec<String> = KNOWN_UPWARD.iter().map(|(r, _)| r.to_string()).collect();
    let new: Vec<&String> = upward.iter().filter(|u| !known.contains(u)).collect();
    assert!(
        new.is_empty(),
        "imports from a lower layer into a higher one (order: {LAYERS:?}): {new:#?}"
    );
    let gone: Vec<&String> = known.iter().filter(|k| !upward.contains(k)).collect();
    assert!(
        gone.is_empty(),
        "listed in KNOWN_UPWARD but no longer imported; remove them: {gone:#?}"
    );
}

#[test]
fn every_module_says_what_it_is_for() {
    let silent: Vec<String> = sources()
        .into_iter()
        .filter(|(rel, code)| !rel.starts_with("bin/") && !code.trim_start().starts_with("//!"))
        .map(|(rel, _)| format!("src/{rel}"))
        .collect();
    assert!(silent.is_empty(), "modules without a //! line: {silent:?}");
}

/// The dependencies only the top needs stay there: plotters (charts) is used only by `render`, clap
/// (argument parsing) only by the binaries. This is what a separate crate for the report tool would
/// guarantee; the suite stays one crate and checks it here instead.
#[test]
fn plotters_and_clap_stay_at_the_top() {
    let mut misplaced = Vec::new();
    for (rel, code) in sources() {
        for (dependency, home) in [("plotters::", "render/"), ("clap::", "bin/")] {
            if code.contains(dependency) && !rel.starts_with(home) {
                misplaced.push(format!(
                    "src/{rel} uses {dependency} (expected only under src/{home})"
                ));
            }
        }
    }
    assert!(misplaced.is_empty(), "{misplaced:#?}");
}

/// The report's verdict types: what `analysis/` decides and `render/` only words.
const VERDICT_ENUMS: [&str; 6] = [
    "Verdict", "Evidence", "Missing", "Locality", "Finding", "Decision",
];
const VERDICT_STRUCTS: [&str; 25] = [
    "TypeAnswer",
    "TypeVerdict",
    "RecursionFit",
    "WorkloadRanking",
    "OwnAnswers",
    "Claim",
    "Managed",
    "Threads",
    "Overflow",
    "FolkloreArray",
    "PageFaults",
    "Cache",
    "HeapsDiffer",
    "Answers",
    "StackAnswer",
    "StackRow",
    "AllocatorAnswer",
    "DepthAnswer",
    "DepthRow",
    "Ratio",
    "Timed",
    "Ranked",
    "Noise",
    "RankingEntry",
    "Interval",
];

/// The code after a match at `end`: skips one balanced `{...}` or `(...)` group (a variant's
/// fields), then whitespace.
fn after_group(code: &str, end: usize) -> &str {
    let rest = code[end..].trim_start();
    let Some(open) = rest.chars().next().filter(|c| *c == '{' || *c == '(') else {
        return rest;
    };
    let close = if open == '{' { '}' } else { ')' };
    let mut depth = 0;
    for (i, c) in rest.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return rest[i + 1..].trim_start();
            }
        }
    }
    ""
}

/// Whether a variant path at `start..end` is read (a pattern, a comparison) rather than built.
fn is_read(code: &str, start: usize, end: usize) -> bool {
    let before = code[..start].trim_end();
    if before.ends_with("==") || before.ends_with("!=") || before.ends_with('|') {
        return true;
    }
    // A variant nested in another pattern (`Reading::Verdict(Verdict::Equal) =>`) is read as the
    // outer one is: past the parentheses it closes.
    let after = after_group(code, end).trim_start_matches(|c: char| c == ')' || c.is_whitespace());
    ["=>", "|", "if ", "= "]
        .iter()
        .any(|t| after.starts_with(t))
}

/// `render/` makes no decision: no verdict type is built there. A variant of a verdict enum appears
/// only where it is read (a match arm, an `if let`, a comparison); a verdict struct is never built
/// with a literal or a constructor. Decisions live in `analysis/` (answers, claims, findings,
/// comparisons).
#[test]
fn verdicts_are_built_only_in_analysis() {
    let mut built = Vec::new();
    for (rel, code) in sources() {
        if !rel.starts_with("render/") || rel.ends_with("/tests.rs") {
            continue;
        }
        let code = code
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or(&code);
        let code = code.split("\n#[cfg(test)]\nmod ").next().unwrap_or(code);
        let line = |at: usize| code[..at].lines().count();
        for name in VERDICT_ENUMS {
            let path = format!("{name}::");
            for (start, _) in code.match_indices(&path) {
                if code[..start]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
                {
                    continue;
                }
                let variant: String = code[start + path.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !variant.starts_with(|c: char| c.is_uppercase()) {
                    continue;
                }
                let end = start + path.len() + variant.len();
                if !is_read(code, start, end) {
                    built.push(format!(
                        "src/{rel}:{} builds {name}::{variant}",
                        line(start)
                    ));
                }
            }
        }
        for name in VERDICT_STRUCTS {
            for pattern in [
                format!("{name} {{"),
                format!("{name}::of("),
                format!("{name}::paired("),
                format!("{name}::new("),
            ] {
                for (start, _) in code.match_indices(&pattern) {
                    let word_start = code[..start]
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    if !word_start {
                        built.push(format!("src/{rel}:{} builds {name}", line(start)));
                    }
                }
            }
        }
    }
    assert!(
        built.is_empty(),
        "verdicts built in render/ (decide in analysis/, word in render/): {built:#?}"
    );
}
