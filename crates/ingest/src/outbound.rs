//! Outbound HTTPS — the notice connectors, the regulation feeds and 智能问答's
//! summary endpoint — trusts the public web's roots built into the binary
//! (webpki-roots) and, when configured (`outbound_ca_file`), the certificates of a
//! PEM file as well: for sites whose certificates chain to a CA the built-in list
//! lacks (several Chinese government and industry CAs are not in it) or for a
//! TLS-inspecting proxy on an office network.

use std::path::{Path, PathBuf};

/// The extra root certificates of outbound HTTPS (none by default).
#[derive(Clone, Default)]
pub struct OutboundRoots {
    path: Option<PathBuf>,
    certificates: Vec<reqwest::Certificate>,
}

impl OutboundRoots {
    /// The certificates of the PEM file at `path` (one or more `CERTIFICATE`
    /// blocks), or what is wrong with it.
    pub fn from_pem_file(path: &Path) -> Result<OutboundRoots, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&bytes)
            .map_err(|e| format!("{} is not a PEM certificate bundle: {e}", path.display()))?;
        if certificates.is_empty() {
            return Err(format!("{} holds no certificate", path.display()));
        }
        Ok(OutboundRoots {
            path: Some(path.to_path_buf()),
            certificates,
        })
    }

    /// The file the certificates came from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// `builder` trusting these certificates too.
    pub fn apply(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        self.certificates.iter().fold(builder, |builder, c| {
            builder.add_root_certificate(c.clone())
        })
    }
}

/// Two settings are the same when they name the same file.
impl PartialEq for OutboundRoots {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for OutboundRoots {}

impl std::fmt::Debug for OutboundRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundRoots")
            .field("path", &self.path)
            .field("certificates", &self.certificates.len())
            .finish()
    }
}
