//! Modules point one way, in every crate of the workspace: no module uses a sibling that
//! uses it back, directly or around. Reads each crate's sources (a library and a binary
//! with modules of its own are read apart), collects every `crate::…`, `super::…` and
//! `self::…` path, and looks for a cycle among the modules of each parent. A parent's own
//! items (those of `lib.rs`, `main.rs` or a `mod.rs`) count as a sibling of its child
//! modules, named `self`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module as a path from the crate root: `["webhook", "twilio", "calls"]`.
type Module = Vec<String>;

/// Which files of a `src/` directory make one crate: its root file and the modules it owns.
struct CrateRoot {
    /// The crate's `src/`, from the workspace's root.
    src: &'static str,
    /// `lib.rs` or `main.rs`.
    root: &'static str,
    /// Entries of `src/` (files or directories) that belong to the package's other crate.
    skip: &'static [&'static str],
    /// When set, the only entries of `src/` besides the root that belong to this crate.
    only: Option<&'static [&'static str]>,
}

/// Every library, and every binary with modules of its own, in the workspace.
const CRATES: &[CrateRoot] = &[
    CrateRoot {
        src: "crates/ringside-core/src",
        root: "lib.rs",
        skip: &[],
        only: None,
    },
    CrateRoot {
        src: "crates/ringside-clock/src",
        root: "lib.rs",
        skip: &[],
        only: None,
    },
    CrateRoot {
        src: "crates/ringside-providers/src",
        root: "lib.rs",
        skip: &[],
        only: None,
    },
    CrateRoot {
        src: "crates/ringside-hub/src",
        root: "lib.rs",
        skip: &["main.rs", "cli"],
        only: None,
    },
    CrateRoot {
        src: "crates/ringside-hub/src",
        root: "main.rs",
        skip: &[],
        only: Some(&["cli"]),
    },
    CrateRoot {
        src: "crates/ringside-client/src",
        root: "lib.rs",
        skip: &[],
        only: None,
    },
    CrateRoot {
        src: "src-tauri/src",
        root: "lib.rs",
        skip: &["main.rs"],
        only: None,
    },
];

#[test]
fn no_module_uses_a_sibling_that_uses_it_back() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cycles = Vec::new();
    let mut uses = 0;
    for krate in CRATES {
        let src = workspace.join(krate.src);
        let files = crate_files(&src, krate);
        assert!(!files.is_empty(), "no sources in {}", krate.src);
        uses += files
            .iter()
            .map(|(_, text)| paths(text).len())
            .sum::<usize>();
        for cycle in cycles_in(&files) {
            cycles.push(format!("{}/{}: {cycle}", krate.src, krate.root));
        }
    }
    assert!(uses > 200, "the scan found only {uses} uses of modules");
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_scan_finds_a_cycle() {
    let files = vec![
        (vec![], "mod a; mod b;".to_owned()),
        (vec!["a".into()], "use crate::b::Thing;".to_owned()),
        (
            vec!["b".into()],
            "use super::{a::Other, c};\npub struct Thing;".to_owned(),
        ),
        (vec!["c".into()], "pub fn f() {}".to_owned()),
    ];
    assert_eq!(
        cycles_in(&files),
        vec!["in crate::: a -> b -> a".to_owned()]
    );
}

/// The cycles among the modules of `files`, one per parent at most.
fn cycles_in(files: &[(Module, String)]) -> Vec<String> {
    let modules: BTreeSet<Module> = files.iter().map(|(module, _)| module.clone()).collect();
    let has_children = |m: &Module| {
        modules
            .iter()
            .any(|o| o.len() > m.len() && o.starts_with(m))
    };
    // Every file is one node: a module with children stands for its own items as `self`.
    let node = |m: &Module| {
        let mut node = m.clone();
        if m.is_empty() || has_children(m) {
            node.push("self".into());
        }
        node
    };
    let mut edges: BTreeMap<Module, BTreeSet<(String, String)>> = BTreeMap::new();
    for (module, text) in files {
        let from = node(module);
        for path in paths(text) {
            let Some(target) = resolve(module, &path, &modules) else {
                continue;
            };
            // Inside its subtree a module's path means its own items.
            let to = if module.starts_with(&target) {
                node(&target)
            } else {
                target
            };
            let shared = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if shared < from.len() && shared < to.len() {
                edges
                    .entry(from[..shared].to_vec())
                    .or_default()
                    .insert((from[shared].clone(), to[shared].clone()));
            }
        }
    }
    edges
        .iter()
        .filter_map(|(parent, edges)| {
            cycle(edges).map(|c| format!("in crate::{}: {}", parent.join("::"), c.join(" -> ")))
        })
        .collect()
}

/// Each source file of `krate` with its module path and its text without comments.
fn crate_files(src: &Path, krate: &CrateRoot) -> Vec<(Module, String)> {
    let belongs = |relative: &Path| {
        let top = relative
            .iter()
            .next()
            .and_then(|t| t.to_str())
            .unwrap_or_default();
        top == krate.root
            || !krate.skip.contains(&top) && krate.only.is_none_or(|only| only.contains(&top))
    };
    let mut out = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path: PathBuf = entry.unwrap().path();
            let relative = path.strip_prefix(src).unwrap().to_path_buf();
            let other_root = ["lib.rs", "main.rs"]
                .map(Path::new)
                .contains(&relative.as_path())
                && relative != Path::new(krate.root);
            if other_root || !belongs(&relative) {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let mut module: Module = relative
                .with_extension("")
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if relative == Path::new(krate.root) || module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code: Vec<&str> = text
                .lines()
                .map(|line| line.split("//").next().unwrap_or_default())
                .collect();
            out.push((module, code.join("\n")));
        }
    }
    out
}

/// Every path that starts with `crate`, `super` or `self`, braces expanded; a path used
/// in a file's inline test module (from `mod tests {` on) starts with `self` for `super`.
fn paths(text: &str) -> Vec<Vec<String>> {
    let (code, tests) = text.split_once("\nmod tests {").unwrap_or((text, ""));
    let mut out = Vec::new();
    for (part, in_tests) in [(code, false), (tests, true)] {
        let chars: Vec<char> = part.chars().collect();
        let mut at = 0;
        while at < chars.len() {
            let starts_word = at == 0 || !is_ident(chars[at - 1]) && chars[at - 1] != ':';
            let root = ["crate::", "super::", "self::"]
                .into_iter()
                .find(|r| starts_word && part_at(&chars, at).starts_with(r));
            let Some(root) = root else {
                at += 1;
                continue;
            };
            let mut first = root.trim_end_matches("::").to_owned();
            if in_tests && first == "super" {
                first = "self".into();
            }
            at += root.len();
            let mut prefixes = vec![vec![first]];
            at = expand(&chars, at, &mut prefixes, &mut out);
        }
    }
    out
}

fn part_at(chars: &[char], at: usize) -> String {
    chars[at..chars.len().min(at + 8)].iter().collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads a path's continuation at `at` (segments, `::`, a brace group) after the prefix on
/// top of `prefix`; pushes every complete path to `out` and returns where it stopped.
fn expand(
    chars: &[char],
    mut at: usize,
    prefix: &mut Vec<Vec<String>>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix.last().unwrap().clone();
    loop {
        while at < chars.len() && chars[at].is_whitespace() {
            at += 1;
        }
        if at < chars.len() && chars[at] == '{' {
            at += 1;
            loop {
                prefix.push(path.clone());
                at = expand(chars, at, prefix, out);
                prefix.pop();
                while at < chars.len() && (chars[at].is_whitespace() || chars[at] == ',') {
                    at += 1;
                }
                if at >= chars.len() || chars[at] == '}' {
                    return at + 1;
                }
            }
        }
        let start = at;
        while at < chars.len() && is_ident(chars[at]) {
            at += 1;
        }
        if at > start {
            path.push(chars[start..at].iter().collect());
        }
        if chars.get(at) == Some(&':') && chars.get(at + 1) == Some(&':') {
            at += 2;
            continue;
        }
        out.push(path);
        return at;
    }
}

/// The module a path from `module` names (its longest prefix that is a module).
fn resolve(module: &Module, path: &[String], modules: &BTreeSet<Module>) -> Option<Module> {
    let mut absolute: Module = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self") => {
            absolute = module.clone();
            rest = &path[1..];
        }
        Some("super") => {
            absolute = module.clone();
            while rest.first().map(String::as_str) == Some("super") {
                absolute.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    let mut found = absolute.clone();
    for segment in rest {
        absolute.push(segment.clone());
        if modules.contains(&absolute) {
            found = absolute.clone();
        } else {
            break;
        }
    }
    Some(found)
}

/// A cycle among `edges`, if there is one.
fn cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    fn visit<'a>(
        node: &'a str,
        edges: &'a BTreeSet<(String, String)>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|n| n.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for (_, to) in edges.iter().filter(|(from, _)| from == node) {
            if let Some(cycle) = visit(to, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .iter()
        .find_map(|(from, _)| visit(from, edges, &mut Vec::new(), &mut done))
}
