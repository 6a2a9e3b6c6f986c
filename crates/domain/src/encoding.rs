//! Bytes as text, for ids and digests that the key ring, secrets and the
//! surfaces write.

/// Lower-case hex, for key ids and thumbprints.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
