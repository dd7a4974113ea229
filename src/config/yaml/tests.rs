//! Tests of the YAML reader: the tree it gives, and each refusal with its line.

use super::*;

fn tree(text: &str) -> Value {
    parse(text, "t.yml").expect("valid YAML").tree
}

fn error(text: &str) -> String {
    parse(text, "t.yml").expect_err("refused").to_string()
}

#[test]
fn yaml_gives_the_tree_toml_gives() {
    let yaml = tree(
        "entryPoints:\n  web:\n    address: \":80\"\n    http:\n      middlewares: [a, b]\n\
         log:\n  level: INFO\nmetrics:\n  prometheus:\n    buckets: [0.1, 5]\n    addEntryPointsLabels: true\n\
         ping:\naccessLog: {}\n",
    );
    let toml: Value = toml::from_str(
        "[entryPoints.web]\naddress = \":80\"\n[entryPoints.web.http]\nmiddlewares = [\"a\", \"b\"]\n\
         [log]\nlevel = \"INFO\"\n[metrics.prometheus]\nbuckets = [0.1, 5]\naddEntryPointsLabels = true\n\
         [ping]\n[accessLog]\n",
    )
    .unwrap();
    assert_eq!(yaml, toml);
}

#[test]
fn anchors_aliases_and_merge_keys_work() {
    let t = tree(
        "base: &base\n  passHostHeader: false\n  servers: [{url: 'http://a'}]\n\
         other:\n  <<: *base\n  passHostHeader: true\n\
         both:\n  <<: [*base, {extra: 1, passHostHeader: true}]\n\
         list: &l [1, 2]\ncopy: *l\n",
    );
    assert_eq!(t["other"]["passHostHeader"], Value::Boolean(true));
    assert_eq!(t["other"]["servers"], t["base"]["servers"]);
    // Earlier sources of a merge list win; keys not in the first come from the next.
    assert_eq!(t["both"]["passHostHeader"], Value::Boolean(false));
    assert_eq!(t["both"]["extra"], Value::Integer(1));
    assert_eq!(t["copy"], t["list"]);
}

#[test]
fn quoted_and_tagged_scalars_stay_strings() {
    let t = tree("a: \"10\"\nb: '%true'\nc: !!str 42\nd: |\n  line\n");
    assert_eq!(t["a"], Value::String("10".into()));
    assert_eq!(t["c"], Value::String("42".into()));
    assert_eq!(t["d"], Value::String("line\n".into()));
}

#[test]
fn keys_are_located_by_line_and_column() {
    let p = parse("http:\n  routers:\n    api:\n      rule: x\n", "t.yml").unwrap();
    assert_eq!(p.locations.find("http.routers.api.rule"), Some((4, 7)));
    assert_eq!(p.locations.find("http.routers.api.service"), Some((3, 5)));
    let p = parse("tls:\n  certificates:\n    - certFile: a\n", "t.yml").unwrap();
    assert_eq!(
        p.locations.find("tls.certificates[0].certFile"),
        Some((3, 7))
    );
}

#[test]
fn duplicate_keys_are_refused_at_the_second() {
    let e = error("log:\n  level: INFO\n  level: DEBUG\n");
    assert!(
        e.contains("t.yml:3:3: log.level: duplicate key `level` (first at line 2)"),
        "{e}"
    );
}

#[test]
fn tabs_in_the_indentation_are_refused() {
    let e = error("log:\n\tlevel: INFO\n");
    assert!(e.contains("t.yml:2:1"), "{e}");
    assert!(e.contains("tab"), "{e}");
}

#[test]
fn keys_that_are_not_strings_are_refused() {
    let e = error("codes:\n  404: x\n");
    assert!(
        e.contains("t.yml:2:3: codes: `404` is not a string key"),
        "{e}"
    );
    assert!(e.contains("\"404\""), "{e}");
    assert!(tree("codes:\n  \"404\": x\n")["codes"]["404"].is_str());
    let e = error("? [a, b]\n: c\n");
    assert!(e.contains("t.yml:1:"), "{e}");
    assert!(e.contains("as a key"), "{e}");
    let e = error("~: c\n");
    assert!(e.contains("empty (null) key"), "{e}");
}

#[test]
fn several_documents_are_refused() {
    let e = error("log:\n  level: INFO\n---\nping: {}\n");
    assert!(e.contains("t.yml:3:1"), "{e}");
    assert!(e.contains("second YAML document"), "{e}");
    // One document with its explicit start is fine.
    assert!(tree("---\nping: {}\n")["ping"].is_table());
}

#[test]
fn syntax_errors_name_line_and_column() {
    let e = error("log:\n  level: [INFO\n");
    assert!(e.starts_with("error: t.yml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
}

#[test]
fn billion_laughs_stop_at_the_node_budget() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let e = error(&text);
    assert!(e.contains("expands to more than"), "{e}");
}

#[test]
fn unknown_tags_are_refused() {
    let e = error("a: !vault secret\n");
    assert!(e.contains("t.yml:1:4"), "{e}");
    assert!(e.contains("not supported"), "{e}");
}
