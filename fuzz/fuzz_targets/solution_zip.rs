//! Solution zips as `padconnect settings` reads them: the archive, then the
//! XML of its connection references and environment variables.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = padconnect_client::solution::read_zip(data);
});
