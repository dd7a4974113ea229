//! pylon's own log: `[log] format = "json"` gives one JSON object per line, and a reload says
//! which routers, services and middlewares were added, modified or removed.

mod common;

use common::{free_port, TestGateway, TestUpstream};
use std::time::Duration;

fn dynamic(routers: &[&str], url: &str) -> String {
    let mut t = String::new();
    for r in routers {
        t.push_str(&format!(
            "[http.routers.{r}]\nrule = \"PathPrefix(`/{r}`)\"\nservice = \"s\"\n"
        ));
    }
    t.push_str(&format!(
        "[http.services.s.loadBalancer]\nservers = [{{ url = \"{url}\" }}]\n"
    ));
    t
}

#[tokio::test]
async fn json_log_lines_and_a_reload_names_what_changed() {
    let a = TestUpstream::start("a").await;
    let b = TestUpstream::start("b").await;
    let web = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n[log]\nlevel = \"INFO\"\nformat = \"json\"\n[providers.file]\nfilename = \"dynamic.toml\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dynamic.toml"),
        dynamic(&["one", "two"], &a.url()),
    )
    .unwrap();
    let gw = TestGateway::start_in(dir, &config, &[web]).await;
    let tmp = gw.dir().join("dynamic.tmp");
    std::fs::write(&tmp, dynamic(&["two", "three"], &b.url())).unwrap();
    std::fs::rename(&tmp, gw.dir().join("dynamic.toml")).unwrap();
    let reload_line = common::eventually(Duration::from_secs(10), || async {
        gw.log()
            .lines()
            .find(|l| l.contains("configuration reloaded"))
            .map(str::to_string)
    })
    .await
    .unwrap_or_else(|| panic!("no reload logged:\n{}", gw.log()));
    let v: serde_json::Value = serde_json::from_str(&reload_line).expect("a JSON line");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("routers added three@file; removed one@file"),
        "{msg}"
    );
    assert!(msg.contains("services modified s@file"), "{msg}");
    assert!(!msg.contains("middlewares"), "{msg}");
    assert_eq!(v["level"], "info");
    assert_eq!(v["target"], "pylon::reload");
    let log = gw.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for key in ["time", "level", "message", "target"] {
            assert!(v.get(key).is_some(), "no `{key}` in {line}");
        }
    }
}
