//! CONTRIBUTING.md's "Layout" section matches the tree: every source file in `src/` is listed (or
//! named in the description of its folder's line), every folder is listed, and every path listed
//! exists. A module added, moved or removed without the layout fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each entry of the Layout code block: the path it describes and its description
/// (continuation lines, which start with spaces, included).
fn listed_entries(readme: &str) -> BTreeMap<String, String> {
    let section = readme
        .split("\n## Layout")
        .nth(1)
        .expect("CONTRIBUTING.md has a Layout section");
    let block = section
        .split("```")
        .nth(1)
        .expect("the Layout section holds a code block");
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    let mut last = None;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with(' ') {
            if let Some(path) = &last {
                let text = entries.get_mut(path).expect("entry just inserted");
                text.push(' ');
                text.push_str(line.trim());
            }
            continue;
        }
        let (path, text) = line.split_once(' ').unwrap_or((line, ""));
        entries.insert(path.to_owned(), text.trim().to_owned());
        last = Some(path.to_owned());
    }
    entries
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, dirs: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            dirs.push(path.clone());
            walk(&path, files, dirs);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn the_contributing_layout_lists_every_source_file_and_nothing_else() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("CONTRIBUTING.md")).unwrap();
    let listed = listed_entries(&readme);
    let missing: Vec<&String> = listed
        .keys()
        .filter(|p| !root.join(p.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "listed in CONTRIBUTING.md's Layout but not in the tree: {missing:?}"
    );
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    walk(&root.join("src"), &mut files, &mut dirs);
    let rel = |p: &Path| p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
    // A module's tests in a file of their own (`foo/tests.rs` beside `foo.rs`) belong to the
    // module's entry: the folder and the file need no line of their own.
    let tests_of_a_module = |file: &Path| {
        file.file_name().is_some_and(|n| n == "tests.rs")
            && file
                .parent()
                .is_some_and(|d| d.with_extension("rs").is_file())
    };
    let only_tests = |dir: &Path| {
        dir.with_extension("rs").is_file()
            && std::fs::read_dir(dir)
                .unwrap()
                .flatten()
                .all(|e| e.file_name() == "tests.rs")
    };
    let mut unlisted = Vec::new();
    for dir in &dirs {
        let path = format!("{}/", rel(dir));
        if !listed.contains_key(&path) && !only_tests(dir) {
            unlisted.push(path);
        }
    }
    for file in &files {
        let path = rel(file);
        let name = file.file_name().unwrap().to_string_lossy();
        if path == "src/lib.rs"
            || name == "mod.rs"
            || tests_of_a_module(file)
            || listed.contains_key(&path)
        {
            continue;
        }
        // Not listed itself: its folder's line must name it.
        let folder = format!("{}/", rel(file.parent().unwrap()));
        let stem = file.file_stem().unwrap().to_string_lossy();
        if !listed
            .get(&folder)
            .is_some_and(|text| text.contains(&*stem))
        {
            unlisted.push(path);
        }
    }
    assert!(
        unlisted.is_empty(),
        "in src/ but not in CONTRIBUTING.md's Layout: {unlisted:?}"
    );
}

/// Every file a reader opens stays readable: none in `src/` or `benches/` is over 600 lines (a
/// module's tests included: they move to `<module>/tests.rs` when they grow).
#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = Vec::new();
    for top in ["src", "benches"] {
        let (mut files, mut dirs) = (Vec::new(), Vec::new());
        walk(&root.join(top), &mut files, &mut dirs);
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            if lines > 600 {
                long.push(format!(
                    "{} ({lines} lines)",
                    file.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these (at most 600 lines each): {long:?}"
    );
}
