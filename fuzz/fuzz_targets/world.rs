//! The world file: TOML, then every check of the loader's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use padconnect_domain::world::World;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = World::parse(text, std::path::Path::new("/nonexistent"), "fuzz.toml");
    }
});
