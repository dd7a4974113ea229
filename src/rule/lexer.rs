//! Splits rule text into tokens (names, strings, operators), each tagged with its column.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A matcher name such as `Host`.
    Ident(String),
    /// A quoted value, escapes already resolved.
    Str(String),
    LParen,
    RParen,
    Comma,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!`
    Not,
    /// End of the rule.
    Eof,
    /// Text that is not a token; the message says why. Lexing stops here, so
    /// the parser reports this only if everything before it parsed.
    Error(String),
}

impl TokenKind {
    /// How the token is named in error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            TokenKind::Ident(name) => format!("`{name}`"),
            TokenKind::Str(_) => "a string".to_owned(),
            TokenKind::LParen => "`(`".to_owned(),
            TokenKind::RParen => "`)`".to_owned(),
            TokenKind::Comma => "`,`".to_owned(),
            TokenKind::And => "`&&`".to_owned(),
            TokenKind::Or => "`||`".to_owned(),
            TokenKind::Not => "`!`".to_owned(),
            TokenKind::Eof => "end of rule".to_owned(),
            TokenKind::Error(message) => message.clone(),
        }
    }
}

/// A token and the 1-based character column where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub column: usize,
}

/// Tokenize `rule`. The result ends with an `Eof` token whose column is one
/// past the last character, or with an `Error` token at the first bad spot.
pub(crate) fn tokenize(rule: &str) -> Vec<Token> {
    let chars: Vec<char> = rule.chars().collect();
    let mut tokens = Vec::new();
    if let Err((column, message)) = lex(&chars, &mut tokens) {
        tokens.push(Token {
            kind: TokenKind::Error(message),
            column,
        });
        return tokens;
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        column: chars.len() + 1,
    });
    tokens
}

/// Push the tokens of `chars` onto `tokens`, stopping at the first error.
fn lex(chars: &[char], tokens: &mut Vec<Token>) -> Result<(), (usize, String)> {
    let err = |column: usize, message: String| (column, message);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let single = match c {
            '(' => Some(TokenKind::LParen),
            ')' => Some(TokenKind::RParen),
            ',' => Some(TokenKind::Comma),
            '!' => Some(TokenKind::Not),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token { kind, column });
            i += 1;
            continue;
        }
        match c {
            c if c.is_whitespace() => i += 1,
            '&' | '|' => {
                if chars.get(i + 1) != Some(&c) {
                    return Err(err(
                        column,
                        format!("expected `{c}{c}`, found a single `{c}`"),
                    ));
                }
                let kind = if c == '&' {
                    TokenKind::And
                } else {
                    TokenKind::Or
                };
                tokens.push(Token { kind, column });
                i += 2;
            }
            '`' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&ch| ch == '`')
                    .ok_or_else(|| {
                        err(
                            column,
                            "unterminated string: missing closing '`'".to_owned(),
                        )
                    })?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                tokens.push(Token {
                    kind: TokenKind::Str(text),
                    column,
                });
                i += end + 2;
            }
            '"' => {
                let (text, next) = double_quoted(chars, i)?;
                tokens.push(Token {
                    kind: TokenKind::Str(text),
                    column,
                });
                i = next;
            }
            '\'' => {
                return Err(err(
                    column,
                    "single quotes are not supported; quote values with backticks or double quotes"
                        .to_owned(),
                ))
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|ch| ch.is_ascii_alphanumeric() || **ch == '_')
                    .count();
                let name: String = chars[i..i + len].iter().collect();
                tokens.push(Token {
                    kind: TokenKind::Ident(name),
                    column,
                });
                i += len;
            }
            other => return Err(err(column, format!("unexpected character `{other}`"))),
        }
    }
    Ok(())
}

/// Read a double-quoted string whose opening quote is at `start`. Returns the
/// unescaped text and the index just past the closing quote, or the column
/// and message of the problem.
fn double_quoted(chars: &[char], start: usize) -> Result<(String, usize), (usize, String)> {
    let mut text = String::new();
    let mut i = start + 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '"' => return Ok((text, i + 1)),
            '\\' => {
                let unescaped = match chars.get(i + 1) {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some(other) => {
                        return Err((
                            i + 1,
                            format!(
                                "unknown escape sequence `\\{other}` (supported: \\\" \\\\ \\n \\t \\r; \
                                 backtick strings need no escaping)"
                            ),
                        ))
                    }
                    None => break,
                };
                text.push(unescaped);
                i += 2;
            }
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err((
        start + 1,
        "unterminated string: missing closing '\"'".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(rule: &str) -> Vec<TokenKind> {
        tokenize(rule).into_iter().map(|t| t.kind).collect()
    }

    /// The column and message of the error token `rule` ends with.
    fn lex_err(rule: &str) -> (usize, String) {
        match tokenize(rule).pop() {
            Some(Token {
                kind: TokenKind::Error(message),
                column,
            }) => (column, message),
            other => panic!("no error lexing {rule:?}: {other:?}"),
        }
    }

    #[test]
    fn tokens_and_columns() {
        let tokens = tokenize("Host(`a`) && !Path(\"/b\")");
        let cols: Vec<usize> = tokens.iter().map(|t| t.column).collect();
        assert_eq!(cols, vec![1, 5, 6, 9, 11, 14, 15, 19, 20, 24, 25]);
        assert_eq!(tokens[2].kind, TokenKind::Str("a".into()));
        assert_eq!(tokens[8].kind, TokenKind::Str("/b".into()));
    }

    #[test]
    fn double_quoted_escapes() {
        assert_eq!(
            kinds(r#""a\"b\\c""#),
            vec![TokenKind::Str("a\"b\\c".into()), TokenKind::Eof]
        );
    }

    #[test]
    fn backticks_are_raw() {
        assert_eq!(
            kinds(r"`^/a\.b$`"),
            vec![TokenKind::Str(r"^/a\.b$".into()), TokenKind::Eof]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let tokens = tokenize("`é` || X");
        assert_eq!(tokens[1].column, 5);
        assert_eq!(tokens[2].column, 8);
    }

    #[test]
    fn errors() {
        let (col, msg) = lex_err("Host(`abc");
        assert_eq!(
            (col, msg.as_str()),
            (6, "unterminated string: missing closing '`'")
        );
        let (col, msg) = lex_err("Host(\"abc\\\")");
        assert_eq!(col, 6);
        assert!(msg.starts_with("unterminated string"));
        let (col, msg) = lex_err("Host(\"a\\qb\")");
        assert_eq!(col, 8);
        assert!(msg.starts_with("unknown escape sequence `\\q`"));
        let (col, msg) = lex_err("A & B");
        assert_eq!(
            (col, msg.as_str()),
            (3, "expected `&&`, found a single `&`")
        );
        assert_eq!(lex_err("A | B").0, 3);
        let (col, msg) = lex_err("Host('a')");
        assert_eq!(col, 6);
        assert!(msg.starts_with("single quotes are not supported"));
        let (col, msg) = lex_err("Host(`a`) ; x");
        assert_eq!((col, msg.as_str()), (11, "unexpected character `;`"));
    }
}
