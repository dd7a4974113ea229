//! The breaker's condition, in Traefik's language (vulcand/oxy's): metric calls compared with
//! numbers, joined by `&&` and `||`, grouped with parentheses. Parsed once at build into an
//! [`Expr`]; errors carry the 1-based column. Bounded: long or deeply nested text is refused,
//! never overflows the stack.

use std::fmt;

/// A metric the condition reads from the breaker's window.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// `NetworkErrorRatio()`: requests that failed to reach the upstream (502, 504, connection
    /// errors) over all requests.
    NetworkErrorRatio,
    /// `ResponseCodeRatio(from, to, dividedByFrom, dividedByTo)`: responses with a status in
    /// `[from, to)` over those in `[dividedByFrom, dividedByTo)` (0 when none are).
    ResponseCodeRatio {
        from: u16,
        to: u16,
        divided_by_from: u16,
        divided_by_to: u16,
    },
    /// `LatencyAtQuantileMS(q)`: the latency at percentile `q` (0-100), whole milliseconds.
    LatencyAtQuantileMs(f64),
    /// `RequestThreshold()`: the requests in the window.
    RequestThreshold,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Cmp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
        }
    }

    /// The operator with its operands swapped (`1 < x` is `x > 1`).
    fn swapped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            other => other,
        }
    }
}

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `metric <cmp> value`.
    Compare {
        metric: Metric,
        cmp: Cmp,
        value: f64,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// What a condition is evaluated against: the window's figures.
pub trait Figures {
    fn network_error_ratio(&self) -> f64;
    fn response_code_ratio(&self, from: u16, to: u16, div_from: u16, div_to: u16) -> f64;
    /// Whole milliseconds, as oxy compares them.
    fn latency_at_quantile_ms(&self, quantile: f64) -> u64;
    fn requests(&self) -> u64;
}

impl Expr {
    /// Whether the condition holds for `figures`.
    pub fn holds(&self, figures: &dyn Figures) -> bool {
        match self {
            Expr::And(a, b) => a.holds(figures) && b.holds(figures),
            Expr::Or(a, b) => a.holds(figures) || b.holds(figures),
            Expr::Compare { metric, cmp, value } => {
                let got = match *metric {
                    Metric::NetworkErrorRatio => figures.network_error_ratio(),
                    Metric::ResponseCodeRatio {
                        from,
                        to,
                        divided_by_from,
                        divided_by_to,
                    } => figures.response_code_ratio(from, to, divided_by_from, divided_by_to),
                    Metric::LatencyAtQuantileMs(q) => figures.latency_at_quantile_ms(q) as f64,
                    Metric::RequestThreshold => figures.requests() as f64,
                };
                cmp.holds(got, *value)
            }
        }
    }

    /// Whether the condition reads latencies (else they need not be summed at a check).
    pub fn reads_latency(&self) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.reads_latency() || b.reads_latency(),
            Expr::Compare { metric, .. } => matches!(metric, Metric::LatencyAtQuantileMs(_)),
        }
    }
}

/// Why an expression does not parse, and where (1-based column, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// Longest expression accepted, in characters.
pub const MAX_LEN: usize = 1024;
/// Deepest nesting of parentheses accepted.
const MAX_DEPTH: usize = 32;

/// The metric functions, as Traefik spells them.
pub const FUNCTIONS: [&str; 4] = [
    "NetworkErrorRatio",
    "ResponseCodeRatio",
    "LatencyAtQuantileMS",
    "RequestThreshold",
];

/// Parses `text` into a condition.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let len = text.chars().count();
    if len > MAX_LEN {
        return Err(ParseError {
            column: MAX_LEN + 1,
            message: format!("the expression is longer than {MAX_LEN} characters"),
        });
    }
    let tokens = lex(text)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let expr = p.or()?;
    match p.peek() {
        (Tok::End, _) => Ok(expr),
        (tok, column) => Err(ParseError {
            column,
            message: format!(
                "unexpected {}: expected `&&`, `||` or the end",
                tok.describe()
            ),
        }),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// The value and whether it was written as an integer.
    Number(f64, bool),
    LParen,
    RParen,
    Comma,
    Minus,
    Cmp(Cmp),
    And,
    Or,
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("`{name}`"),
            Tok::Number(..) => "number".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Cmp(_) => "comparison operator".into(),
            Tok::And => "`&&`".into(),
            Tok::Or => "`||`".into(),
            Tok::End => "end of the expression".into(),
        }
    }
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |column: usize, message: String| Err(ParseError { column, message });
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let next = chars.get(i + 1).copied();
        let (tok, width) = match (c, next) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            ('-', _) => (Tok::Minus, 1),
            ('&', Some('&')) => (Tok::And, 2),
            ('|', Some('|')) => (Tok::Or, 2),
            ('<', Some('=')) => (Tok::Cmp(Cmp::Le), 2),
            ('>', Some('=')) => (Tok::Cmp(Cmp::Ge), 2),
            ('=', Some('=')) => (Tok::Cmp(Cmp::Eq), 2),
            ('!', Some('=')) => (Tok::Cmp(Cmp::Ne), 2),
            ('<', _) => (Tok::Cmp(Cmp::Lt), 1),
            ('>', _) => (Tok::Cmp(Cmp::Gt), 1),
            ('&', _) => return err(column, "`&` is not an operator: write `&&`".into()),
            ('|', _) => return err(column, "`|` is not an operator: write `||`".into()),
            ('=', Some('>')) => return err(column, "`=>` is not an operator: write `>=`".into()),
            ('=', Some('<')) => return err(column, "`=<` is not an operator: write `<=`".into()),
            ('=', _) => return err(column, "`=` is not an operator: write `==`".into()),
            ('!', _) => {
                return err(
                    column,
                    "`!` (not) is not supported: compare the other way (e.g. `<=` for `!(>)`)"
                        .into(),
                )
            }
            (c, _) if c.is_ascii_digit() || c == '.' => {
                let end = number_end(&chars, i);
                let written: String = chars[i..end].iter().collect();
                let integer = written.bytes().all(|b| b.is_ascii_digit());
                match written.parse::<f64>() {
                    Ok(v) if v.is_finite() => (Tok::Number(v, integer), end - i),
                    _ => return err(column, format!("`{written}` is not a number")),
                }
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let end = (i..chars.len())
                    .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                (Tok::Ident(chars[i..end].iter().collect()), end - i)
            }
            (c, _) => {
                return err(
                    column,
                    format!("unexpected character `{}`", c.escape_debug()),
                )
            }
        };
        out.push((tok, column));
        i += width;
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

/// Where the number starting at `start` ends: digits, one `.`, an exponent (`1e3`, `2.5E-1`).
fn number_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    let digits = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        digits(&mut i);
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(|c| c.is_ascii_digit()) {
            i = j;
            digits(&mut i);
        }
    }
    i
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
}

/// One side of a comparison.
enum Operand {
    Metric(Metric),
    Number(f64),
}

impl Parser {
    fn peek(&self) -> (Tok, usize) {
        self.tokens
            .get(self.at)
            .or_else(|| self.tokens.last())
            .cloned()
            .unwrap_or((Tok::End, 1))
    }

    fn bump(&mut self) -> (Tok, usize) {
        let t = self.peek();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ParseError> {
        let (tok, column) = self.bump();
        if tok == want {
            Ok(())
        } else {
            Err(ParseError {
                column,
                message: format!("expected {what}, found {}", tok.describe()),
            })
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.peek().0 == Tok::Or {
            self.bump();
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.primary()?;
        while self.peek().0 == Tok::And {
            self.bump();
            let right = self.primary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let (tok, column) = self.peek();
        if tok != Tok::LParen {
            return self.comparison();
        }
        if self.depth >= MAX_DEPTH {
            return Err(ParseError {
                column,
                message: format!("parentheses are nested deeper than {MAX_DEPTH}"),
            });
        }
        self.bump();
        self.depth += 1;
        let inner = self.or()?;
        self.depth -= 1;
        self.expect(Tok::RParen, "`)`")?;
        Ok(inner)
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let (_, left_column) = self.peek();
        let left = self.operand()?;
        let (tok, column) = self.bump();
        let Tok::Cmp(cmp) = tok else {
            return Err(ParseError {
                column,
                message: format!(
                    "expected a comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`), found {}",
                    tok.describe()
                ),
            });
        };
        let (_, right_column) = self.peek();
        let right = self.operand()?;
        match (left, right) {
            (Operand::Metric(metric), Operand::Number(value)) => {
                Ok(Expr::Compare { metric, cmp, value })
            }
            (Operand::Number(value), Operand::Metric(metric)) => Ok(Expr::Compare {
                metric,
                cmp: cmp.swapped(),
                value,
            }),
            (Operand::Metric(_), Operand::Metric(_)) => Err(ParseError {
                column: right_column,
                message: "a metric is compared with a number, not with another metric".into(),
            }),
            (Operand::Number(_), Operand::Number(_)) => Err(ParseError {
                column: left_column,
                message: format!(
                    "a comparison needs a metric: one of {}",
                    FUNCTIONS.map(|f| format!("{f}()")).join(", ")
                ),
            }),
        }
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let (tok, column) = self.bump();
        match tok {
            Tok::Number(v, _) => Ok(Operand::Number(v)),
            Tok::Minus => match self.bump() {
                (Tok::Number(v, _), _) => Ok(Operand::Number(-v)),
                (other, column) => Err(ParseError {
                    column,
                    message: format!("expected a number after `-`, found {}", other.describe()),
                }),
            },
            Tok::Ident(name) => self.call(&name, column).map(Operand::Metric),
            other => Err(ParseError {
                column,
                message: format!(
                    "expected a metric such as `NetworkErrorRatio()` or a number, found {}",
                    other.describe()
                ),
            }),
        }
    }

    /// A metric call whose name (at `column`) was just read.
    fn call(&mut self, name: &str, column: usize) -> Result<Metric, ParseError> {
        let Some(known) = FUNCTIONS.iter().find(|f| **f == name) else {
            let message = match FUNCTIONS.iter().find(|f| f.eq_ignore_ascii_case(name)) {
                Some(f) => format!(
                    "unknown metric `{name}`: did you mean `{f}`? (names are case-sensitive)"
                ),
                None => format!(
                    "unknown metric `{name}`: use one of {}",
                    FUNCTIONS.join(", ")
                ),
            };
            return Err(ParseError { column, message });
        };
        self.expect(Tok::LParen, &format!("`(` after `{known}`"))?;
        let mut args: Vec<(f64, bool, usize)> = Vec::new();
        if self.peek().0 != Tok::RParen {
            loop {
                let (tok, at) = self.bump();
                let (value, integer) = match tok {
                    Tok::Number(v, integer) => (v, integer),
                    Tok::Minus => match self.bump() {
                        (Tok::Number(v, integer), _) => (-v, integer),
                        (other, at) => {
                            return Err(ParseError {
                                column: at,
                                message: format!(
                                    "expected a number after `-`, found {}",
                                    other.describe()
                                ),
                            })
                        }
                    },
                    other => {
                        return Err(ParseError {
                            column: at,
                            message: format!("`{known}` takes numbers, found {}", other.describe()),
                        })
                    }
                };
                if args.len() == 4 {
                    return Err(ParseError {
                        column: at,
                        message: format!("too many arguments to `{known}`"),
                    });
                }
                args.push((value, integer, at));
                if self.peek().0 != Tok::Comma {
                    break;
                }
                self.bump();
            }
        }
        let close = self.peek().1;
        self.expect(Tok::RParen, "`,` or `)`")?;
        arguments(known, &args, column, close)
    }
}

/// The metric `name` with `args` (value, written as an integer, column), checked.
fn arguments(
    name: &str,
    args: &[(f64, bool, usize)],
    column: usize,
    close: usize,
) -> Result<Metric, ParseError> {
    let count = |n: usize, form: &str| -> Result<(), ParseError> {
        if args.len() == n {
            return Ok(());
        }
        Err(ParseError {
            column: args.get(n).map_or(close, |a| a.2),
            message: format!(
                "`{name}` takes {n} argument(s): {form}, found {}",
                args.len()
            ),
        })
    };
    match name {
        "NetworkErrorRatio" => count(0, "`NetworkErrorRatio()`").map(|_| Metric::NetworkErrorRatio),
        "RequestThreshold" => count(0, "`RequestThreshold()`").map(|_| Metric::RequestThreshold),
        "LatencyAtQuantileMS" => {
            count(1, "the percentile, e.g. `LatencyAtQuantileMS(50.0)`")?;
            let (q, _, at) = args[0];
            if !(0.0..=100.0).contains(&q) {
                return Err(ParseError {
                    column: at,
                    message: format!("the percentile must be between 0 and 100, found {q}"),
                });
            }
            Ok(Metric::LatencyAtQuantileMs(q))
        }
        "ResponseCodeRatio" => {
            count(
                4,
                "`ResponseCodeRatio(from, to, dividedByFrom, dividedByTo)`",
            )?;
            let mut codes = [0u16; 4];
            for (slot, &(v, integer, at)) in codes.iter_mut().zip(args) {
                if !integer || !(0.0..=1000.0).contains(&v) {
                    return Err(ParseError {
                        column: at,
                        message: format!(
                            "a status code bound is a whole number from 0 to 1000, found {v}"
                        ),
                    });
                }
                *slot = v as u16;
            }
            for pair in [0, 2] {
                if codes[pair] >= codes[pair + 1] {
                    return Err(ParseError {
                        column: args[pair + 1].2,
                        message: format!(
                            "the range [{}, {}) is empty: the upper bound is exclusive and must be above the lower one",
                            codes[pair],
                            codes[pair + 1]
                        ),
                    });
                }
            }
            Ok(Metric::ResponseCodeRatio {
                from: codes[0],
                to: codes[1],
                divided_by_from: codes[2],
                divided_by_to: codes[3],
            })
        }
        _ => Err(ParseError {
            column,
            message: format!("unknown metric `{name}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed {
        network: f64,
        codes: f64,
        latency: u64,
        requests: u64,
    }

    impl Figures for Fixed {
        fn network_error_ratio(&self) -> f64 {
            self.network
        }
        fn response_code_ratio(&self, _: u16, _: u16, _: u16, _: u16) -> f64 {
            self.codes
        }
        fn latency_at_quantile_ms(&self, _: f64) -> u64 {
            self.latency
        }
        fn requests(&self) -> u64 {
            self.requests
        }
    }

    fn cmp(metric: Metric, cmp: Cmp, value: f64) -> Expr {
        Expr::Compare { metric, cmp, value }
    }

    #[test]
    fn parses_traefiks_examples() {
        assert_eq!(
            parse("LatencyAtQuantileMS(50.0) > 100").unwrap(),
            cmp(Metric::LatencyAtQuantileMs(50.0), Cmp::Gt, 100.0)
        );
        assert_eq!(
            parse("NetworkErrorRatio() > 0.30").unwrap(),
            cmp(Metric::NetworkErrorRatio, Cmp::Gt, 0.3)
        );
        let codes = Metric::ResponseCodeRatio {
            from: 500,
            to: 600,
            divided_by_from: 0,
            divided_by_to: 600,
        };
        assert_eq!(
            parse("ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10")
                .unwrap(),
            Expr::Or(
                Box::new(cmp(codes.clone(), Cmp::Gt, 0.3)),
                Box::new(cmp(Metric::NetworkErrorRatio, Cmp::Gt, 0.1))
            )
        );
        assert_eq!(
            parse("ResponseCodeRatio(500,600,0,600)>0.25&&RequestThreshold()>=20").unwrap(),
            Expr::And(
                Box::new(cmp(codes, Cmp::Gt, 0.25)),
                Box::new(cmp(Metric::RequestThreshold, Cmp::Ge, 20.0))
            )
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let n = |v: f64| cmp(Metric::NetworkErrorRatio, Cmp::Gt, v);
        let b = |e: Expr| Box::new(e);
        assert_eq!(
            parse("NetworkErrorRatio() > 1 || NetworkErrorRatio() > 2 && NetworkErrorRatio() > 3")
                .unwrap(),
            Expr::Or(b(n(1.0)), b(Expr::And(b(n(2.0)), b(n(3.0)))))
        );
        assert_eq!(
            parse(
                "(NetworkErrorRatio() > 1 || NetworkErrorRatio() > 2) && NetworkErrorRatio() > 3"
            )
            .unwrap(),
            Expr::And(b(Expr::Or(b(n(1.0)), b(n(2.0)))), b(n(3.0)))
        );
    }

    #[test]
    fn every_operator_and_a_number_on_the_left() {
        for (text, want) in [
            ("<", Cmp::Lt),
            ("<=", Cmp::Le),
            (">", Cmp::Gt),
            (">=", Cmp::Ge),
            ("==", Cmp::Eq),
            ("!=", Cmp::Ne),
        ] {
            let e = parse(&format!("RequestThreshold() {text} 5")).unwrap();
            assert_eq!(e, cmp(Metric::RequestThreshold, want, 5.0), "{text}");
        }
        assert_eq!(
            parse("0.5 < NetworkErrorRatio()").unwrap(),
            cmp(Metric::NetworkErrorRatio, Cmp::Gt, 0.5)
        );
    }

    #[test]
    fn evaluates_against_figures() {
        let f = Fixed {
            network: 0.4,
            codes: 0.1,
            latency: 120,
            requests: 30,
        };
        let holds = |t: &str| parse(t).unwrap().holds(&f);
        assert!(holds("NetworkErrorRatio() > 0.3"));
        assert!(!holds("NetworkErrorRatio() > 0.5"));
        assert!(holds("LatencyAtQuantileMS(99.0) >= 120"));
        assert!(!holds("LatencyAtQuantileMS(99.0) != 120"));
        assert!(holds(
            "ResponseCodeRatio(500, 600, 0, 600) < 0.2 && RequestThreshold() == 30"
        ));
        assert!(holds(
            "NetworkErrorRatio() > 0.9 || RequestThreshold() > 10"
        ));
        assert!(!holds(
            "NetworkErrorRatio() > 0.9 || RequestThreshold() > 100"
        ));
        assert!(parse("LatencyAtQuantileMS(50.0) > 1")
            .unwrap()
            .reads_latency());
        assert!(!parse("NetworkErrorRatio() > 1").unwrap().reads_latency());
    }

    #[test]
    fn errors_name_the_column() {
        let e = |t: &str| parse(t).unwrap_err();
        assert_eq!(e("NetworkErrorRatio() > ").column, 23);
        assert!(e("NetworkErrorRatio() > ")
            .message
            .contains("end of the expression"));
        let unknown = e("NetworkErrorRatio() > 0.5 && Latency() > 3");
        assert_eq!(unknown.column, 30);
        assert!(
            unknown.message.contains("unknown metric `Latency`"),
            "{unknown}"
        );
        let case = e("networkErrorRatio() > 0.5");
        assert!(
            case.message.contains("did you mean `NetworkErrorRatio`"),
            "{case}"
        );
        assert_eq!(e("NetworkErrorRatio() = 0.5").column, 21);
        assert_eq!(
            e("NetworkErrorRatio() > 0.5 & RequestThreshold() > 1").column,
            27
        );
        assert_eq!(e("NetworkErrorRatio() 0.5").column, 21);
        assert_eq!(e("ResponseCodeRatio(500, 600, 0) > 0.5").column, 30);
        assert_eq!(e("ResponseCodeRatio(600, 500, 0, 600) > 0.5").column, 24);
        assert_eq!(e("ResponseCodeRatio(500.5, 600, 0, 600) > 0.5").column, 19);
        assert_eq!(e("LatencyAtQuantileMS(150.0) > 1").column, 21);
        assert_eq!(e("NetworkErrorRatio(1) > 1").column, 19);
        assert_eq!(e("(NetworkErrorRatio() > 1").column, 25);
        assert_eq!(e("NetworkErrorRatio() > 1)").column, 24);
        assert_eq!(e("1 > 2").column, 1);
        assert_eq!(e("!(NetworkErrorRatio() > 1)").column, 1);
        assert_eq!(e("").column, 1);
        assert_eq!(e("NetworkErrorRatio() > 0.5 é").column, 27);
    }

    #[test]
    fn garbage_never_panics() {
        let nasty = [
            "",
            " ",
            "(",
            ")",
            "((((",
            "))))",
            "&&",
            "||",
            "<",
            "-",
            "--1",
            ".",
            "..",
            "1e",
            "1e+",
            "1e999 < NetworkErrorRatio()",
            "NetworkErrorRatio() > 1e308",
            "NetworkErrorRatio() > 99999999999999999999999999999999999999",
            "ResponseCodeRatio(1,2,3,4,5) > 1",
            "ResponseCodeRatio(-1,2,3,4) > 1",
            "ResponseCodeRatio(,,,) > 1",
            "ResponseCodeRatio(1 2) > 1",
            "LatencyAtQuantileMS() > 1",
            "LatencyAtQuantileMS(NaN) > 1",
            "NetworkErrorRatio() > NetworkErrorRatio()",
            "NetworkErrorRatio > 1",
            "NetworkErrorRatio() > 1 &&",
            "\u{0}\u{1}\u{7f}",
            "日本語 > 1",
            "NetworkErrorRatio()\n>\t0.5",
        ];
        for text in nasty {
            let _ = parse(text);
        }
        // deep nesting is refused, not a stack overflow
        let deep = format!(
            "{}NetworkErrorRatio() > 1{}",
            "(".repeat(500),
            ")".repeat(500)
        );
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let long = "NetworkErrorRatio() > 1 || ".repeat(100) + "RequestThreshold() > 1";
        assert!(parse(&long).unwrap_err().message.contains("longer than"));
        // a cheap deterministic fuzz: every prefix and byte soup of a valid expression
        let valid = "(ResponseCodeRatio(500, 600, 0, 600) > 0.25 && RequestThreshold() >= 20) || LatencyAtQuantileMS(99.9) > -1e3";
        assert!(parse(valid).is_ok());
        let chars: Vec<char> = valid.chars().collect();
        for i in 0..chars.len() {
            let _ = parse(&chars[..i].iter().collect::<String>());
            let _ = parse(&chars[i..].iter().collect::<String>());
            let mut shuffled = chars.clone();
            shuffled.swap(i, (i * 7 + 3) % chars.len());
            let _ = parse(&shuffled.iter().collect::<String>());
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let alphabet: Vec<char> = "()&|<>=!-.,0123456789eE NetworkErrorRatioLMS\u{e9}"
            .chars()
            .collect();
        for _ in 0..5000 {
            let len = (seed % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = parse(&text);
        }
    }
}
