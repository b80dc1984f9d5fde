//! The hash algorithms a digest can use, and one incremental hasher over all of them.

use sha2::Digest as _;

/// A digest algorithm. `sha256` and `sha512` are the kernels metadata algorithms; `blake3` is
/// ours (docs/design.md section 3), for our own digests and model signing; `blake2b` (BLAKE2b-512,
/// unkeyed) is there for model signing, whose reference offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
    Blake3,
    Blake2b,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [Algorithm::Sha256, Algorithm::Sha512, Algorithm::Blake3, Algorithm::Blake2b];

    /// Parses the lowercase name used in metadata and on the command line.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            "blake3" => Some(Algorithm::Blake3),
            "blake2b" => Some(Algorithm::Blake2b),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Blake3 => "blake3",
            Algorithm::Blake2b => "blake2b",
        }
    }

    /// Length of the raw digest in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Sha256 | Algorithm::Blake3 => 32,
            Algorithm::Sha512 | Algorithm::Blake2b => 64,
        }
    }

    /// The fastest hasher available: OpenSSL's SHA-2 when the process has it (see
    /// [`crate::openssl`]), else the portable one.
    pub(crate) fn hasher(self) -> Hasher {
        let openssl = match self {
            Algorithm::Sha256 => crate::openssl::Sha2::new(256),
            Algorithm::Sha512 => crate::openssl::Sha2::new(512),
            Algorithm::Blake3 | Algorithm::Blake2b => None,
        };
        openssl.map(Hasher::OpenSsl).unwrap_or_else(|| self.portable_hasher())
    }

    /// The pure-Rust hasher (`sha2`, `blake3`, `blake2b_simd` crates), whatever the process offers.
    pub(crate) fn portable_hasher(self) -> Hasher {
        match self {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Algorithm::Blake3 => Hasher::Blake3(Box::new(blake3::Hasher::new())),
            Algorithm::Blake2b => Hasher::Blake2b(Box::new(blake2b_simd::State::new())),
        }
    }
}

/// Which SHA-2 implementation [`Algorithm::hasher`] uses: `openssl (process)`,
/// `openssl (libcrypto)`, or `sha2 crate`.
pub fn sha2_implementation() -> String {
    match crate::openssl::source() {
        Some(source) => format!("openssl ({source})"),
        None => "sha2 crate".to_string(),
    }
}

/// An incremental hasher for one [`Algorithm`].
pub(crate) enum Hasher {
    OpenSsl(crate::openssl::Sha2),
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
    Blake3(Box<blake3::Hasher>),
    Blake2b(Box<blake2b_simd::State>),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::OpenSsl(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
            Hasher::Blake2b(h) => {
                h.update(data);
            }
        }
    }

    /// Like [`Hasher::update`], but lets BLAKE3 spread a large chunk over the rayon pool
    /// (SHA-2 is sequential by construction, so it gains nothing from this).
    pub fn update_parallel(&mut self, data: &[u8]) {
        match self {
            Hasher::Blake3(h) => {
                h.update_rayon(data);
            }
            other => other.update(data),
        }
    }

    pub fn finalize(self) -> Vec<u8> {
        match self {
            Hasher::OpenSsl(h) => h.finalize(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
            Hasher::Blake3(h) => h.finalize().as_bytes().to_vec(),
            Hasher::Blake2b(h) => h.finalize().as_bytes().to_vec(),
        }
    }
}

/// Hashes a byte slice in one call.
pub fn hash_bytes(algorithm: Algorithm, data: &[u8]) -> Vec<u8> {
    let mut hasher = algorithm.hasher();
    hasher.update(data);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_world_vectors() {
        // docs/design.md section 2 (sha256, sha512) and the BLAKE3 reference implementation.
        assert_eq!(
            hex::encode(hash_bytes(Algorithm::Sha256, b"hello world")),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(
            hex::encode(hash_bytes(Algorithm::Sha512, b"hello world")),
            "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f\
             989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"
        );
        assert_eq!(
            hex::encode(hash_bytes(Algorithm::Blake3, b"hello world")),
            "d74981efa70a0c880b8d8c1985d075dbcbf679b99a5f9914e5aaf96b831a9e24"
        );
        // Python's hashlib.blake2b() with default parameters, as model_signing uses it.
        assert_eq!(
            hex::encode(hash_bytes(Algorithm::Blake2b, b"hello world")),
            "021ced8799296ceca557832ab941a50b4a11f83478cf141f51f933f653ab9fbc\
             c05a037cddbed06e309bf334942c4e58cdf1a46e237911ccd7fcf9787cbc7fd0"
        );
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for algorithm in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(algorithm.name()), Some(algorithm));
            assert_eq!(hash_bytes(algorithm, b"").len(), algorithm.digest_len());
        }
        assert_eq!(Algorithm::from_name("SHA256"), None);
        assert_eq!(Algorithm::from_name("md5"), None);
    }

    #[test]
    fn openssl_and_portable_sha2_agree() {
        // cargo test runs outside Node: OpenSSL comes from the system's libcrypto here.
        assert!(crate::openssl::source().is_some(), "no OpenSSL found: {}", sha2_implementation());
        let data: Vec<u8> = (0..3_000_001u32).map(|i| (i * 7 % 253) as u8).collect();
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            for split in [0, 1, 63, 64, 65, 127, 128, 129, 1 << 20] {
                let mut fast = algorithm.hasher();
                assert!(matches!(fast, Hasher::OpenSsl(_)));
                let mut portable = algorithm.portable_hasher();
                for hasher in [&mut fast, &mut portable] {
                    hasher.update(&data[..split]);
                    hasher.update(&data[split..]);
                }
                assert_eq!(fast.finalize(), portable.finalize(), "{} split at {split}", algorithm.name());
            }
        }
    }

    #[test]
    fn parallel_update_gives_the_same_digest() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
        for algorithm in Algorithm::ALL {
            let mut parallel = algorithm.hasher();
            parallel.update_parallel(&data);
            assert_eq!(parallel.finalize(), hash_bytes(algorithm, &data), "{}", algorithm.name());
        }
    }
}
