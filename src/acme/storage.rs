//! The `acme.json` file in Traefik's layout: read once (refusing loose permissions or a corrupt
//! file), written atomically (temp file + rename) with mode 0600.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The whole file: one entry per resolver name.
pub type StoreFile = BTreeMap<String, ResolverData>;

/// `<resolver>`: its ACME account and its certificates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResolverData {
    #[serde(rename = "Account", default, skip_serializing_if = "Option::is_none")]
    pub account: Option<StoredAccount>,
    #[serde(rename = "Certificates", default, deserialize_with = "null_as_empty")]
    pub certificates: Vec<StoredCertificate>,
}

/// `<resolver>.Account`, as lego's registration resource.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredAccount {
    #[serde(rename = "Email", default)]
    pub email: String,
    #[serde(rename = "Registration", default)]
    pub registration: Option<Registration>,
    /// Base64 of the DER key: PKCS#8 P-256 from pylon, PKCS#1 RSA from Traefik.
    #[serde(rename = "PrivateKey", default)]
    pub private_key: String,
    #[serde(rename = "KeyType", default)]
    pub key_type: String,
    /// The directory the account belongs to (pylon's addition; Traefik ignores it).
    #[serde(rename = "CaServer", default, skip_serializing_if = "String::is_empty")]
    pub ca_server: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Registration {
    #[serde(default)]
    pub body: serde_json::Value,
    #[serde(default)]
    pub uri: String,
}

/// One of `<resolver>.Certificates`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredCertificate {
    pub domain: StoredDomain,
    /// Base64 of the PEM chain (leaf first).
    pub certificate: String,
    /// Base64 of the PEM private key.
    pub key: String,
    #[serde(rename = "Store", default)]
    pub store: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredDomain {
    #[serde(default)]
    pub main: String,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub sans: Vec<String>,
}

impl StoredDomain {
    /// `main` then the SANs.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(self.main.clone())
            .chain(self.sans.iter().cloned())
            .filter(|n| !n.is_empty())
            .collect()
    }
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Why the storage cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(
        "ACME storage `{path}` is readable by others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    Permissions { path: String, mode: u32 },
    #[error("ACME storage `{path}` is corrupt ({reason}); pylon leaves it untouched: fix or move it away")]
    Corrupt { path: String, reason: String },
    #[error("cannot read ACME storage `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write ACME storage `{path}`: {reason}")]
    Write { path: String, reason: String },
}

/// An acme.json on disk and what it holds.
#[derive(Debug)]
pub struct Storage {
    path: PathBuf,
    pub data: StoreFile,
}

impl Storage {
    /// Reads `path` (a missing or empty file is an empty store).
    pub fn open(path: &Path) -> Result<Storage, StorageError> {
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Storage {
                    path: path.to_path_buf(),
                    data: StoreFile::new(),
                })
            }
            Err(e) => {
                return Err(StorageError::Read {
                    path: shown,
                    reason: e.to_string(),
                })
            }
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StorageError::Permissions { path: shown, mode });
        }
        let text = std::fs::read(path).map_err(|e| StorageError::Read {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let data = if text.iter().all(u8::is_ascii_whitespace) {
            StoreFile::new()
        } else {
            serde_json::from_slice(&text).map_err(|e| StorageError::Corrupt {
                path: shown,
                reason: e.to_string(),
            })?
        };
        Ok(Storage {
            path: path.to_path_buf(),
            data,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn resolver(&mut self, name: &str) -> &mut ResolverData {
        self.data.entry(name.to_string()).or_default()
    }

    /// Writes the whole file: a 0600 temp file beside it, synced, then renamed over it.
    pub fn save(&self) -> Result<(), StorageError> {
        let err = |e: std::io::Error| StorageError::Write {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        };
        let json = serde_json::to_vec_pretty(&self.data).map_err(|e| StorageError::Write {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        })?;
        let mut tmp_name = self.path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = self.path.with_file_name(tmp_name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err)?;
        file.write_all(&json)
            .and_then(|_| file.sync_all())
            .map_err(err)?;
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            err(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAEFIK: &str = r#"{
  "le": {
    "Account": {
      "Email": "ops@example.com",
      "Registration": {"body": {"status": "valid", "contact": ["mailto:ops@example.com"]},
                       "uri": "https://acme.example/acct/1"},
      "PrivateKey": "MIIB",
      "KeyType": "4096"
    },
    "Certificates": [
      {"domain": {"main": "a.test", "sans": ["b.test"]}, "certificate": "Y2VydA==",
       "key": "a2V5", "Store": "default"}
    ]
  },
  "other": {"Account": null, "Certificates": null}
}"#;

    fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let p = dir.join("acme.json");
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn reads_traefik_layout() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(&write(dir.path(), TRAEFIK, 0o600)).unwrap();
        let le = &s.data["le"];
        assert_eq!(le.account.as_ref().unwrap().email, "ops@example.com");
        assert_eq!(le.certificates[0].domain.names(), ["a.test", "b.test"]);
        assert!(s.data["other"].certificates.is_empty());
    }

    #[test]
    fn refuses_group_or_world_readable() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), TRAEFIK, 0o644);
        let e = Storage::open(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("0644"), "{e}");
    }

    #[test]
    fn corrupt_file_is_named_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "{ not json", 0o600);
        let e = Storage::open(&p).unwrap_err().to_string();
        assert!(
            e.contains(&p.display().to_string()) && e.contains("corrupt"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{ not json");
    }

    #[test]
    fn saves_atomically_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("acme.json");
        let mut s = Storage::open(&p).unwrap();
        s.resolver("le").certificates.push(StoredCertificate {
            domain: StoredDomain {
                main: "a.test".into(),
                sans: vec![],
            },
            certificate: "Yw==".into(),
            key: "aw==".into(),
            store: "default".into(),
        });
        s.save().unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = Storage::open(&p).unwrap();
        assert_eq!(again.data["le"].certificates, s.data["le"].certificates);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }
}
