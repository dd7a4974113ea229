//! Entry point addresses (":8000", "127.0.0.1:8000", "[::1]:8000") and trusted IP ranges.

/// Splits an entry point address into a bind string: ":80" → "0.0.0.0:80".
pub fn parse_address(address: &str) -> Result<(String, u16), String> {
    let fix = "write \":8000\", \"127.0.0.1:8000\" or \"[::1]:8000\"";
    if address.ends_with("/udp") {
        return Err(format!(
            "`{address}` is a UDP entry point: pylon serves HTTP over TCP only"
        ));
    }
    let addr = address.strip_suffix("/tcp").unwrap_or(address);
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("`{address}` has no port: {fix}"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("`{address}` has no valid port (1-65535): {fix}"))?;
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let bind = format!("{host}:{port}");
    bind.parse::<std::net::SocketAddr>()
        .map_err(|_| format!("`{address}` is not an IP address and port: {fix}"))?;
    Ok((bind, port))
}

/// An IP or CIDR ("10.0.0.0/8", "127.0.0.1", "::1"): defined with the middlewares that read
/// them too.
pub use pylon_plugins::source_config::parse_net;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_traefik_forms() {
        assert_eq!(
            parse_address(":8000").unwrap(),
            ("0.0.0.0:8000".into(), 8000)
        );
        assert_eq!(
            parse_address("127.0.0.1:80").unwrap(),
            ("127.0.0.1:80".into(), 80)
        );
        assert_eq!(
            parse_address("[::1]:8443").unwrap(),
            ("[::1]:8443".into(), 8443)
        );
        assert_eq!(parse_address(":443/tcp").unwrap().1, 443);
        assert!(parse_address("8000").is_err());
        assert!(parse_address(":0").is_err());
        assert!(parse_address(":99999").is_err());
        assert!(parse_address("localhost:80").is_err());
    }
}
