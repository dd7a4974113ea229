//! Tests of the case-insensitive, label-coercing tree deserializer.

use super::*;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Inner {
    strip_prefix: Option<Vec<String>>,
    pass_host_header: Option<bool>,
    port: Option<u16>,
    buckets: Option<Vec<f64>>,
    kind: Option<Kind>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
enum Kind {
    Common,
    JsonLines,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Outer {
    load_balancers: BTreeMap<String, Inner>,
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, TreeError> {
    let v: Value = toml::from_str(text).unwrap();
    T::deserialize(TreeDeserializer(v))
}

#[test]
fn struct_keys_match_any_case_but_map_keys_keep_theirs() {
    let o: Outer = parse("[loadbalancers.MyName]\nSTRIPPREFIX = ['/a']\n").unwrap();
    assert_eq!(
        o.load_balancers["MyName"].strip_prefix,
        Some(vec!["/a".to_string()])
    );
}

#[test]
fn strings_are_coerced_like_labels() {
    let text = "[loadBalancers.x]\npasshostheader = 'false'\nport = '8080'\n\
                stripprefix = '/a, /b'\nbuckets = '0.1,1'\nkind = 'JSONLINES'\n";
    let o: Outer = parse(text).unwrap();
    let i = &o.load_balancers["x"];
    assert_eq!(i.pass_host_header, Some(false));
    assert_eq!(i.port, Some(8080));
    assert_eq!(
        i.strip_prefix,
        Some(vec!["/a".to_string(), "/b".to_string()])
    );
    assert_eq!(i.buckets, Some(vec![0.1, 1.0]));
    assert_eq!(i.kind, Some(Kind::JsonLines));
}

#[test]
fn native_toml_types_pass_through() {
    let o: Outer = parse("[loadBalancers.x]\npassHostHeader = true\nbuckets = [1, 2.5]\n").unwrap();
    assert_eq!(o.load_balancers["x"].buckets, Some(vec![1.0, 2.5]));
}

#[test]
fn unknown_keys_and_values_are_structured() {
    let e = parse::<Outer>("[loadBalancers.x]\nprot = 1\n").unwrap_err();
    assert!(
        matches!(&e, TreeError::UnknownKey { key, .. } if key == "prot"),
        "{e}"
    );
    assert!(
        e.to_string().contains("expected one of `stripPrefix`"),
        "{e}"
    );
    let e = parse::<Outer>("[loadBalancers.x]\nkind = 'xml'\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown value `xml`: expected one of `common`, `jsonLines`"
    );
    let e = parse::<Outer>("[loadBalancers.x]\nport = 'eighty'\n").unwrap_err();
    assert_eq!(e.to_string(), "expected an integer, found `eighty`");
}

#[test]
fn struct_fields_are_probed() {
    assert_eq!(
        struct_fields::<Inner>(),
        &["stripPrefix", "passHostHeader", "port", "buckets", "kind"]
    );
}
