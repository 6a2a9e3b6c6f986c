//! `$filter`: its tokens and a recursive-descent parser into [`Expr`],
//! bounded as Microsoft.OData bounds its own (see the module above).

use serde_json::Value;

use super::{Expr, Op};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Number(f64),
    Open,
    Close,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '\'' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        Some('\'') => break,
                        Some(other) => s.push(other),
                        None => return Err("a string in $filter is not closed with '".into()),
                    }
                }
                tokens.push(Token::Str(s));
            }
            _ => {
                // The first character is none of the above, so a word is never empty.
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if !word.is_empty() && (c.is_whitespace() || "(),'".contains(c)) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                let is_number =
                    word.starts_with(|c: char| c.is_ascii_digit() || c == '-') && word.len() != 36;
                match word.parse::<f64>() {
                    Ok(n) if is_number => tokens.push(Token::Number(n)),
                    _ => tokens.push(Token::Word(word)),
                }
            }
        }
    }
    Ok(tokens)
}

/// Microsoft.OData's default limit on the `$filter` parser's recursive calls.
const FILTER_RECURSION_LIMIT: usize = 800;

pub(super) fn parse_filter(text: &str, columns: &[&str]) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        columns,
        depth: 0,
    };
    let expr = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some(token) => Err(format!("Syntax error in $filter near {token:?}")),
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    columns: &'a [&'a str],
    /// Recursive calls now open, against [`FILTER_RECURSION_LIMIT`].
    depth: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w == word)
    }

    fn expect(&mut self, want: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            other => Err(format!(
                "Syntax error in $filter: expected {want:?}, found {other:?}"
            )),
        }
    }

    /// Runs one recursive step of the parser within the recursion limit.
    fn nested(&mut self, step: fn(&mut Self) -> Result<Expr, String>) -> Result<Expr, String> {
        if self.depth >= FILTER_RECURSION_LIMIT {
            return Err(format!(
                "Recursion depth exceeded allowed limit. $filter may nest at most {FILTER_RECURSION_LIMIT} levels of parentheses, not and operators in all: write the condition flatter"
            ));
        }
        self.depth += 1;
        let expr = step(self);
        self.depth -= 1;
        expr
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.nested(|p| p.chain("or", Self::and, Expr::Or))
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.nested(|p| p.chain("and", Self::unary, Expr::And))
    }

    /// `operand (word operand)*`, kept as one flat node.
    fn chain(
        &mut self,
        word: &str,
        operand: fn(&mut Self) -> Result<Expr, String>,
        node: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, String> {
        let mut operands = vec![operand(self)?];
        while self.peek_word(word) {
            self.at += 1;
            operands.push(operand(self)?);
        }
        Ok(match (operands.pop(), operands.is_empty()) {
            (Some(only), true) => only,
            (Some(last), false) => {
                operands.push(last);
                node(operands)
            }
            (None, _) => node(operands),
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.nested(|p| {
            if p.peek_word("not") {
                p.at += 1;
                return Ok(Expr::Not(Box::new(p.unary()?)));
            }
            p.primary()
        })
    }

    fn column(&self, name: &str) -> Result<String, String> {
        match self.columns.contains(&name) {
            true => Ok(name.to_owned()),
            false => Err(format!("Could not find a property named '{name}'")),
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let expr = self.or()?;
                self.expect(Token::Close)?;
                Ok(expr)
            }
            Some(Token::Word(function))
                if matches!(function.as_str(), "contains" | "startswith") =>
            {
                self.expect(Token::Open)?;
                let column = match self.next() {
                    Some(Token::Word(name)) => self.column(&name)?,
                    other => {
                        return Err(format!("{function} needs a column first, found {other:?}"));
                    }
                };
                self.expect(Token::Comma)?;
                let text = match self.next() {
                    Some(Token::Str(s)) => s,
                    other => {
                        return Err(format!("{function} needs a string second, found {other:?}"));
                    }
                };
                self.expect(Token::Close)?;
                Ok(if function == "contains" {
                    Expr::Contains(column, text)
                } else {
                    Expr::StartsWith(column, text)
                })
            }
            Some(Token::Word(name)) => {
                let column = self.column(&name)?;
                let op = match self.next() {
                    Some(Token::Word(op)) => match op.as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        other => {
                            return Err(format!(
                                "The operator '{other}' is not supported in $filter"
                            ));
                        }
                    },
                    other => {
                        return Err(format!(
                            "Syntax error in $filter: expected an operator after {name}, found {other:?}"
                        ));
                    }
                };
                Ok(Expr::Compare(column, op, self.literal()?))
            }
            other => Err(format!("Syntax error in $filter near {other:?}")),
        }
    }

    fn literal(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Value::String(s)),
            Some(Token::Number(n)) => {
                Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
            }
            Some(Token::Word(w)) => match w.as_str() {
                "null" => Ok(Value::Null),
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                // GUIDs are written bare: applicationid eq 5f0e9a1c-...
                guid if uuid::Uuid::try_parse(guid).is_ok() => {
                    Ok(Value::String(guid.to_ascii_lowercase()))
                }
                other => Err(format!(
                    "'{other}' is not a value in $filter: quote strings ('...')"
                )),
            },
            other => Err(format!(
                "Syntax error in $filter: expected a value, found {other:?}"
            )),
        }
    }
}
