//! `Content-Type` by file extension.
//!
//! A compact table of the types a web server serves, rather than the
//! `mime_guess` crate: its thousand-odd entries mostly name desktop formats
//! that gain nothing from a precise type, it would add two dependencies
//! and a build script, and its answers for the web formats that matter
//! (`.js`, `.mjs`, `.wasm`, `.webmanifest`) have changed between versions.
//! Anything not listed is `application/octet-stream`, which browsers
//! download rather than sniff. Text types carry `charset=utf-8`: files are
//! served as stored, and UTF-8 is what editors and build tools write.

/// Extensions (lowercase, sorted for binary search) and their types.
const TYPES: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("aac", "audio/aac"),
    ("apng", "image/apng"),
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("css", "text/css; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("htm", "text/html; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
    ("ico", "image/x-icon"),
    ("ics", "text/calendar; charset=utf-8"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("jsonld", "application/ld+json"),
    ("map", "application/json"),
    ("md", "text/markdown; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("oga", "audio/ogg"),
    ("ogg", "audio/ogg"),
    ("ogv", "video/ogg"),
    ("opus", "audio/opus"),
    ("otf", "font/otf"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("rss", "application/rss+xml"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("toml", "text/plain; charset=utf-8"),
    ("ttf", "font/ttf"),
    ("txt", "text/plain; charset=utf-8"),
    ("wasm", "application/wasm"),
    ("wav", "audio/wav"),
    ("weba", "audio/webm"),
    ("webm", "video/webm"),
    ("webmanifest", "application/manifest+json"),
    ("webp", "image/webp"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("xhtml", "application/xhtml+xml"),
    ("xml", "application/xml"),
    ("zip", "application/zip"),
];

/// The content type for a file name, by its extension (case-insensitive).
pub(crate) fn content_type(name: &str) -> &'static str {
    const DEFAULT: &str = "application/octet-stream";
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return DEFAULT;
    };
    // `.bashrc` has no extension, it is all name.
    if stem.is_empty() || ext.len() > 16 {
        return DEFAULT;
    }
    let ext = ext.to_ascii_lowercase();
    TYPES
        .binary_search_by(|(e, _)| (*e).cmp(ext.as_str()))
        .map_or(DEFAULT, |i| TYPES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_lowercase() {
        for pair in TYPES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (ext, _) in TYPES {
            assert_eq!(*ext, ext.to_ascii_lowercase());
        }
    }

    #[test]
    fn types_table() {
        let cases = [
            ("index.html", "text/html; charset=utf-8"),
            ("INDEX.HTM", "text/html; charset=utf-8"),
            ("app.min.js", "text/javascript; charset=utf-8"),
            ("font.woff2", "font/woff2"),
            ("7z.7z", "application/x-7z-compressed"),
            ("zz.zip", "application/zip"),
            ("archive.tar.gz", "application/gzip"),
            ("README", "application/octet-stream"),
            (".bashrc", "application/octet-stream"),
            ("trailing.", "application/octet-stream"),
            ("data.unknownext", "application/octet-stream"),
        ];
        for (name, want) in cases {
            assert_eq!(content_type(name), want, "{name}");
        }
    }
}
