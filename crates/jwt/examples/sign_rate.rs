//! How many RS256 access tokens this crate signs per second with nothing
//! else running: the platform's signer alone, no HTTP, no grant. The token
//! benchmark (`bench/tokens.sh`) runs it beside `openssl speed` so that the
//! token endpoint's rate can be read against the crypto it actually uses.
//!
//! ```sh
//! cargo run --release -p padconnect-jwt --example sign_rate -- [THREADS] [SECONDS]
//! ```
//!
//! Prints one line: `sign_rate threads=2 seconds=5.00 signatures=… per_second=…`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use padconnect_jwt::{Algorithm, Header, RsaSigningKey, sign};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let threads: usize = match args.next() {
        Some(n) => n.parse()?,
        None => std::thread::available_parallelism()?.get(),
    };
    let seconds: f64 = args.next().map_or(Ok(5.0), |s| s.parse())?;

    let generated = KeyPair::generate(KeySize::Rsa2048)?;
    let key = RsaSigningKey::from_pkcs8_der(AsDer::as_der(&generated)?.as_ref())?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("sign-rate".into());
    // The size and shape of a client-credentials access token's claims.
    let claims = json!({
        "aud": "https://api.powerplatform.com",
        "iss": "https://sts.windows.net/8a235459-3d2c-415d-8c1e-e2fe133509ad/",
        "iat": 1_700_000_000, "nbf": 1_700_000_000, "exp": 1_700_003_599,
        "appid": "5f0e9a1c-6b7d-4c1e-9f3a-2b8c7d6e5f40", "appidacr": "1",
        "idp": "https://sts.windows.net/8a235459-3d2c-415d-8c1e-e2fe133509ad/",
        "idtyp": "app", "oid": "0b7a4f2e-6c1d-4e8f-9a3b-5d2c1e0f4a6b",
        "sub": "0b7a4f2e-6c1d-4e8f-9a3b-5d2c1e0f4a6b",
        "tid": "8a235459-3d2c-415d-8c1e-e2fe133509ad",
        "uti": "q3v0b1pGlU2-ek8x0b1pGl", "ver": "1.0",
    });

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let signed = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<u64, padconnect_jwt::Error> {
                    let mut count = 0;
                    while !stop.load(Ordering::Relaxed) {
                        sign(&header, &claims, &key)?;
                        count += 1;
                    }
                    Ok(count)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|worker| match worker.join() {
                Ok(count) => count.map_err(|e| e.to_string()),
                Err(_) => Err("a signing thread panicked".to_owned()),
            })
            .sum::<Result<u64, String>>()
    })?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "sign_rate threads={threads} seconds={elapsed:.2} signatures={signed} per_second={:.1}",
        signed as f64 / elapsed
    );
    Ok(())
}
