//! `providers.docker.constraints`: which containers the provider considers, as Traefik's
//! label expressions: ``Label(`key`, `value`)``, ``LabelRegex(`key`, `regex`)``, combined with
//! `&&`, `||`, `!` and parentheses (the rule language's lexer, its own small grammar).

use crate::rule::lexer::{tokenize, Token, TokenKind};
use regex::Regex;
use std::collections::BTreeMap;

/// A parsed constraint expression.
#[derive(Debug, Clone)]
pub enum Constraint {
    /// The label is present with exactly this value.
    Label(String, String),
    /// The label is present and its value matches (the whole value).
    LabelRegex(String, Regex),
    Not(Box<Constraint>),
    And(Box<Constraint>, Box<Constraint>),
    Or(Box<Constraint>, Box<Constraint>),
}

impl Constraint {
    /// Parses `text`; the error names the column and what was expected.
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let mut p = Parser {
            tokens: tokenize(text),
            pos: 0,
        };
        let c = p.or()?;
        match &p.peek().kind {
            TokenKind::Eof => Ok(c),
            other => Err(p.error(format!("unexpected {}", other.describe()))),
        }
    }

    /// Whether a container with these labels is considered.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Constraint::Label(k, v) => labels.get(k).is_some_and(|x| x == v),
            Constraint::LabelRegex(k, re) => labels.get(k).is_some_and(|x| re.is_match(x)),
            Constraint::Not(c) => !c.matches(labels),
            Constraint::And(a, b) => a.matches(labels) && b.matches(labels),
            Constraint::Or(a, b) => a.matches(labels) || b.matches(labels),
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with Eof or Error, and `pos` never passes it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.kind, TokenKind::Eof | TokenKind::Error(_)) {
            self.pos += 1;
        }
        t
    }

    fn error(&self, message: String) -> String {
        format!("column {}: {message}", self.peek().column)
    }

    fn or(&mut self) -> Result<Constraint, String> {
        let mut left = self.and()?;
        while self.peek().kind == TokenKind::Or {
            self.next();
            left = Constraint::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Constraint, String> {
        let mut left = self.unary()?;
        while self.peek().kind == TokenKind::And {
            self.next();
            left = Constraint::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Constraint, String> {
        match self.peek().kind.clone() {
            TokenKind::Not => {
                self.next();
                Ok(Constraint::Not(Box::new(self.unary()?)))
            }
            TokenKind::LParen => {
                self.next();
                let inner = self.or()?;
                self.expect(TokenKind::RParen, "`)`")?;
                Ok(inner)
            }
            TokenKind::Ident(name) => {
                self.next();
                self.call(&name)
            }
            other => Err(self.error(format!(
                "expected Label(...), LabelRegex(...), `!` or `(`, found {}",
                other.describe()
            ))),
        }
    }

    fn call(&mut self, name: &str) -> Result<Constraint, String> {
        self.expect(TokenKind::LParen, "`(`")?;
        let key = self.string()?;
        self.expect(TokenKind::Comma, "`,`")?;
        let value = self.string()?;
        self.expect(TokenKind::RParen, "`)`")?;
        match name {
            "Label" => Ok(Constraint::Label(key, value)),
            "LabelRegex" => Regex::new(&format!("^(?:{value})$"))
                .map(|re| Constraint::LabelRegex(key, re))
                .map_err(|e| format!("LabelRegex: invalid regular expression {value:?}: {e}")),
            other => Err(format!(
                "unknown constraint `{other}`: expected Label or LabelRegex"
            )),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        match self.peek().kind.clone() {
            TokenKind::Str(s) => {
                self.next();
                Ok(s)
            }
            other => Err(self.error(format!(
                "expected a quoted string, found {}",
                other.describe()
            ))),
        }
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<(), String> {
        if self.peek().kind == kind {
            self.next();
            Ok(())
        } else {
            Err(self.error(format!(
                "expected {what}, found {}",
                self.peek().kind.describe()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_and_regex_with_operators() {
        let c = Constraint::parse("Label(`a.tier`, `front`) && !LabelRegex(`env`, `dev.*`)")
            .expect("parses");
        assert!(c.matches(&labels(&[("a.tier", "front"), ("env", "prod")])));
        assert!(!c.matches(&labels(&[("a.tier", "front"), ("env", "dev1")])));
        assert!(!c.matches(&labels(&[("a.tier", "back")])));
        let either =
            Constraint::parse("(Label(\"x\", \"1\") || Label(\"y\", \"2\"))").expect("parses");
        assert!(either.matches(&labels(&[("y", "2")])));
        assert!(!either.matches(&labels(&[("y", "3")])));
    }

    #[test]
    fn regex_matches_the_whole_value() {
        let c = Constraint::parse("LabelRegex(`env`, `prod`)").expect("parses");
        assert!(!c.matches(&labels(&[("env", "preprod")])));
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = Constraint::parse("Label(`a`)").expect_err("one argument");
        assert!(e.contains("expected `,`"), "{e}");
        let e = Constraint::parse("Host(`a`, `b`)").expect_err("unknown");
        assert!(e.contains("expected Label or LabelRegex"), "{e}");
        let e = Constraint::parse("LabelRegex(`a`, `(`)").expect_err("bad regex");
        assert!(e.contains("invalid regular expression"), "{e}");
        assert!(Constraint::parse("Label(`a`, `b`) &&").is_err());
    }
}
