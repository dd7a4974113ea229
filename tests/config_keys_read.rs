//! No key accepted and ignored (issue 18 point 4): every field of the configuration models
//! (the `Deserialize` structs under `src/config/`) must be read somewhere in pylon's code
//! (`.field`), or be listed below with the reason it needs no code. A key added to a model
//! and wired to nothing fails this test.

use regex::Regex;
use std::path::Path;

/// Fields no code needs to read, and why (the README says the same).
const NEEDS_NO_CODE: &[(&str, &str, &str)] = &[
    (
        "TlsOptions",
        "prefer_server_cipher_suites",
        "deprecated in Traefik, no effect there either",
    ),
    ("LogConfig", "no_color", "pylon's log has no colours"),
    (
        "StaticConfig",
        "global",
        "pylon never checks for new versions nor sends usage data",
    ),
    (
        "GlobalConfig",
        "check_new_version",
        "pylon never checks for new versions",
    ),
    (
        "GlobalConfig",
        "send_anonymous_usage",
        "pylon never sends usage data",
    ),
    (
        "ApiConfig",
        "disable_dashboard_ad",
        "pylon's dashboard shows no ads",
    ),
    (
        "EntryPointObservability",
        "tracing",
        "pylon has no tracing (the section is refused)",
    ),
    (
        "LoadBalancerConfig",
        "response_forwarding",
        "pylon writes each response chunk as it arrives",
    ),
    (
        "ResponseForwarding",
        "flush_interval",
        "pylon writes each response chunk as it arrives",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(struct, field)` of every `Deserialize` struct under `src/config/`.
fn model_fields(root: &Path) -> Vec<(String, String)> {
    let structs = Regex::new(
        r"(?s)#\[derive\(([^)]*)\)\]((?:\s*#\[[^\]]*\]|\s*///[^\n]*)*)\s*pub struct (\w+)\s*\{(.*?)\n\}",
    )
    .unwrap();
    let field = Regex::new(r"pub (\w+):").unwrap();
    let mut files = Vec::new();
    rust_files(&root.join("src/config"), &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for m in structs.captures_iter(&text) {
            if !m[1].contains("Deserialize") {
                continue;
            }
            for f in field.captures_iter(&m[4]) {
                out.push((m[3].to_string(), f[1].to_string()));
            }
        }
    }
    out
}

/// The model fields no code under `root` reads and no reason excuses, and those excused but
/// read after all.
fn unread_fields(root: &Path) -> (Vec<String>, Vec<String>) {
    let fields = model_fields(root);
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    if root.join("plugins/src").is_dir() {
        rust_files(&root.join("plugins/src"), &mut files);
    }
    let code: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let (mut unread, mut excused_but_read) = (Vec::new(), Vec::new());
    for (model, name) in &fields {
        let access = Regex::new(&format!(r"\.{name}\b")).unwrap();
        let read = code.iter().any(|text| access.is_match(text));
        let excused = NEEDS_NO_CODE
            .iter()
            .any(|(m, f, _)| m == model && f == name);
        match (read, excused) {
            (false, false) => unread.push(format!("{model}.{name}")),
            (true, true) => excused_but_read.push(format!("{model}.{name}")),
            _ => {}
        }
    }
    (unread, excused_but_read)
}

#[test]
fn every_model_key_is_read_by_some_code_or_says_why_not() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fields = model_fields(root);
    assert!(
        fields.len() > 200,
        "the model scan found {} fields",
        fields.len()
    );
    let (unread, excused_but_read) = unread_fields(root);
    assert!(
        unread.is_empty(),
        "keys accepted and read by no code (wire them, refuse them, or list them with the \
         reason they need none): {unread:?}"
    );
    assert!(
        excused_but_read.is_empty(),
        "listed as needing no code but read now: take them off the list: {excused_but_read:?}"
    );
}

#[test]
fn the_scan_finds_a_key_no_code_reads() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/config")).unwrap();
    std::fs::write(
        dir.path().join("src/config/model.rs"),
        "#[derive(Debug, Deserialize)]\n#[serde(deny_unknown_fields)]\npub struct Probe {\n    \
         pub wired: bool,\n    pub forgotten: bool,\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/use.rs"),
        "fn f(p: &Probe) -> bool { p.wired }\n",
    )
    .unwrap();
    let (unread, _) = unread_fields(dir.path());
    assert_eq!(unread, ["Probe.forgotten"]);
}
