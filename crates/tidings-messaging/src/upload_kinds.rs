//! Which files may be uploaded: their kind is read from their first bytes, never taken from the
//! client, and must be on the allow-list. SVG and HTML are not (they run script in a browser), nor
//! is anything without a recognisable signature.

/// Bytes read before the kind is decided: every signature on the list fits in them.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Content types accepted: images, PDF, office documents, audio, video.
const ALLOWED: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heif",
    "image/avif",
    "image/bmp",
    "image/tiff",
    "application/pdf",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/rtf",
    "audio/mpeg",
    "audio/m4a",
    "audio/aac",
    "audio/ogg",
    "audio/opus",
    "audio/x-wav",
    "audio/x-flac",
    "audio/amr",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "video/x-m4v",
    "video/mpeg",
];

/// The content type of a file starting with `head`, when it is one Tidings accepts.
pub fn sniff(head: &[u8]) -> Result<&'static str, String> {
    let Some(kind) = infer::get(head) else {
        return Err("the file's type cannot be told from its bytes; accepted: images, PDF, office documents, audio and video".into());
    };
    let mime = kind.mime_type();
    ALLOWED
        .iter()
        .find(|allowed| **allowed == mime)
        .copied()
        .ok_or_else(|| format!("files of type {mime} are not accepted"))
}

/// Whether a type the client declared agrees with the sniffed one: the same, or a generic one
/// (`application/octet-stream`) that says nothing.
pub fn agrees(declared: &str, sniffed: &str) -> bool {
    let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    declared.is_empty()
        || declared == "application/octet-stream"
        || declared == sniffed
        || (declared == "image/jpg" && sniffed == "image/jpeg")
        || (declared == "audio/wav" && sniffed == "audio/x-wav")
        || (declared == "audio/mp4" && sniffed == "audio/m4a")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png), Ok("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok("application/pdf"));
        assert!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>").is_err());
        assert!(sniff(b"<html><script>alert(1)</script></html>").is_err());
        assert!(
            sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff").unwrap_err().contains("not accepted"),
            "a Windows executable"
        );
        assert!(agrees("image/png", "image/png") && agrees("IMAGE/PNG; charset=x", "image/png"));
        assert!(agrees("", "image/png") && agrees("application/octet-stream", "application/pdf"));
        assert!(!agrees("image/png", "application/pdf"), "a PDF sent as a picture");
    }
}
