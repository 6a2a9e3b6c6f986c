//! A solution's version: `major.minor.build.revision` (solution table
//! reference: "major.minor.build.revision"); exports also write two or three
//! parts (the Default solution is `1.0`), the missing ones read as 0.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version([u32; 4]);

impl Version {
    pub const fn new(major: u32, minor: u32, build: u32, revision: u32) -> Self {
        Self([major, minor, build, revision])
    }
}

impl FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wrong = || format!("'{text}' is not a version: write major.minor.build.revision");
        let parts: Vec<&str> = text.trim().split('.').collect();
        if !(2..=4).contains(&parts.len()) {
            return Err(wrong());
        }
        let mut numbers = [0u32; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(wrong());
            }
            *slot = part.parse().map_err(|_| wrong())?;
        }
        Ok(Self(numbers))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_part_by_part() {
        let v = |s: &str| s.parse::<Version>().unwrap();
        assert!(v("1.10.0.0") > v("1.9.9.9"));
        assert_eq!(v("1.0"), v("1.0.0.0"));
        assert_eq!(v("1.1.0.0").to_string(), "1.1.0.0");
        for bad in ["", "1", "1.a", "1..2", "1.2.3.4.5", "-1.0", "99999999999.0"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }
}
