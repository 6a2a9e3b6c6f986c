//! The portal's icons: small inline SVGs drawn for this project (no icon
//! font, no image request, nothing the CSP has to allow). Each is
//! decoration beside a visible label, so it is hidden from assistive
//! technology (`aria-hidden`) and never takes focus.

use maud::{Markup, PreEscaped, html};

/// An icon of the left navigation or of a command bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    Home,
    Flows,
    Solutions,
    Machines,
    Runs,
    Tables,
    Connections,
    Environments,
    Add,
    Share,
    Key,
    Error,
}

impl Icon {
    /// The shapes, on a 20 × 20 grid, stroked in the text colour.
    fn shapes(self) -> &'static str {
        match self {
            Self::Home => "<path d=\"M3 9.5 10 3l7 6.5M5 8v9h3.5v-5h3v5H15V8\"/>",
            Self::Flows => {
                "<circle cx=\"5\" cy=\"5\" r=\"2\"/><circle cx=\"15\" cy=\"15\" r=\"2\"/>\
                 <path d=\"M7 5h5a3 3 0 0 1 0 6H8a3 3 0 0 0 0 6h5\"/>"
            }
            Self::Solutions => {
                "<path d=\"M3 6.5 10 3l7 3.5v7L10 17l-7-3.5zM3 6.5 10 10l7-3.5M10 10v7\"/>"
            }
            Self::Machines => {
                "<rect x=\"2.5\" y=\"3.5\" width=\"15\" height=\"10\" rx=\"1\"/><path d=\"M7 17h6M10 13.5V17\"/>"
            }
            Self::Runs => "<circle cx=\"10\" cy=\"10\" r=\"7\"/><path d=\"M8.5 7v6l4.5-3z\"/>",
            Self::Tables => {
                "<rect x=\"3\" y=\"3.5\" width=\"14\" height=\"13\" rx=\"1\"/><path d=\"M3 8h14M3 12.5h14M8 8v8.5\"/>"
            }
            Self::Connections => {
                "<path d=\"M8 12l4-4M9 5.5l1.5-1.5a3.5 3.5 0 0 1 5 5L14 10.5M11 14.5 9.5 16a3.5 3.5 0 0 1-5-5L6 9.5\"/>"
            }
            Self::Environments => {
                "<circle cx=\"10\" cy=\"10\" r=\"7\"/><path d=\"M3 10h14M10 3c2 2 3 4.5 3 7s-1 5-3 7c-2-2-3-4.5-3-7s1-5 3-7z\"/>"
            }
            Self::Add => "<path d=\"M10 4v12M4 10h12\"/>",
            Self::Share => {
                "<circle cx=\"6\" cy=\"10\" r=\"2\"/><circle cx=\"14\" cy=\"5\" r=\"2\"/><circle cx=\"14\" cy=\"15\" r=\"2\"/>\
                 <path d=\"M7.8 9.1l4.4-3.2M7.8 10.9l4.4 3.2\"/>"
            }
            Self::Key => {
                "<circle cx=\"7\" cy=\"13\" r=\"3.5\"/><path d=\"M9.5 10.5 16 4M13.5 6.5l2 2\"/>"
            }
            Self::Error => {
                "<circle cx=\"10\" cy=\"10\" r=\"7\"/><path d=\"M10 6.5v4.5M10 13.5v.01\"/>"
            }
        }
    }

    /// The icon as inline SVG markup.
    pub fn svg(self) -> Markup {
        html! {
            svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 20 20" width="20" height="20"
                fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round" {
                // The shapes are this file's constants, never data.
                (PreEscaped(self.shapes()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icons_are_hidden_from_assistive_technology() {
        let svg = Icon::Home.svg().into_string();
        assert!(svg.contains("aria-hidden=\"true\" focusable=\"false\""));
        assert!(!svg.contains("style"), "the CSP allows no inline style");
    }
}
