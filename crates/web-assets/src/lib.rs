//! The browser code Rosetta serves, embedded in the binary: the API documentation pages'
//! Swagger UI, ReDoc and RapiDoc, and the dashboard's htmx and uPlot, each the npm package
//! `package-lock.json` pins (installed by `build.rs` with `npm ci`; nothing is fetched at run
//! time and nothing copied into the repository), and the dashboard's own stylesheet and script
//! (`static/`). Each file's path names its package and version (for Rosetta's own, a hash of
//! the file), so it can be cached forever.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Where it is served: `/assets/<package>-<version>/<file>`.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its contents.
    pub bytes: &'static [u8],
}

/// Every embedded file.
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The file served at `path`.
pub fn get(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

/// The path of the embedded file of `package` whose name is `file`.
///
/// # Panics
///
/// When no such file is embedded: the list is fixed at build time, so this is a bug.
pub fn path_of(package: &str, file: &str) -> &'static str {
    ASSETS
        .iter()
        .find(|asset| {
            asset.path.ends_with(&format!("/{file}"))
                && asset.path.starts_with(&format!("/assets/{package}-"))
        })
        .map(|asset| asset.path)
        .unwrap_or_else(|| panic!("{package}/{file} is not embedded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_is_embedded_under_its_pinned_version() {
        assert_eq!(ASSETS.len(), 9);
        let bundle = path_of("swagger-ui-dist", "swagger-ui-bundle.js");
        assert_eq!(
            bundle,
            "/assets/swagger-ui-dist-5.35.0/swagger-ui-bundle.js"
        );
        let asset = get(bundle).unwrap();
        assert!(asset.bytes.len() > 1_000_000, "{}", asset.bytes.len());
        assert!(asset.content_type.starts_with("text/javascript"));
        assert!(get("/assets/redoc-2.5.4/redoc.standalone.js").is_some());
        assert!(get("/assets/rapidoc-9.3.8/rapidoc-min.js").is_some());
        assert!(get("/assets/htmx.org-2.0.11/htmx.min.js").is_some());
        assert!(get("/assets/uplot-1.6.32/uPlot.iife.min.js").is_some());
        assert!(get("/assets/nothing").is_none());
    }

    #[test]
    fn our_own_files_are_served_under_a_hash_of_their_contents() {
        let script = path_of("rosetta", "dashboard.js");
        let hash = script
            .strip_prefix("/assets/rosetta-")
            .and_then(|rest| rest.strip_suffix("/dashboard.js"))
            .unwrap();
        assert_eq!(hash.len(), 16);
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
        let css = get(path_of("rosetta", "dashboard.css")).unwrap();
        assert!(css.content_type.starts_with("text/css"));
        assert_ne!(path_of("rosetta", "dashboard.css"), script);
    }
}
