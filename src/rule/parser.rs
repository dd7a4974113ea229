//! Parses rule tokens into an `Expr` and validates every matcher's arguments.
//!
//! Grammar (`!` binds tighter than `&&`, which binds tighter than `||`):
//!
//! ```text
//! or      := and ( "||" and )*
//! and     := unary ( "&&" unary )*
//! unary   := "!" unary | primary
//! primary := "(" or ")" | NAME "(" [ STRING ( "," STRING )* ] ")"
//! ```

use std::net::IpAddr;

use http::{HeaderName, Method};
use ipnet::IpNet;
use regex::Regex;

use super::ast::{Expr, Matcher, MATCHER_NAMES, TCP_MATCHER_NAMES};
use super::error::RuleError;
use super::lexer::{tokenize, Token, TokenKind};

/// Parse and validate a Traefik v3 HTTP router rule.
pub fn parse(rule: &str) -> Result<Expr, RuleError> {
    parse_dialect(rule, &MATCHER_NAMES)
}

/// Parse and validate a Traefik v3 TCP router rule (`HostSNI`, `HostSNIRegexp`, `ClientIP`,
/// `ALPN`).
pub fn parse_tcp(rule: &str) -> Result<Expr, RuleError> {
    parse_dialect(rule, &TCP_MATCHER_NAMES)
}

fn parse_dialect(rule: &str, names: &'static [&'static str]) -> Result<Expr, RuleError> {
    let tokens = tokenize(rule);
    if tokens.len() == 1 && tokens[0].kind == TokenKind::Eof {
        return Err(RuleError::new(rule, 1, "empty rule"));
    }
    let mut parser = Parser {
        rule,
        tokens,
        pos: 0,
        names,
    };
    let expr = parser.or()?;
    let next = parser.peek()?;
    match &next.kind {
        TokenKind::Eof => Ok(expr),
        TokenKind::RParen => Err(parser.error(next.column, "unmatched `)`")),
        other => Err(parser.error(
            next.column,
            format!(
                "unexpected {} after a complete expression; expected `&&`, `||` or end of rule",
                other.describe()
            ),
        )),
    }
}

/// One string argument and the column of its opening quote.
struct Arg {
    value: String,
    column: usize,
}

struct Parser<'r> {
    rule: &'r str,
    tokens: Vec<Token>,
    pos: usize,
    /// The matchers this kind of rule may use.
    names: &'static [&'static str],
}

impl Parser<'_> {
    fn error(&self, column: usize, message: impl Into<String>) -> RuleError {
        RuleError::new(self.rule, column, message)
    }

    /// The current token (the final token once everything is consumed); a
    /// lexing error token becomes the error.
    fn peek(&self) -> Result<Token, RuleError> {
        let last = self.tokens.len().saturating_sub(1);
        let token = self
            .tokens
            .get(self.pos.min(last))
            .cloned()
            .unwrap_or(Token {
                kind: TokenKind::Eof,
                column: self.rule.chars().count() + 1,
            });
        match token.kind {
            TokenKind::Error(message) => Err(self.error(token.column, message)),
            _ => Ok(token),
        }
    }

    fn bump(&mut self) -> Result<Token, RuleError> {
        let token = self.peek()?;
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        Ok(token)
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut items = vec![self.and()?];
        while self.peek()?.kind == TokenKind::Or {
            self.bump()?;
            match self.and()? {
                Expr::Or(inner) => items.extend(inner),
                other => items.push(other),
            }
        }
        Ok(flatten(items, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut items = vec![self.unary()?];
        while self.peek()?.kind == TokenKind::And {
            self.bump()?;
            match self.unary()? {
                Expr::And(inner) => items.extend(inner),
                other => items.push(other),
            }
        }
        Ok(flatten(items, Expr::And))
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        if self.peek()?.kind == TokenKind::Not {
            self.bump()?;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let token = self.bump()?;
        match token.kind {
            TokenKind::LParen => {
                let inner = self.or()?;
                let close = self.bump()?;
                match close.kind {
                    TokenKind::RParen => Ok(inner),
                    TokenKind::Eof => Err(self.error(
                        close.column,
                        format!("unclosed `(` from column {}: expected `)`", token.column),
                    )),
                    other => Err(self.error(
                        close.column,
                        format!(
                            "unclosed `(` from column {}: expected `)`, found {}",
                            token.column,
                            other.describe()
                        ),
                    )),
                }
            }
            TokenKind::Ident(name) => self.matcher_call(&name, token.column),
            other => Err(self.error(
                token.column,
                format!("expected a matcher, `!` or `(`, found {}", other.describe()),
            )),
        }
    }

    fn matcher_call(&mut self, name: &str, column: usize) -> Result<Expr, RuleError> {
        if !self.names.contains(&name) {
            let other = if self.names == TCP_MATCHER_NAMES {
                (MATCHER_NAMES.contains(&name), "an HTTP", "TCP")
            } else {
                (TCP_MATCHER_NAMES.contains(&name), "a TCP", "HTTP")
            };
            if let (true, kind, here) = other {
                return Err(self.error(
                    column,
                    format!(
                        "`{name}` is {kind} matcher; {here} rules use: {}",
                        self.names.join(", ")
                    ),
                ));
            }
            let message = match self
                .names
                .iter()
                .find(|known| known.eq_ignore_ascii_case(name))
            {
                Some(known) => format!(
                    "unknown matcher `{name}` (matcher names are case-sensitive: did you mean `{known}`?)"
                ),
                None => format!(
                    "unknown matcher `{name}`; valid matchers are: {}",
                    self.names.join(", ")
                ),
            };
            return Err(self.error(column, message));
        }
        let open = self.bump()?;
        if open.kind != TokenKind::LParen {
            return Err(self.error(
                open.column,
                format!(
                    "expected `(` after `{name}`, found {}",
                    open.kind.describe()
                ),
            ));
        }
        let mut args = Vec::new();
        let close_column = loop {
            let token = self.bump()?;
            match token.kind {
                TokenKind::RParen if args.is_empty() => break token.column,
                TokenKind::Str(value) => args.push(Arg {
                    value,
                    column: token.column,
                }),
                TokenKind::Eof => {
                    return Err(self.error(token.column, format!("missing `)` to close `{name}(`")))
                }
                other => {
                    return Err(self.error(
                        token.column,
                        format!(
                            "expected a string in backticks or double quotes, found {}",
                            other.describe()
                        ),
                    ))
                }
            }
            let sep = self.bump()?;
            match sep.kind {
                TokenKind::Comma => continue,
                TokenKind::RParen => break sep.column,
                TokenKind::Eof => {
                    return Err(self.error(sep.column, format!("missing `)` to close `{name}(`")))
                }
                other => {
                    return Err(self.error(
                        sep.column,
                        format!("expected `,` or `)`, found {}", other.describe()),
                    ))
                }
            }
        };
        self.build(name, args, close_column).map(Expr::Matcher)
    }

    /// Check argument count and values, producing the validated matcher.
    fn build(&self, name: &str, args: Vec<Arg>, close: usize) -> Result<Matcher, RuleError> {
        let (min, max, shape) = match name {
            "Host" | "Path" | "PathPrefix" | "Method" | "ClientIP" | "HostSNI" | "ALPN" => {
                (1, usize::MAX, "1 or more arguments")
            }
            "HostRegexp" | "PathRegexp" | "HostSNIRegexp" => (1, 1, "exactly 1 argument"),
            "Header" | "HeaderRegexp" => (2, 2, "exactly 2 arguments (name, value)"),
            _ => (1, 2, "1 or 2 arguments (key[, value])"), // Query, QueryRegexp
        };
        if args.len() < min || args.len() > max {
            let column = args.get(max).map_or(close, |extra| extra.column);
            return Err(self.error(
                column,
                format!("`{name}` takes {shape}, got {}", args.len()),
            ));
        }
        if let Some(empty) = args.iter().find(|a| a.value.is_empty()) {
            return Err(self.error(empty.column, format!("empty argument to `{name}`")));
        }
        let each =
            |f: &dyn Fn(&Arg) -> Result<String, RuleError>| -> Result<Vec<String>, RuleError> {
                args.iter().map(f).collect()
            };
        Ok(match name {
            "Host" => Matcher::Host(each(&|a| self.host(a))?),
            "HostRegexp" => {
                self.ascii(&args[0], name)?;
                Matcher::HostRegexp(self.regex(&args[0])?)
            }
            "HostSNI" => Matcher::HostSni(each(&|a| self.host_sni(a))?),
            "HostSNIRegexp" => {
                self.ascii(&args[0], name)?;
                Matcher::HostSniRegexp(self.regex(&args[0])?)
            }
            "ALPN" => Matcher::Alpn(args.iter().map(|a| a.value.clone()).collect()),
            "Path" => Matcher::Path(each(&|a| self.path(a))?),
            "PathPrefix" => Matcher::PathPrefix(each(&|a| self.path(a))?),
            "PathRegexp" => Matcher::PathRegexp(self.regex(&args[0])?),
            "Method" => Matcher::Method(each(&|a| self.method(a))?),
            "Header" => Matcher::Header {
                name: self.header_name(&args[0])?,
                value: args[1].value.clone(),
            },
            "HeaderRegexp" => Matcher::HeaderRegexp {
                name: self.header_name(&args[0])?,
                regex: self.regex(&args[1])?,
            },
            "QueryRegexp" if args.len() == 2 => Matcher::QueryRegexp {
                key: args[0].value.clone(),
                regex: self.regex(&args[1])?,
            },
            "Query" | "QueryRegexp" => Matcher::Query {
                key: args[0].value.clone(),
                value: args.get(1).map(|a| a.value.clone()),
            },
            _ => Matcher::ClientIp(
                args.iter()
                    .map(|a| self.ip_net(a))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    fn ascii(&self, arg: &Arg, name: &str) -> Result<(), RuleError> {
        match arg.value.chars().position(|c| !c.is_ascii()) {
            None => Ok(()),
            Some(i) => Err(self.error(
                arg.column + 1 + i,
                format!(
                    "non-ASCII character in `{name}`; write the host in its punycode (xn--) form"
                ),
            )),
        }
    }

    /// A `HostSNI` argument: `*`, or a host name (lower-cased, no port).
    fn host_sni(&self, arg: &Arg) -> Result<String, RuleError> {
        if arg.value == "*" {
            return Ok("*".to_string());
        }
        let host = self.host(arg)?;
        if host.contains(':') && !host.starts_with('[') {
            return Err(self.error(arg.column, "a server name has no port"));
        }
        Ok(host)
    }

    fn host(&self, arg: &Arg) -> Result<String, RuleError> {
        self.ascii(arg, "Host")?;
        if arg.value == "*" {
            return Ok("*".to_owned());
        }
        let wildcard_at = arg.value.strip_prefix("*.").map_or(0, |_| 2);
        if let Some(i) = arg.value[wildcard_at..].find('*') {
            return Err(self.error(
                arg.column + 1 + wildcard_at + i,
                "a wildcard in `Host` is a whole first label (`*.example.com`, one label) or `*` \
                 alone; use `HostRegexp` for other patterns",
            ));
        }
        let lower = arg.value.to_ascii_lowercase();
        let host = lower.strip_suffix('.').unwrap_or(&lower);
        if host.is_empty() {
            return Err(self.error(arg.column, "empty host name in `Host`"));
        }
        if let Some(i) = host.find(|c: char| c.is_ascii_control() || c == ' ') {
            return Err(self.error(
                arg.column + 1 + i,
                "control character or space in `Host`: no request can carry it",
            ));
        }
        if host.starts_with('.') || host.ends_with('.') || host.contains("..") {
            return Err(self.error(
                arg.column,
                format!(
                    "`{}` has an empty label (`..` or a dot at an end); write e.g. `example.com`",
                    arg.value
                ),
            ));
        }
        Ok(host.to_owned())
    }

    fn path(&self, arg: &Arg) -> Result<String, RuleError> {
        if !arg.value.starts_with('/') {
            return Err(self.error(
                arg.column,
                format!("path `{}` must start with `/`", arg.value),
            ));
        }
        Ok(arg.value.clone())
    }

    fn method(&self, arg: &Arg) -> Result<String, RuleError> {
        let upper = arg.value.to_ascii_uppercase();
        match Method::from_bytes(upper.as_bytes()) {
            Ok(_) => Ok(upper),
            Err(_) => Err(self.error(arg.column, format!("invalid HTTP method `{}`", arg.value))),
        }
    }

    fn header_name(&self, arg: &Arg) -> Result<HeaderName, RuleError> {
        HeaderName::from_bytes(arg.value.as_bytes())
            .map_err(|_| self.error(arg.column, format!("invalid header name `{}`", arg.value)))
    }

    fn regex(&self, arg: &Arg) -> Result<Regex, RuleError> {
        Regex::new(&arg.value).map_err(|e| {
            let text = e.to_string();
            // Syntax errors span several lines; keep the one naming the problem.
            let reason = text
                .lines()
                .find_map(|line| line.strip_prefix("error: "))
                .unwrap_or(&text)
                .to_owned();
            self.error(
                arg.column,
                format!("invalid regular expression `{}`: {reason}", arg.value),
            )
        })
    }

    fn ip_net(&self, arg: &Arg) -> Result<IpNet, RuleError> {
        let text = arg.value.as_str();
        let parsed = if text.contains('/') {
            text.parse::<IpNet>().map(|net| net.trunc()).ok()
        } else {
            text.parse::<IpAddr>().ok().map(IpNet::from)
        };
        let net = parsed.ok_or_else(|| {
            self.error(
                arg.column,
                format!("invalid IP address or CIDR `{}` in `ClientIP`", arg.value),
            )
        })?;
        Ok(unmap_net(net))
    }
}

/// A one-element list is its element; otherwise wrap with `wrap`.
fn flatten(mut items: Vec<Expr>, wrap: fn(Vec<Expr>) -> Expr) -> Expr {
    if items.len() == 1 {
        if let Some(only) = items.pop() {
            return only;
        }
    }
    wrap(items)
}

/// `::ffff:a.b.c.d/p` (p >= 96) becomes `a.b.c.d/(p-96)` so it matches IPv4 clients.
fn unmap_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.addr().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(mapped) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return IpNet::V4(mapped);
            }
        }
    }
    net
}
