//! The default-rule template: Traefik's `normalize` and the Go-template subset pylon reads.

use super::super::template::{normalize, render, Model};
use std::collections::BTreeMap;

#[test]
fn normalize_is_traefiks() {
    let cases = [
        ("web", "web"),
        ("/my_app.1", "my-app-1"),
        ("web_proj", "web-proj"),
        ("--a__b--", "a-b"),
        ("MyApp", "MyApp"),
        ("café-ü", "café-ü"),
    ];
    for (name, want) in cases {
        assert_eq!(normalize(name), want, "{name}");
    }
}

#[test]
fn templates_render_or_say_what_is_wrong() {
    let labels: BTreeMap<String, String> = [("domain", "ex.com"), ("sub.key", "S")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let model = Model {
        name: "web-proj",
        container_name: "proj_web_1",
        labels: &labels,
    };
    let ok = [
        ("Host(`{{ normalize .Name }}`)", "Host(`web-proj`)"),
        ("Host(`{{normalize .ContainerName}}`)", "Host(`proj-web-1`)"),
        ("Host(`{{ index .Labels \"domain\" }}`)", "Host(`ex.com`)"),
        ("Host(`{{ index .Labels `sub.key` | lower }}`)", "Host(`s`)"),
        ("Host(`{{ .Labels.domain }}`)", "Host(`ex.com`)"),
        (
            "Host(`{{ index .Labels \"missing\" | default \"none\" }}`)",
            "Host(`none`)",
        ),
        ("Host(`{{ normalize (printf_free .Name) }}`)", ""),
        (
            "Host(`{{ .Name | replace \"-\" \".\" | upper }}`)",
            "Host(`WEB.PROJ`)",
        ),
        (
            "Host(`a`)  {{- \" \" -}}  || Host(`b`)",
            "Host(`a`) || Host(`b`)",
        ),
        ("Host(`{{ trimSuffix \"-proj\" .Name }}`)", "Host(`web`)"),
        ("no actions", "no actions"),
    ];
    for (template, want) in ok {
        match render(template, &model) {
            Ok(got) => assert_eq!(got, want, "{template}"),
            Err(e) => assert!(
                want.is_empty() && e.contains("printf_free"),
                "{template}: {e}"
            ),
        }
    }
    let bad = [
        ("{{ .Name", "not closed"),
        ("{{ .Nope }}", "unknown field `.Nope`"),
        ("{{ .Labels }}", "is a map"),
        ("{{ lower }}", "takes 1 argument"),
        ("{{ }}", "empty action"),
        ("{{ \"x }}", "not closed"),
        ("{{ .Name .Name }}", "not a function"),
    ];
    for (template, message) in bad {
        let e = render(template, &model).unwrap_err();
        assert!(e.contains(message), "{template}: {e}");
    }
}
