//! The README's configuration examples stay true (issue 18 point 2): the YAML and TOML
//! examples of its "Configuration" section are written as the files they name and checked by
//! `pylon check`, in both formats, and both formats must hold the same settings.

mod common;

use common::gateway::run_pylon;

/// The fenced blocks of `lang` in the README's "Configuration: YAML or TOML" section.
fn examples(lang: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("## Configuration: YAML or TOML")
        .expect("the Configuration section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = section;
    while let Some(i) = rest.find(&fence) {
        let body = &rest[i + fence.len()..];
        let end = body.find("```").expect("closed fence");
        out.push(body[..end].to_string());
        rest = &body[end..];
    }
    out
}

/// Writes the static and dynamic examples of one format and runs `pylon check` on them.
fn check(lang: &str, ext: &str) -> (i32, String) {
    let blocks = examples(lang);
    assert_eq!(blocks.len(), 2, "a static and a dynamic {lang} example");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(format!("traefik.{ext}")), &blocks[0]).unwrap();
    std::fs::write(dir.path().join(format!("dynamic.{ext}")), &blocks[1]).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pylon"))
        .current_dir(dir.path())
        .args(["check", "--config", &format!("traefik.{ext}")])
        .output()
        .expect("run pylon check");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn the_yaml_examples_pass_pylon_check() {
    let (code, out) = check("yaml", "yml");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_toml_examples_pass_pylon_check() {
    let (code, out) = check("toml", "toml");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn both_formats_say_the_same() {
    // Every quoted value and key of the YAML examples appears in the TOML ones, and back:
    // a setting added to one format only is caught.
    let words = |lang: &str| -> std::collections::BTreeSet<String> {
        examples(lang)
            .join("\n")
            .split(|c: char| !(c.is_ascii_alphanumeric() || "/:@-_`()&".contains(c)))
            .map(|w| w.trim_matches(':').to_string())
            .filter(|w| w.len() > 2 && !["yml", "toml"].contains(&w.as_str()))
            .collect()
    };
    let (yaml, toml) = (words("yaml"), words("toml"));
    let only_yaml: Vec<_> = yaml.difference(&toml).collect();
    let only_toml: Vec<_> = toml.difference(&yaml).collect();
    assert!(
        only_yaml.is_empty() && only_toml.is_empty(),
        "only in YAML: {only_yaml:?}\nonly in TOML: {only_toml:?}"
    );
    // and `pylon check` is the same program the other tests run
    assert_ne!(run_pylon(&["check", "--config", "/nonexistent.yml"]).0, 0);
}
