//! Reading the keys: connect to the first endpoint that answers (credentials, `db`), then
//! SCAN `<rootKey>/*` (never KEYS, which blocks the server) and MGET the values, at most
//! `max_keys` keys.

use super::RedisSettings;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo};
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest a connection attempt or one command may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Keys asked per SCAN step and per MGET.
const BATCH: usize = 1000;

/// Connects to the first endpoint that answers; the error names every endpoint tried.
pub async fn connect(s: &RedisSettings) -> Result<(String, MultiplexedConnection), String> {
    let mut failures = Vec::new();
    for (host, port) in &s.endpoints {
        let address = format!("{host}:{port}");
        match connect_one(s, host, *port).await {
            Ok(conn) => return Ok((address, conn)),
            Err(e) => failures.push(format!("{address}: {e}")),
        }
    }
    Err(failures.join("; "))
}

async fn connect_one(
    s: &RedisSettings,
    host: &str,
    port: u16,
) -> Result<MultiplexedConnection, String> {
    let mut settings = redis::RedisConnectionInfo::default().set_db(s.db);
    if let Some(u) = &s.username {
        settings = settings.set_username(u);
    }
    if let Some(p) = &s.password {
        settings = settings.set_password(p);
    }
    let info = ConnectionAddr::Tcp(host.to_string(), port)
        .into_connection_info()
        .map_err(|e| e.to_string())?
        .set_redis_settings(settings);
    let client = Client::open(info).map_err(|e| e.to_string())?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT));
    let connect = client.get_multiplexed_async_connection_with_config(&config);
    match tokio::time::timeout(TIMEOUT * 2, connect).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {:?}", TIMEOUT * 2)),
    }
}

/// Every string key under `<root>/` and its value. More than `max_keys` keys is an error.
pub async fn read_keys(
    conn: &mut MultiplexedConnection,
    root: &str,
    max_keys: usize,
) -> Result<BTreeMap<String, String>, String> {
    let pattern = format!("{}/*", glob_escape(root));
    let mut keys: Vec<String> = Vec::new();
    let mut cursor = String::from("0");
    loop {
        let (next, batch): (String, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(&cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(BATCH)
            .query_async(conn)
            .await
            .map_err(|e| format!("SCAN: {e}"))?;
        for key in batch {
            match String::from_utf8(key) {
                Ok(key) => keys.push(key),
                Err(e) => log::debug!("redis provider: skipping a key that is not UTF-8: {e}"),
            }
        }
        if keys.len() > max_keys {
            return Err(format!(
                "more than {max_keys} keys under `{root}/`: none of this read is applied; remove keys or use another rootKey"
            ));
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    // SCAN may return a key more than once.
    keys.sort();
    keys.dedup();
    let mut pairs = BTreeMap::new();
    for chunk in keys.chunks(BATCH) {
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(chunk)
            .query_async(conn)
            .await
            .map_err(|e| format!("MGET: {e}"))?;
        for (key, value) in chunk.iter().zip(values) {
            // `None`: deleted since the SCAN, or not a string (hashes, lists: not Traefik's layout).
            if let Some(value) = value {
                pairs.insert(key.clone(), String::from_utf8_lossy(&value).into_owned());
            }
        }
    }
    Ok(pairs)
}

/// `root` with Redis's glob characters escaped, for SCAN MATCH.
fn glob_escape(root: &str) -> String {
    let mut out = String::with_capacity(root.len());
    for c in root.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_characters_in_the_root_key_are_escaped() {
        assert_eq!(super::glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(super::glob_escape("traefik"), "traefik");
    }
}
