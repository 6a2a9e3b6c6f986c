//! `$filter`: its tokens and a recursive-descent parser into [`Expr`],
//! bounded as Microsoft.OData bounds its own (see the module above).

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::types::{Edm, comparable, number_type, operator_kind};
use super::{Expr, Op, query_functions};

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A name, an operator, or a literal written bare (a number, a GUID, a
    /// date, `true`, `null`).
    Word(String),
    Str(String),
    /// A Dataverse query function and the text of its arguments.
    Call(String, String),
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
                if word.starts_with(query_functions::PREFIX) && chars.peek() == Some(&'(') {
                    let arguments = query_functions::arguments(&mut chars)?;
                    tokens.push(Token::Call(word, arguments));
                    continue;
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// Microsoft.OData's default limit on the `$filter` parser's recursive calls.
const FILTER_RECURSION_LIMIT: usize = 800;

/// Parses `text`; `columns` are the names it may use, `type_of` their types.
pub(super) fn parse_filter(
    text: &str,
    columns: &[&str],
    type_of: &dyn Fn(&str) -> Edm,
) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        columns,
        type_of,
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
    type_of: &'a dyn Fn(&str) -> Edm,
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

    /// `( ... )`, a function call, or a comparison. The arms that do not
    /// recurse are functions of their own, so that the frame this
    /// recursion repeats (up to the nesting limit) stays small.
    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let expr = self.or()?;
                self.expect(Token::Close)?;
                Ok(expr)
            }
            Some(Token::Word(word))
                if matches!(word.as_str(), "contains" | "startswith" | "endswith") =>
            {
                self.function(word)
            }
            Some(Token::Word(name)) => self.comparison(&name),
            Some(Token::Call(name, arguments)) => {
                query_functions::condition(&name, &arguments, |c| self.column(c))
            }
            other => Err(format!("Syntax error in $filter near {other:?}")),
        }
    }

    /// `contains`, `startswith` or `endswith(column, 'text')`.
    #[inline(never)]
    fn function(&mut self, function: String) -> Result<Expr, String> {
        self.expect(Token::Open)?;
        let column = match self.next() {
            Some(Token::Word(name)) => self.column(&name)?,
            other => {
                return Err(format!("{function} needs a column first, found {other:?}"));
            }
        };
        // Its one signature takes two strings (BuiltInUriFunctions).
        if (self.type_of)(&column) != Edm::String {
            return Err(format!(
                "No function signature for the function with name '{function}' matches the specified arguments. The function signatures considered are: {function}(Edm.String Nullable=true, Edm.String Nullable=true)."
            ));
        }
        self.expect(Token::Comma)?;
        let text = match self.next() {
            Some(Token::Str(s)) => s,
            other => {
                return Err(format!("{function} needs a string second, found {other:?}"));
            }
        };
        self.expect(Token::Close)?;
        Ok(match function.as_str() {
            "contains" => Expr::Contains(column, text),
            "startswith" => Expr::StartsWith(column, text),
            _ => Expr::EndsWith(column, text),
        })
    }

    /// `column op literal`, its literal of a type the column compares with.
    #[inline(never)]
    fn comparison(&mut self, name: &str) -> Result<Expr, String> {
        let column = self.column(name)?;
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
        let literal = self.literal()?;
        let column_type = (self.type_of)(&column);
        // `null` has no type and compares with any column.
        if let Some(literal_type) = literal.edm()
            && !comparable(column_type, literal_type)
        {
            return Err(format!(
                "A binary operator with incompatible types was detected. Found operand types '{}' and '{}' for operator kind '{}'.",
                column_type.name(),
                literal_type.name(),
                operator_kind(op)
            ));
        }
        Ok(literal.compared(column, op))
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Literal::Value(Edm::String, Value::String(s))),
            Some(Token::Word(w)) => Literal::read(&w),
            other => Err(format!(
                "Syntax error in $filter: expected a value, found {other:?}"
            )),
        }
    }
}

/// A value written in `$filter`, read as the OData library types it.
enum Literal {
    Null,
    Value(Edm, Value),
    /// A date or a date and time, compared as the instant it names (a date:
    /// its midnight, UTC).
    At(Edm, OffsetDateTime),
}

/// The message Microsoft.OData gives a date and time it cannot read
/// (`UriUtils_DateTimeOffsetInvalidFormat`); an offset is required.
fn not_a_date_time(text: &str) -> String {
    format!(
        "The DateTimeOffset text '{text}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range."
    )
}

/// A date and time with its seconds: Microsoft.OData pads `hh:mm` with
/// `:00` before it parses (`PlatformHelper.AddSecondsPaddingIfMissing`).
fn with_seconds(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(at) = text.find(['T', 't']) else {
        return text.into();
    };
    let time = text.as_bytes().get(at + 1..).unwrap_or_default();
    let minutes_only = matches!(time, [h, h2, b':', m, m2, ..]
            if [h, h2, m, m2].iter().all(|b| b.is_ascii_digit()))
        && time.get(5).is_none_or(|b| b"Zz+-".contains(b));
    match minutes_only {
        true => format!("{}:00{}", &text[..at + 6], &text[at + 6..]).into(),
        false => text.into(),
    }
}

impl Literal {
    fn read(word: &str) -> Result<Self, String> {
        match word {
            "null" => return Ok(Self::Null),
            "true" | "false" => return Ok(Self::Value(Edm::Boolean, Value::Bool(word == "true"))),
            _ => {}
        }
        // GUIDs are written bare: applicationid eq 5f0e9a1c-...
        if word.len() == 36
            && let Ok(guid) = uuid::Uuid::try_parse(word)
        {
            return Ok(Self::Value(Edm::Guid, Value::String(guid.to_string())));
        }
        if let Some((edm, n)) = number_type(word)
            && let Some(number) = serde_json::Number::from_f64(n)
        {
            return Ok(Self::Value(edm, Value::Number(number)));
        }
        // A date, or a date and time: digits, then '-' (ExpressionLexer.ParseFromDigit).
        let dated = word.len() >= 10
            && word.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && word.as_bytes()[4] == b'-';
        if dated && word.len() == 10 {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            return time::Date::parse(word, format)
                .map(|date| Self::At(Edm::Date, date.midnight().assume_utc()))
                .map_err(|_| {
                    format!("'{word}' is not a date in $filter: write a date as yyyy-mm-dd")
                });
        }
        if dated && word.contains(['T', 't']) {
            return OffsetDateTime::parse(&with_seconds(word), &Rfc3339)
                .map(|at| Self::At(Edm::DateTimeOffset, at))
                .map_err(|_| not_a_date_time(word));
        }
        Err(format!(
            "'{word}' is not a value in $filter: quote strings ('...')"
        ))
    }

    /// The literal's type; `None` for `null`, which has none.
    fn edm(&self) -> Option<Edm> {
        match self {
            Self::Null => None,
            Self::Value(edm, _) | Self::At(edm, _) => Some(*edm),
        }
    }

    fn compared(self, column: String, op: Op) -> Expr {
        match self {
            Self::Null => Expr::Compare(column, op, Value::Null),
            Self::Value(_, value) => Expr::Compare(column, op, value),
            Self::At(_, at) => Expr::At(column, op, at),
        }
    }
}
