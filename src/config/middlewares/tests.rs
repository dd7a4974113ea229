//! Middleware settings decoded through the configuration tree (any key case, strings for
//! numbers and booleans as labels write them), as the middlewares' own tests cannot.

use crate::config::dynamic::MiddlewareConfig;
use crate::config::{from_tree, DynamicConfig};

fn decode(text: &str) -> DynamicConfig {
    from_tree(toml::from_str(text).unwrap(), "t").unwrap()
}

#[test]
fn redirect_scheme_port_is_a_string_or_an_integer() {
    for port in ["\"8443\"", "8443"] {
        let d = decode(&format!(
            "[http.middlewares.m.redirectScheme]\nscheme = \"https\"\nport = {port}\npermanent = \"true\"\n"
        ));
        let MiddlewareConfig::RedirectScheme(m) = &d.http.middlewares["m"] else {
            panic!("not redirectScheme")
        };
        assert_eq!(m.port.as_deref(), Some("8443"));
        assert_eq!(m.permanent, Some(true));
    }
}

#[test]
fn ip_allow_list_in_label_form_strings_and_lower_case_keys() {
    let d = decode(
        r#"[http.middlewares.m.ipallowlist]
sourcerange = "10.0.0.0/8, 127.0.0.1/32"
rejectstatuscode = "404"
ipstrategy.depth = "2"
ipstrategy.excludedips = "1.2.3.4"
"#,
    );
    let MiddlewareConfig::IpAllowList(m) = d.http.middlewares["m"].clone() else {
        panic!("not ipAllowList")
    };
    assert_eq!(m.source_range, ["10.0.0.0/8", "127.0.0.1/32"]);
    assert_eq!(m.reject_status_code, Some(404));
    let s = m.ip_strategy.unwrap();
    assert_eq!(
        (s.depth, s.excluded_ips),
        (Some(2), vec!["1.2.3.4".to_string()])
    );
}

#[test]
fn headers_label_style_keys_and_strings_are_read() {
    use crate::config::tree::TreeDeserializer;
    use serde::Deserialize;
    // Docker labels: lower-case keys, every value a string, lists comma-separated.
    let labels: toml::Value = toml::from_str(
        r#"
accesscontrolallowmethods = "GET,OPTIONS,PUT"
accesscontrolmaxage = "100"
stsseconds = "60"
forcestsheader = "true"
custombrowserxssvalue = "0"
[customrequestheaders]
X-Script-Name = "test"
"#,
    )
    .unwrap();
    let cfg = pylon_plugins::headers::Config::deserialize(TreeDeserializer(labels)).unwrap();
    assert_eq!(cfg.access_control_allow_methods, ["GET", "OPTIONS", "PUT"]);
    assert_eq!(cfg.access_control_max_age, Some(100));
    assert_eq!(cfg.force_sts_header, Some(true));
    assert_eq!(cfg.custom_browser_xss_value.as_deref(), Some("0"));
    assert_eq!(cfg.custom_request_headers["X-Script-Name"], "test");
    assert!(cfg.has_cors() && cfg.has_secure() && cfg.has_custom());
}

#[test]
fn chain_label_form_is_a_comma_list() {
    let d = decode("[http.middlewares.c.chain]\nmiddlewares = \"a, b@docker\"\n");
    let MiddlewareConfig::Chain(c) = &d.http.middlewares["c"] else {
        panic!("not a chain")
    };
    assert_eq!(c.middlewares, ["a", "b@docker"]);
}

#[test]
fn forward_auth_in_label_form() {
    let d = decode(
        r#"[http.middlewares.m.forwardauth]
address = "http://authelia:9091/api/verify?rd=https://auth.example.com/"
trustforwardheader = "true"
authresponseheaders = "Remote-User,Remote-Groups"
authsigninurl = "https://auth.example.com/"
maxresponsebodysize = "4096"
tls.insecureskipverify = "true"
"#,
    );
    let MiddlewareConfig::ForwardAuth(m) = d.http.middlewares["m"].clone() else {
        panic!("not forwardAuth")
    };
    assert_eq!(m.trust_forward_header, Some(true));
    assert_eq!(
        m.auth_response_headers.unwrap(),
        ["Remote-User", "Remote-Groups"]
    );
    assert_eq!(
        m.auth_signin_url.as_deref(),
        Some("https://auth.example.com/")
    );
    assert_eq!(m.max_response_body_size, Some(4096));
    assert_eq!(m.tls.unwrap().insecure_skip_verify, Some(true));
}

#[test]
fn circuit_breaker_in_label_form_lower_case_keys_and_strings() {
    let d = decode(
        r#"[http.middlewares.m.circuitbreaker]
expression = "ResponseCodeRatio(500, 600, 0, 600) > 0.25 && RequestThreshold() >= 20"
checkperiod = "250ms"
fallbackduration = "30s"
recoveryduration = "5"
responsecode = "429"
"#,
    );
    let MiddlewareConfig::CircuitBreaker(m) = d.http.middlewares["m"].clone() else {
        panic!("not circuitBreaker")
    };
    assert_eq!(m.response_code, Some(429));
    assert_eq!(
        m.check_period.map(|d| d.get()),
        Some(std::time::Duration::from_millis(250))
    );
    assert_eq!(
        m.recovery_duration.map(|d| d.get()),
        Some(std::time::Duration::from_secs(5))
    );
    let cx = pylon_plugins::BuildCx {
        name: "m",
        read_file: &|_| Err("no files".into()),
    };
    let built = d.http.middlewares["m"].build(&cx);
    assert!(matches!(built, Ok(pylon_plugins::Built::Plugin(_))));
}

#[test]
fn content_type_auto_detect_in_label_form() {
    let d = decode("[http.middlewares.m.contenttype]\nautodetect = \"false\"\n");
    let MiddlewareConfig::ContentType(m) = &d.http.middlewares["m"] else {
        panic!("not contentType")
    };
    assert_eq!(m.auto_detect, Some(false));
}

#[test]
fn grpc_web_allow_origins_in_label_form() {
    let d =
        decode("[http.middlewares.m.grpcweb]\nalloworigins = \"https://a.test, https://b.test\"\n");
    let MiddlewareConfig::GrpcWeb(m) = &d.http.middlewares["m"] else {
        panic!("not grpcWeb")
    };
    assert_eq!(m.allow_origins, ["https://a.test", "https://b.test"]);
}

#[test]
fn digest_auth_in_label_form() {
    let d = decode(
        "[http.middlewares.m.digestauth]\nusers = \"a:traefik:a2688e031edb4be6a3797f3882655c05,b:traefik:a2688e031edb4be6a3797f3882655c05\"\nremoveheader = \"true\"\nheaderfield = \"X-User\"\n",
    );
    let MiddlewareConfig::DigestAuth(m) = &d.http.middlewares["m"] else {
        panic!("not digestAuth")
    };
    assert_eq!(m.users.len(), 2);
    assert_eq!(m.remove_header, Some(true));
    assert_eq!(m.header_field.as_deref(), Some("X-User"));
}

#[test]
fn pass_tls_client_cert_in_label_form() {
    let d = decode(
        "[http.middlewares.m.passtlsclientcert]\npem = \"true\"\ninfo.notafter = \"true\"\ninfo.subject.commonname = \"true\"\ninfo.issuer.domaincomponent = \"true\"\n",
    );
    let MiddlewareConfig::PassTlsClientCert(m) = &d.http.middlewares["m"] else {
        panic!("not passTLSClientCert")
    };
    assert_eq!(m.pem, Some(true));
    let info = m.info.as_ref().unwrap();
    assert_eq!(info.not_after, Some(true));
    assert_eq!(info.subject.as_ref().unwrap().common_name, Some(true));
    assert_eq!(info.issuer.as_ref().unwrap().domain_component, Some(true));
}

#[test]
fn digest_auth_ha1s_are_redacted_in_the_api() {
    let d = decode(
        "[http.middlewares.m.digestAuth]\nusers = [\"a:traefik:a2688e031edb4be6a3797f3882655c05\"]\n",
    );
    let shown = crate::api::redact::clean(&d.http.middlewares["m"]);
    let text = serde_json::to_string(&shown).unwrap();
    assert!(!text.contains("a2688e03"), "{text}");
    assert_eq!(
        shown["digestAuth"]["users"][0],
        crate::api::redact::REDACTED
    );
}
