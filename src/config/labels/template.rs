//! The Docker provider's default-rule template: the small part of Go's text/template it uses.
//!
//! Traefik renders `defaultRule` (default ``Host(`{{ normalize .Name }}`)``) with Go's
//! text/template, the sprig functions and `normalize`, over the model
//! `{ Name, ContainerName, Labels }` (traefik/traefik pkg/provider/docker/config.go, `build`).
//! pylon supports what default rules are written with: text, `{{ }}` actions (with `{{-`/`-}}`
//! trimming), pipelines (`a | b`), parentheses, string literals, the fields `.Name`,
//! `.ContainerName`, `.Labels` (and `.Labels.key`), and the functions `normalize`, `index`,
//! `lower`, `upper`, `trim`, `trimPrefix`, `trimSuffix`, `replace` and `default` (sprig's
//! argument order). Anything else is an error that names it.

use std::collections::BTreeMap;

/// What a template can read.
pub struct Model<'a> {
    /// The default service name (`normalize` of compose `service_project`, else the container).
    pub name: &'a str,
    /// The container's name, without the leading `/`.
    pub container_name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

const FUNCTIONS: &str =
    "normalize, index, lower, upper, trim, trimPrefix, trimSuffix, replace, default";

/// Checks `template` once, over a sample container, so a typo is reported at start rather
/// than for each container.
pub fn check(template: &str) -> Result<(), String> {
    let labels = BTreeMap::new();
    let sample = Model {
        name: "example",
        container_name: "example",
        labels: &labels,
    };
    render(template, &sample).map(|_| ())
}

/// Renders `template` over `model`.
pub fn render(template: &str, model: &Model<'_>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let mut text = &rest[..open];
        let mut action = &rest[open + 2..];
        if let Some(trimmed) = action.strip_prefix('-') {
            text = text.trim_end();
            action = trimmed;
        }
        out.push_str(text);
        let close = action
            .find("}}")
            .ok_or_else(|| "an action `{{` is not closed by `}}`".to_string())?;
        let mut body = &action[..close];
        rest = &action[close + 2..];
        if let Some(trimmed) = body.strip_suffix('-') {
            body = trimmed;
            rest = rest.trim_start();
        }
        let tokens = tokenize(body)?;
        let mut parser = Parser {
            tokens: &tokens,
            at: 0,
            model,
        };
        let value = parser.pipeline()?;
        if parser.at != tokens.len() {
            return Err(format!(
                "unexpected `{}` in `{{{{{body}}}}}`",
                tokens[parser.at]
            ));
        }
        out.push_str(&value.into_text()?);
    }
    out.push_str(rest);
    Ok(out)
}

/// Traefik's `normalize`: runs of characters other than letters and digits become one `-`,
/// trimmed at both ends (traefik/traefik pkg/provider/configuration.go, `Normalize`; case kept).
pub fn normalize(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// `.Name`, `.Labels.x`: the path after the dot (empty for `.` itself).
    Field(String),
    Ident(String),
    Str(String),
    Open,
    Close,
    Pipe,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Field(p) => write!(f, ".{p}"),
            Token::Ident(i) => f.write_str(i),
            Token::Str(s) => write!(f, "{s:?}"),
            Token::Open => f.write_str("("),
            Token::Close => f.write_str(")"),
            Token::Pipe => f.write_str("|"),
        }
    }
}

fn tokenize(body: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '|' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Pipe,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a string is not closed by `\"`".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(other) => s.push(other),
                            None => return Err("a string ends with `\\`".into()),
                        },
                        Some(other) => s.push(other),
                    }
                }
                tokens.push(Token::Str(s));
            }
            '`' => {
                chars.next();
                let s: String = chars.by_ref().take_while(|c| *c != '`').collect();
                tokens.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '.' {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word.is_empty() {
                    return Err(format!("unexpected `{c}`"));
                }
                tokens.push(match word.strip_prefix('.') {
                    Some(path) => Token::Field(path.to_string()),
                    None => Token::Ident(word),
                });
            }
        }
    }
    Ok(tokens)
}

/// A value inside the template: text, or the labels map (only `index` reads into it).
enum Value {
    Text(String),
    Labels,
}

impl Value {
    fn into_text(self) -> Result<String, String> {
        match self {
            Value::Text(t) => Ok(t),
            Value::Labels => {
                Err("`.Labels` is a map: read one label with `index .Labels \"key\"`".into())
            }
        }
    }
}

struct Parser<'t, 'm> {
    tokens: &'t [Token],
    at: usize,
    model: &'m Model<'m>,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    /// command (`|` command)*: each result is the last argument of the next command.
    fn pipeline(&mut self) -> Result<Value, String> {
        let mut value = self.command(None)?;
        while self.peek() == Some(&Token::Pipe) {
            self.at += 1;
            value = self.command(Some(value))?;
        }
        Ok(value)
    }

    fn command(&mut self, piped: Option<Value>) -> Result<Value, String> {
        let Some(first) = self.peek().cloned() else {
            return Err("an empty action".into());
        };
        if let Token::Ident(name) = first {
            self.at += 1;
            let mut args = Vec::new();
            while let Some(t) = self.peek() {
                if matches!(t, Token::Pipe | Token::Close) {
                    break;
                }
                args.push(self.operand()?);
            }
            args.extend(piped);
            return self.call(&name, args);
        }
        let value = self.operand()?;
        match (self.peek(), piped) {
            (_, Some(_)) => Err("only a function can follow `|`".into()),
            (Some(t), None) if !matches!(t, Token::Pipe | Token::Close) => {
                Err(format!("`{t}` follows a value that is not a function"))
            }
            _ => Ok(value),
        }
    }

    fn operand(&mut self) -> Result<Value, String> {
        let token = self.peek().cloned();
        self.at += 1;
        match token {
            Some(Token::Str(s)) => Ok(Value::Text(s)),
            Some(Token::Field(path)) => self.field(&path),
            Some(Token::Open) => {
                let value = self.pipeline()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("`(` is not closed by `)`".into());
                }
                self.at += 1;
                Ok(value)
            }
            Some(Token::Ident(name)) => self.call(&name, Vec::new()),
            Some(other) => Err(format!("unexpected `{other}`")),
            None => Err("an action ends too early".into()),
        }
    }

    fn field(&self, path: &str) -> Result<Value, String> {
        let mut parts = path.splitn(2, '.');
        let head = parts.next().unwrap_or_default();
        let value = match head {
            "Name" => Value::Text(self.model.name.to_string()),
            "ContainerName" => Value::Text(self.model.container_name.to_string()),
            "Labels" => Value::Labels,
            other => {
                return Err(format!(
                "unknown field `.{other}`: the model has `.Name`, `.ContainerName` and `.Labels`"
            ))
            }
        };
        match (parts.next(), value) {
            (None, value) => Ok(value),
            (Some(key), Value::Labels) => Ok(Value::Text(self.label(key))),
            (Some(_), Value::Text(_)) => Err(format!("`.{head}` has no fields")),
        }
    }

    /// A missing label reads as "", as Go's `index` does on a map.
    fn label(&self, key: &str) -> String {
        self.model.labels.get(key).cloned().unwrap_or_default()
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, String> {
        if name == "index" {
            let mut args = args.into_iter();
            return match (args.next(), args.next(), args.next()) {
                (Some(Value::Labels), Some(Value::Text(key)), None) => {
                    Ok(Value::Text(self.label(&key)))
                }
                _ => Err("write `index .Labels \"key\"`".into()),
            };
        }
        let args = args
            .into_iter()
            .map(Value::into_text)
            .collect::<Result<Vec<_>, _>>()?;
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` takes {n} argument(s), found {}",
                    args.len()
                ))
            }
        };
        let text = match name {
            "normalize" => arity(1).map(|()| normalize(&args[0]))?,
            "lower" => arity(1).map(|()| args[0].to_lowercase())?,
            "upper" => arity(1).map(|()| args[0].to_uppercase())?,
            "trim" => arity(1).map(|()| args[0].trim().to_string())?,
            "trimPrefix" => arity(2).map(|()| {
                let s = &args[1];
                s.strip_prefix(args[0].as_str()).unwrap_or(s).to_string()
            })?,
            "trimSuffix" => arity(2).map(|()| {
                let s = &args[1];
                s.strip_suffix(args[0].as_str()).unwrap_or(s).to_string()
            })?,
            "replace" => arity(3).map(|()| args[2].replace(args[0].as_str(), &args[1]))?,
            "default" => arity(2).map(|()| {
                if args[1].is_empty() {
                    args[0].clone()
                } else {
                    args[1].clone()
                }
            })?,
            other => {
                return Err(format!(
                    "unsupported template function `{other}` (pylon supports {FUNCTIONS})"
                ))
            }
        };
        Ok(Value::Text(text))
    }
}
