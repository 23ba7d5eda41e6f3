//! Benchmark ids are spelled in one place, `src/data/id.rs`: no other source file, bench, script or CI
//! file may write one as a literal (tests, which check real ids, may). A new workload then needs
//! one new id shape, and nothing can drift from what the benches register.

use std::path::{Path, PathBuf};

/// The families every id starts with, followed by `/`: what an id literal looks like.
const FAMILIES: [&str; 5] = [
    "stack_vs_heap/",
    "contention/",
    "first_touch/",
    "locality/",
    "stack_depth/",
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The lines of `text` before its unit tests (the suite keeps them last, after `#[cfg(test)]`).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
}

/// Whether `line` holds an id-like literal: a quote followed by a family and `/`, outside a
/// comment.
fn spells_an_id(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    let code = if line.trim_start().starts_with('#') {
        // A shell or YAML comment line.
        ""
    } else {
        code
    };
    FAMILIES.iter().any(|f| {
        ['"', '\'', '^', '(', '|']
            .iter()
            .any(|before| code.contains(&format!("{before}{f}")))
    })
}

#[test]
fn no_benchmark_id_is_spelled_outside_the_id_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in ["src", "benches", "scripts", ".ci", ".github"] {
        if root.join(dir).is_dir() {
            files(&root.join(dir), &mut all);
        }
    }
    let mut found = Vec::new();
    for path in all {
        // Test modules in files of their own may spell ids, as inline ones do.
        if path.ends_with("src/data/id.rs") || path.ends_with("tests.rs") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (i, line) in code_lines(&text) {
            if spells_an_id(line) {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "benchmark ids spelled outside src/data/id.rs (build them with BenchId, or get them from `stackheap-report list`):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_what_it_should() {
    assert!(spells_an_id(
        r#"let id = "stack_vs_heap/heap_box/system/0000064";"#
    ));
    assert!(spells_an_id(r#"format!("contention/{w}/{a}/t{n}")"#));
    assert!(spells_an_id("filter='^(stack_vs_heap/(stack_array)'"));
    assert!(!spells_an_id(
        "// e.g. \"stack_vs_heap/heap_box/system/0000064\""
    ));
    assert!(!spells_an_id("# scripts: contention/local_churn at t2"));
    assert!(!spells_an_id(r#"load_suite_file(suite, "first_touch")"#));
}
