//! What was tested with what: the firmware build (an id the pipeline gives, and the sha256 of
//! its image when the image is at hand), the seedrig version and the fixtures' git revision.
//! Every report of a run carries it: the summary, JUnit properties and the HTML pages.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The identity of one run's inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The firmware build as the pipeline names it (a tag, a build number).
    pub firmware_id: Option<String>,
    /// The firmware image and the lowercase hex sha256 of its bytes.
    pub firmware_image: Option<(PathBuf, String)>,
    pub seedrig_version: String,
    /// `git rev-parse HEAD` of the fixtures folder, `-dirty` appended when it has changes;
    /// or why there is none (`not in git`, `git not found`).
    pub fixtures_revision: String,
}

impl Identity {
    /// Gathers the identity of a run on `fixtures`. An image that cannot be read is an error
    /// naming it.
    pub fn gather(
        firmware_id: Option<&str>,
        image: Option<&Path>,
        fixtures: &Path,
    ) -> Result<Identity, String> {
        let firmware_image = match image {
            Some(path) => Some((path.to_owned(), sha256_of(path)?)),
            None => None,
        };
        Ok(Identity {
            firmware_id: firmware_id.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
            firmware_image,
            seedrig_version: env!("CARGO_PKG_VERSION").to_owned(),
            fixtures_revision: git_revision(fixtures),
        })
    }

    /// Name and value pairs, in the order the reports show them. The names are the JUnit
    /// properties': `firmware.id`, `firmware.image`, `firmware.sha256`, `seedrig.version`,
    /// `fixtures.revision`; the firmware's only when given.
    pub fn properties(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(id) = &self.firmware_id {
            p.push(("firmware.id", id.clone()));
        }
        if let Some((path, sha)) = &self.firmware_image {
            p.push(("firmware.image", path.display().to_string()));
            p.push(("firmware.sha256", sha.clone()));
        }
        p.push(("seedrig.version", self.seedrig_version.clone()));
        p.push(("fixtures.revision", self.fixtures_revision.clone()));
        p
    }

    /// One line for people: `firmware v1.2.3 (image fw.bin, sha256 ab12…), seedrig 0.1.0,
    /// fixtures 1a2b3c…`.
    pub fn line(&self) -> String {
        let firmware = match (&self.firmware_id, &self.firmware_image) {
            (Some(id), Some((path, sha))) => format!("firmware {id} ({}, sha256 {sha})", path.display()),
            (Some(id), None) => format!("firmware {id}"),
            (None, Some((path, sha))) => format!("firmware {} (sha256 {sha})", path.display()),
            (None, None) => "firmware not named (--firmware-id, --firmware-image)".to_owned(),
        };
        format!("{firmware}; seedrig {}; fixtures {}", self.seedrig_version, self.fixtures_revision)
    }
}

/// The lowercase hex sha256 of a file's bytes, read in pieces (images may be large).
pub fn sha256_of(path: &Path) -> Result<String, String> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| format!("--firmware-image {}: cannot read it: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| format!("--firmware-image {}: cannot read it: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(crate::encoding::hex::encode_lower(&hasher.finalize()))
}

/// The git revision of the checkout holding `dir`, `-dirty` when files under `dir` changed.
fn git_revision(dir: &Path) -> String {
    let git = |args: &[&str]| std::process::Command::new("git").arg("-C").arg(dir).args(args).output();
    let head = match git(&["rev-parse", "HEAD"]) {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(_) => return "not in git".to_owned(),
        Err(_) => return "unknown (git not found)".to_owned(),
    };
    let dirty = git(&["status", "--porcelain", "--", "."])
        .map(|out| out.status.success() && !out.stdout.is_empty())
        .unwrap_or(false);
    if dirty { format!("{head}-dirty") } else { head }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_digest_is_sha256_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("fw.bin");
        std::fs::write(&image, b"abc").unwrap();
        // The FIPS 180-2 test vector for "abc".
        assert_eq!(
            sha256_of(&image).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let err = sha256_of(&dir.path().join("missing.bin")).unwrap_err();
        assert!(err.starts_with("--firmware-image ") && err.contains("missing.bin"), "{err}");
    }

    #[test]
    fn a_folder_outside_git_says_so_and_the_properties_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let id = Identity::gather(Some(" v1.2.3 "), None, dir.path()).unwrap();
        assert_eq!(id.firmware_id.as_deref(), Some("v1.2.3"));
        assert!(["not in git", "unknown (git not found)"].contains(&id.fixtures_revision.as_str()));
        let names: Vec<&str> = id.properties().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["firmware.id", "seedrig.version", "fixtures.revision"]);
        assert!(id.line().starts_with("firmware v1.2.3; seedrig "), "{}", id.line());
    }
}
