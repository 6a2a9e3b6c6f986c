//! A run owner's PFX, as the caps read it before p12-keystore opens it:
//! any bytes, with a fixed password (the derivations are capped, so no
//! input can make one run take long).
#![no_main]

use libfuzzer_sys::fuzz_target;
use padconnect_domain::connections::pfx_limits;

fuzz_target!(|data: &[u8]| {
    let _ = pfx_limits::check(data, "pfx-export-password");
});
