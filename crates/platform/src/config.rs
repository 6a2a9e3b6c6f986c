//! The platform's configuration: defaults, then an optional TOML file, then
//! `PADCONNECT_*` environment variables, then command-line flags, each
//! overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Serialized};
use figment::value::{Dict, Map};
use figment::{Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

use padconnect_store::SyncMode;

/// 7232 spells PADC on a phone keypad; no common service listens there.
pub const DEFAULT_PORT: u16 = 7232;
pub const DEFAULT_DATA_DIR: &str = "padconnect-data";
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// The default for `--signing-key-lifetime`: 30 days.
pub const DEFAULT_SIGNING_KEY_LIFETIME_SECS: u64 = 30 * 24 * 3_600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the SQLite database, the master key file and TLS material live.
    pub data_dir: PathBuf,
    /// `postgres://...` for a shared database; the data dir's SQLite file if unset.
    pub database: Option<String>,
    /// World file loaded at start.
    pub world: Option<PathBuf>,
    /// When SQLite commits reach the disk.
    pub sync: SyncMode,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    pub log_format: LogFormat,
    /// Serve HTTPS with a certificate from the data dir's local CA.
    pub tls: bool,
    /// How long a token signing key signs before the next one takes over:
    /// seconds, or a number with s, m, h or d.
    #[serde(with = "duration_secs")]
    pub signing_key_lifetime: u64,
    /// How long a client may stay silent (a request's headers, a kept-alive
    /// connection's next request, a tunnel's TLS handshake) before its
    /// connection is closed.
    #[serde(with = "duration_secs")]
    pub idle_timeout: u64,
    /// The most one request may take, its body's upload included: a client
    /// that sends a body slowly (or never finishes it) gets a 408.
    #[serde(with = "duration_secs")]
    pub request_timeout: u64,
    /// The URL clients use when it is a name other than an IP address,
    /// `localhost` or the cloud's own (a reverse proxy's, a container's):
    /// only such a name is served besides those, so a DNS-rebinding page
    /// gets nothing.
    #[serde(with = "public_url")]
    pub public_url: Option<String>,
}

/// Far above any request of the workflow (tokens, connection writes and
/// reads answer in milliseconds), short enough that a trickled body cannot
/// hold a worker for long.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// Long enough for a client between two calls of one job (MSAL and the
/// Azure CLI keep connections open), short enough that silent sockets do
/// not pile up.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database: None,
            world: None,
            sync: SyncMode::Normal,
            body_limit: DEFAULT_BODY_LIMIT,
            log_format: LogFormat::Text,
            tls: false,
            signing_key_lifetime: DEFAULT_SIGNING_KEY_LIFETIME_SECS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT_SECS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT_SECS,
            public_url: None,
        }
    }
}

/// The keys `PADCONNECT_*` variables may set; others (`PADCONNECT_PLATFORM`,
/// `PADCONNECT_MASTER_KEY`, ...) belong to other parts and are not config.
const ENV_KEYS: [&str; 12] = [
    "listen",
    "data_dir",
    "database",
    "world",
    "sync",
    "body_limit",
    "log_format",
    "tls",
    "signing_key_lifetime",
    "idle_timeout",
    "request_timeout",
    "public_url",
];

impl PlatformConfig {
    /// `public_url`'s host name, lower case: what a request's `Host` is
    /// compared with (its port is the proxy's business).
    pub fn public_host(&self) -> Option<String> {
        let url = url::Url::parse(self.public_url.as_deref()?).ok()?;
        Some(url.host_str()?.to_ascii_lowercase())
    }

    /// Merges the layers. `file` is the optional TOML file; `flags` holds
    /// only the values given on the command line.
    pub fn figment(file: Option<&Path>, flags: impl Serialize) -> Figment {
        let mut figment = Figment::from(Serialized::defaults(Self::default()));
        if let Some(file) = file {
            figment = figment.merge(TomlFile(file.to_owned()));
        }
        figment
            .merge(Env::prefixed("PADCONNECT_").only(&ENV_KEYS))
            .merge(Serialized::defaults(flags))
    }

    pub fn load(file: Option<&Path>, flags: impl Serialize) -> Result<Self, Box<figment::Error>> {
        Self::figment(file, flags).extract().map_err(Box::new)
    }

    /// The default of `key` as help shows it, read from `Self::default()`
    /// so that `serve --help` cannot drift from it; `None` where nothing is
    /// set by default (no world, no TLS, no public URL).
    pub fn shown_default(key: &str) -> Option<String> {
        let default = Self::default();
        let duration = |secs| Some(duration_secs::show(secs));
        match key {
            "signing_key_lifetime" => duration(default.signing_key_lifetime),
            "idle_timeout" => duration(default.idle_timeout),
            "request_timeout" => duration(default.request_timeout),
            "data_dir" => Some(format!("./{}", default.data_dir.display())),
            "database" => Some("SQLite in the data dir".to_owned()),
            _ => match serde_json::to_value(&default).ok()?.get(key)? {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Number(number) => Some(number.to_string()),
                _ => None,
            },
        }
    }

    /// The variable that sets `key`.
    pub fn variable_of(key: &str) -> Option<String> {
        ENV_KEYS
            .contains(&key)
            .then(|| format!("PADCONNECT_{}", key.to_ascii_uppercase()))
    }
}

/// The config file, parsed by the `toml` crate the world file uses too:
/// figment's own `Toml` provider would build a second, older TOML parser
/// (toml 0.8 and toml_edit, about 15 s of a clean build's CPU).
struct TomlFile(PathBuf);

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::named("TOML file").source(figment::Source::File(self.0.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let shown = self.0.display();
        let text = std::fs::read_to_string(&self.0)
            .map_err(|e| figment::Error::from(format!("cannot read {shown}: {e}")))?;
        let dict: Dict = toml::from_str(&text)
            .map_err(|e| figment::Error::from(format!("{shown}: {}", e.to_string().trim_end())))?;
        Ok(Profile::Default.collect(dict))
    }
}

pub use duration_secs::parse as parse_duration_secs;

/// An http or https URL with a host, or nothing.
mod public_url {
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match url {
            Some(url) => s.serialize_some(url),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let url = url::Url::parse(&text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        match url {
            Some(_) => Ok(Some(text)),
            None => Err(de::Error::custom(format!(
                "'{text}' is not a public URL: write http(s)://NAME[:PORT], the address clients use (https://padconnect.internal:7232)"
            ))),
        }
    }
}

/// A duration in seconds, written as `3600`, `"3600"`, `"90m"`, `"12h"` or `"30d"`.
mod duration_secs {
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(secs: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*secs)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Secs(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Secs(secs) => Ok(secs),
            Raw::Text(text) => parse(&text).ok_or_else(|| {
                de::Error::custom(format!(
                    "'{text}' is not a duration: write seconds, or a number with s, m, h or d (30d)"
                ))
            }),
        }
    }

    /// `secs` in the largest unit that holds it whole: 30d, 1m, 45s.
    pub fn show(secs: u64) -> String {
        match [(86_400, 'd'), (3_600, 'h'), (60, 'm')]
            .into_iter()
            .find(|(scale, _)| secs > 0 && secs.is_multiple_of(*scale))
        {
            Some((scale, unit)) => format!("{}{unit}", secs / scale),
            None => format!("{secs}s"),
        }
    }

    pub fn parse(text: &str) -> Option<u64> {
        let text = text.trim();
        let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
            Some(at) => text.split_at(at),
            None => (text, "s"),
        };
        let scale = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return None,
        };
        number
            .parse::<u64>()
            .ok()?
            .checked_mul(scale)
            .filter(|secs| *secs > 0)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return its error type.
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "padconnect.toml",
                "listen = \"127.0.0.1:9000\"\nworld = \"file.toml\"\nsync = \"full\"\n",
            )?;
            jail.set_env("PADCONNECT_WORLD", "env.toml");
            jail.set_env("PADCONNECT_PLATFORM", "https://ignored.example");
            let flags = BTreeMap::from([("data_dir", "/tmp/flag")]);
            let config = PlatformConfig::load(Some(Path::new("padconnect.toml")), flags).unwrap();
            assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
            assert_eq!(config.world, Some(PathBuf::from("env.toml")));
            assert_eq!(config.data_dir, PathBuf::from("/tmp/flag"));
            assert_eq!(config.sync, SyncMode::Full);
            assert_eq!(config.body_limit, DEFAULT_BODY_LIMIT);
            jail.set_env("PADCONNECT_SIGNING_KEY_LIFETIME", "12h");
            let config = PlatformConfig::load(None, BTreeMap::<String, String>::new()).unwrap();
            assert_eq!(config.signing_key_lifetime, 12 * 3_600);
            Ok(())
        });
    }

    #[test]
    fn unknown_and_bad_values_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("a.toml", "listne = \"127.0.0.1:9000\"\n")?;
            let no_flags = BTreeMap::<String, String>::new();
            let err = PlatformConfig::load(Some(Path::new("a.toml")), &no_flags)
                .unwrap_err()
                .to_string();
            assert!(err.contains("listne"), "{err}");
            jail.create_file("b.toml", "sync = \"sometimes\"\n")?;
            let err = PlatformConfig::load(Some(Path::new("b.toml")), &no_flags)
                .unwrap_err()
                .to_string();
            assert!(err.contains("sometimes"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn durations_are_shown_in_a_unit_that_parses_back() {
        for (secs, shown) in [(2_592_000, "30d"), (7_200, "2h"), (60, "1m"), (90, "90s")] {
            assert_eq!(duration_secs::show(secs), shown);
            assert_eq!(duration_secs::parse(shown), Some(secs));
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration_secs::parse("3600"), Some(3_600));
        assert_eq!(duration_secs::parse("90m"), Some(5_400));
        assert_eq!(duration_secs::parse("30d"), Some(2_592_000));
        for bad in ["", "0", "10w", "h", "-5s"] {
            assert_eq!(duration_secs::parse(bad), None, "{bad}");
        }
    }
}
