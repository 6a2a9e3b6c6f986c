//! Lists inside a query's text: where a quote or a bracket opens and
//! closes, so that a separator inside one is not taken for the list's.

/// `text` split at each `separator` outside quotes and brackets (see
/// [`Scan`]); `None` when a quote or a bracket is not closed. The query
/// functions' arguments and `$expand`'s items are both lists of this kind.
pub fn split_top_level(text: &str, separator: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut scan, mut start) = (Scan::default(), 0);
    for (at, c) in text.char_indices() {
        if scan.read(c) && c == separator && scan.depth == 0 {
            parts.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    scan.closed().then(|| {
        parts.push(&text[start..]);
        parts
    })
}

/// Reads text one character at a time, keeping track of quotes (`'...'`,
/// and `"..."` with `\` escapes) and brackets (`(...)`, `[...]`).
#[derive(Default)]
pub struct Scan {
    depth: usize,
    quote: Option<char>,
    escaped: bool,
    /// A bracket closed that was not open.
    broken: bool,
}

impl Scan {
    /// Reads `c`; `true` when it stands outside quotes and is no bracket
    /// or quote itself.
    pub fn read(&mut self, c: char) -> bool {
        match (self.quote, c) {
            (Some('"'), _) if self.escaped => self.escaped = false,
            (Some('"'), '\\') => self.escaped = true,
            (Some(q), c) if c == q => self.quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => self.quote = Some(c),
            (None, '(' | '[') => self.depth += 1,
            (None, ')' | ']') => match self.depth.checked_sub(1) {
                Some(depth) => self.depth = depth,
                None => self.broken = true,
            },
            (None, _) => return true,
        }
        false
    }

    /// Every quote and bracket read so far is closed.
    pub fn closed(&self) -> bool {
        self.depth == 0 && self.quote.is_none() && !self.broken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        assert_eq!(
            split_top_level(r#"a='x,y',b=["1,2","q\",r"],c(d,e)"#, ','),
            Some(vec!["a='x,y'", r#"b=["1,2","q\",r"]"#, "c(d,e)"])
        );
        for unclosed in ["a(b", "a)b", "'a", r#""a\""#, "[a"] {
            assert_eq!(split_top_level(unclosed, ','), None, "{unclosed}");
        }
    }
}
