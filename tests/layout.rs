//! The README's "Layout" section matches the tree: every source file in `src/` is listed, and
//! every path listed exists. A module added or removed without the README fails here.

use std::path::Path;

/// The first token of each line of the README's Layout code block (the path it describes).
fn listed_paths(readme: &str) -> Vec<String> {
    let section = readme
        .split("\n## Layout")
        .nth(1)
        .expect("README has a Layout section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the Layout section holds a code block");
    block
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_readme_layout_lists_every_source_file_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let listed = listed_paths(&readme);
    let missing: Vec<&String> = listed
        .iter()
        .filter(|p| !root.join(p.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "listed in README's Layout but not in the tree: {missing:?}"
    );
    let mut unlisted = Vec::new();
    for entry in std::fs::read_dir(root.join("src")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if entry.path().is_dir() {
            format!("src/{name}/")
        } else {
            format!("src/{name}")
        };
        if name != "lib.rs" && !listed.contains(&path) {
            unlisted.push(path);
        }
    }
    assert!(
        unlisted.is_empty(),
        "in src/ but not in README's Layout: {unlisted:?}"
    );
}
