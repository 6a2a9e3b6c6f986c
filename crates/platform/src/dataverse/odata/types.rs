//! The Edm types of `$filter`'s operands, and which of them compare.
//!
//! Dataverse parses `$filter` with Microsoft.OData.Core (OData/odata.net),
//! which types every literal as it reads it and refuses a comparison whose
//! two sides share no type they both convert to. The rules here are that
//! library's, as its source states them:
//!
//! - the literal's type (`ExpressionLexer.ParseFromDigit`): a whole number
//!   is Edm.Int32 when it fits, else Edm.Int64; a fraction is Edm.Single
//!   unless a float would lose precision (then Edm.Double, then
//!   Edm.Decimal); the suffixes `L`, `F`, `D`, `M` name Int64, Single,
//!   Double, Decimal; `2024-01-01` is an Edm.Date, `2024-01-01T00:00:00Z`
//!   an Edm.DateTimeOffset, a bare GUID an Edm.Guid, `'...'` an Edm.String;
//! - the comparisons (`TypePromotionUtils`: one signature `(T, T)` per
//!   type for eq, ne, gt, ge, lt, le) and the implicit conversions
//!   (`MetadataUtilsCommon.CanConvertPrimitiveTypeTo`): Int32 to Int64,
//!   Single, Double, Decimal; Int64 to Single, Double, Decimal; Single to
//!   Double; Single and Double to Decimal only when they are a literal;
//!   Date to DateTimeOffset; String, Guid, Boolean and DateTimeOffset to
//!   nothing but themselves; `null` to anything.
//!
//! Dataverse answers a refused comparison with 400, code 0x80060888, and
//! the library's sentence ("A binary operator with incompatible types was
//! detected. Found operand types 'Edm.Boolean' and 'Edm.Int32' for
//! operator kind 'Equal'.", microsoft/Power-CAT-Copilot-Studio-Kit#584; a
//! quoted GUID against a lookup, microsoft/coe-starter-kit#392).

/// A primitive type of the Entity Data Model, as far as the served
/// columns and `$filter`'s literals use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edm {
    Boolean,
    Guid,
    String,
    Int32,
    Int64,
    Single,
    Double,
    Decimal,
    Date,
    DateTimeOffset,
}

/// The types a comparison may be made in: `TypePromotionUtils`'s
/// relational signatures, for the types above.
const COMPARED_AS: [Edm; 10] = [
    Edm::Int32,
    Edm::Int64,
    Edm::Single,
    Edm::Double,
    Edm::Decimal,
    Edm::String,
    Edm::Boolean,
    Edm::Guid,
    Edm::Date,
    Edm::DateTimeOffset,
];

impl Edm {
    /// The name the OData library's messages give the type.
    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "Edm.Boolean",
            Self::Guid => "Edm.Guid",
            Self::String => "Edm.String",
            Self::Int32 => "Edm.Int32",
            Self::Int64 => "Edm.Int64",
            Self::Single => "Edm.Single",
            Self::Double => "Edm.Double",
            Self::Decimal => "Edm.Decimal",
            Self::Date => "Edm.Date",
            Self::DateTimeOffset => "Edm.DateTimeOffset",
        }
    }

    /// Whether a value of this type converts implicitly to `target`;
    /// `literal`: the value is written in the query, not read from a row.
    fn converts_to(self, target: Self, literal: bool) -> bool {
        use Edm::*;
        self == target
            || match (self, target) {
                (Int32, Int64 | Single | Double | Decimal) => true,
                (Int64, Single | Double | Decimal) => true,
                (Single, Double) => true,
                (Single | Double, Decimal) => literal,
                (Date, DateTimeOffset) => true,
                _ => false,
            }
    }
}

/// Whether a column of type `column` compares with a literal of type
/// `literal` (the literal `null`, which has no type, compares with any).
pub fn comparable(column: Edm, literal: Edm) -> bool {
    COMPARED_AS
        .iter()
        .any(|&t| column.converts_to(t, false) && literal.converts_to(t, true))
}

/// The type a number literal is read as (`None`: it is not a number) and
/// its value: its suffix's type, else the first that keeps it whole, as
/// `MakeBestGuessOnNoSuffixStr` guesses: Int32, Int64, then Decimal when a
/// double would change its digits (a decimal is written without an
/// exponent and is below 2^96), Double when a float would, else Single.
pub fn number_type(text: &str) -> Option<(Edm, f64)> {
    let (digits, suffix) = match text.char_indices().last() {
        Some((at, c)) if "LlFfDdMm".contains(c) => (&text[..at], Some(c.to_ascii_uppercase())),
        _ => (text, None),
    };
    if !spelled_as_a_number(digits) {
        return None;
    }
    let value: f64 = digits.parse().ok().filter(|v: &f64| v.is_finite())?;
    let whole = !digits.contains(['.', 'e', 'E']);
    let decimal = !digits.contains(['e', 'E']) && value.abs() < DECIMAL_LIMIT;
    let edm = match suffix {
        Some('L') if whole && digits.parse::<i64>().is_ok() => Edm::Int64,
        Some('L') => return None,
        Some('F') => Edm::Single,
        Some('D') => Edm::Double,
        Some('M') if decimal => Edm::Decimal,
        Some(_) => return None,
        None if whole && digits.parse::<i32>().is_ok() => Edm::Int32,
        None if whole && digits.parse::<i64>().is_ok() => Edm::Int64,
        None if decimal && decimal_digits(digits) != decimal_digits(&value.to_string()) => {
            Edm::Decimal
        }
        None if digits
            .parse::<f32>()
            .ok()
            .map(|f| f.to_string().parse::<f64>().ok())
            != Some(Some(value)) =>
        {
            Edm::Double
        }
        None => Edm::Single,
    };
    Some((edm, value))
}

/// .NET's `decimal` holds magnitudes below 2^96.
const DECIMAL_LIMIT: f64 = 79_228_162_514_264_337_593_543_950_335.0;

/// `-?digits(.digits)?([eE][+-]?digits)?`, as the OData lexer reads a
/// number: a digit first (after a sign), and after a point.
fn spelled_as_a_number(text: &str) -> bool {
    fn digits(text: &str) -> bool {
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    digits(whole) && fraction.is_none_or(digits) && exponent.is_none_or(digits)
}

/// A decimal number without an exponent: its sign, significant digits and
/// where its point is, so that two spellings of one value compare equal.
fn decimal_digits(text: &str) -> (bool, String, usize) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole = whole.trim_start_matches('0');
    let all = format!("{whole}{fraction}");
    let significant = all.trim_end_matches('0');
    match significant.trim_start_matches('0') {
        "" => (false, String::new(), 0),
        _ => (negative, significant.to_owned(), whole.len()),
    }
}

/// The library's name of a comparison operator, for its messages.
pub fn operator_kind(op: super::Op) -> &'static str {
    match op {
        super::Op::Eq => "Equal",
        super::Op::Ne => "NotEqual",
        super::Op::Gt => "GreaterThan",
        super::Op::Ge => "GreaterThanOrEqual",
        super::Op::Lt => "LessThan",
        super::Op::Le => "LessThanOrEqual",
    }
}

#[cfg(test)]
mod tests {
    use super::Edm::*;
    use super::*;

    #[test]
    fn comparisons_follow_the_odata_librarys_conversions() {
        // (column, literal, compares): each from TypePromotionUtils and
        // CanConvertPrimitiveTypeTo, or a test of the library's.
        let cases = [
            (Int32, Int32, true),
            (Int64, Int32, true),
            (Decimal, Int32, true),
            (Double, Int32, true),
            (Int32, Int64, true),
            (Int32, Single, true),
            (Decimal, Single, true),
            (Decimal, Double, true),
            // "Edm.Double" and "Edm.Decimal": a column does not become a Decimal.
            (Double, Decimal, false),
            (Single, Decimal, false),
            (DateTimeOffset, Date, true),
            (DateTimeOffset, DateTimeOffset, true),
            (Int32, String, false),
            (String, Int32, false),
            (Guid, String, false),
            (String, Guid, false),
            (Boolean, Int32, false),
            (DateTimeOffset, String, false),
            (Boolean, Boolean, true),
            (Guid, Guid, true),
            (String, String, true),
        ];
        for (column, literal, expected) in cases {
            assert_eq!(
                comparable(column, literal),
                expected,
                "{} against a literal {}",
                column.name(),
                literal.name()
            );
        }
    }

    #[test]
    fn number_literals_take_the_librarys_types() {
        for (text, expected) in [
            ("0", Int32),
            ("-2147483648", Int32),
            ("2147483648", Int64),
            ("545940001", Int32),
            ("5L", Int64),
            ("1.5", Single),
            ("0.1", Single),
            ("3.14159265358979", Double),
            ("3258.678765765489753678965390", Decimal),
            ("99999999999999999999", Decimal),
            ("1.5M", Decimal),
            ("2D", Double),
            ("2f", Single),
            ("-0", Int32),
            ("007", Int32),
            ("1e5", Single),
            ("1e-400", Single),
            // An exponent beyond any i64 once overflowed while typing it.
            ("0.01e-9223372036854775808", Single),
            ("123456789012345678901234567890", Double),
        ] {
            assert_eq!(number_type(text).map(|(t, _)| t), Some(expected), "{text}");
        }
        assert_eq!(decimal_digits("0012.3400"), decimal_digits("12.34"));
        assert_ne!(decimal_digits("0.1"), decimal_digits("0.01"));
        assert_eq!(decimal_digits("-0.0"), decimal_digits("0"));
        for not_a_number in [
            "",
            "L",
            "1.5L",
            "abc",
            "1-2",
            "inf",
            "-inf",
            "NaN",
            "infinity",
            "1e400",
            ".5",
            "5.",
            "+5",
            "1e",
            "1e+",
            "--1",
            "99999999999999999999L",
            "1x",
        ] {
            assert_eq!(number_type(not_a_number), None, "{not_a_number}");
        }
    }
}
