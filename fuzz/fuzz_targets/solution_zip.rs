//! Solution zips as the platform's import reads them (StageSolution,
//! ImportSolutionAsync: the archive, `solution.xml`, `customizations.xml`,
//! flow definitions and environment variables) and as `padconnect settings`
//! reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = padconnect_solution::Package::from_zip(data);
    let _ = padconnect_client::solution::read_zip(data);
});
