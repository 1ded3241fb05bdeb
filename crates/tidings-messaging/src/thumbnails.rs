//! Thumbnails of uploaded images, made after the upload has answered (a task of its own, the pixel
//! work on the blocking pool): at most [`THUMBNAIL_SIDE`] pixels on a side, turned upright by the
//! EXIF orientation, and encoded anew as JPEG, which leaves every piece of metadata (a phone's GPS
//! position included) behind. The image's own dimensions are recorded with it.

use std::io::Cursor;
use std::sync::Arc;

use futures_util::TryStreamExt;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use tidings_domain::{BlobStore, Upload, UploadRepo};

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;

/// Largest image decoded: wider or taller ones get no thumbnail (a decompression bomb stays small).
const MAX_SIDE: u32 = 12_000;

/// Most memory one decode may take.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// Where an upload's thumbnail is kept.
pub fn thumbnail_key(upload: &Upload) -> String {
    format!("companies/{}/thumbnails/{}", upload.company_id, upload.id)
}

/// Makes and records the thumbnail of an image upload; other kinds are left alone.
pub async fn make(
    repos: Arc<dyn UploadRepo>,
    blobs: Arc<dyn BlobStore>,
    upload: Upload,
) -> Result<(), String> {
    if !upload.content_type.starts_with("image/") {
        return Ok(());
    }
    let chunks: Vec<bytes::Bytes> = blobs
        .read(&upload.object_key, None)
        .await
        .map_err(|e| e.to_string())?
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    let original = chunks.concat();
    let (width, height, thumbnail) =
        tokio::task::spawn_blocking(move || render(&original)).await.map_err(|e| e.to_string())??;
    let key = thumbnail_key(&upload);
    blobs.put(&key, thumbnail.into()).await.map_err(|e| e.to_string())?;
    let (width, height) =
        (i32::try_from(width).unwrap_or(i32::MAX), i32::try_from(height).unwrap_or(i32::MAX));
    repos
        .set_thumbnail(upload.company_id, upload.id, width, height, Some(key))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// How many of an image's first bytes are kept while it uploads, to read its dimensions from.
pub const HEADER_BYTES: usize = 512 * 1024;

/// The upright dimensions of an image from its first bytes (its headers, EXIF included), without
/// decoding a pixel; `None` when they are not in these bytes (the thumbnail records them later).
pub fn measure(head: &[u8]) -> Option<(i32, i32)> {
    let reader = ImageReader::new(Cursor::new(head)).with_guessed_format().ok()?;
    let mut decoder = reader.into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    let turned = matches!(
        decoder.orientation().ok()?,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    );
    let (width, height) = if turned { (height, width) } else { (width, height) };
    Some((i32::try_from(width).ok()?, i32::try_from(height).ok()?))
}

/// The upright dimensions of an encoded image, and its thumbnail as JPEG.
pub fn render(encoded: &[u8]) -> Result<(u32, u32, Vec<u8>), String> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader =
        ImageReader::new(Cursor::new(encoded)).with_guessed_format().map_err(|e| e.to_string())?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let small = flatten(image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE));
    let mut out = Cursor::new(Vec::new());
    small.write_to(&mut out, image::ImageFormat::Jpeg).map_err(|e| e.to_string())?;
    Ok((width, height, out.into_inner()))
}

/// An image without transparency: transparent parts over white, as a page would show them.
fn flatten(image: DynamicImage) -> DynamicImage {
    if !image.color().has_alpha() {
        return DynamicImage::ImageRgb8(image.to_rgb8());
    }
    let mut rgba = image.to_rgba8();
    for pixel in rgba.pixels_mut() {
        let alpha = u16::from(pixel[3]);
        for channel in 0..3 {
            let blended = (u16::from(pixel[channel]) * alpha + 255 * (255 - alpha)) / 255;
            pixel[channel] = u8::try_from(blended).unwrap_or(u8::MAX);
        }
        pixel[3] = 255;
    }
    DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
}

#[cfg(test)]
mod tests {
    use image::{ImageBuffer, Rgb, Rgba};

    use super::*;

    fn encoded(image: DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap_or_default();
        out.into_inner()
    }

    /// A JPEG with an EXIF orientation (6: shot rotated, to be turned 90 degrees clockwise).
    fn rotated_jpeg(width: u32, height: u32) -> Vec<u8> {
        let plain = encoded(
            DynamicImage::ImageRgb8(ImageBuffer::from_pixel(width, height, Rgb([200, 10, 10]))),
            image::ImageFormat::Jpeg,
        );
        let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        let length = u16::try_from(exif.len() + 2).unwrap_or_default().to_be_bytes();
        let mut segment = vec![0xff, 0xe1, length[0], length[1]];
        segment.append(&mut exif);
        let mut jpeg = plain[..2].to_vec();
        jpeg.extend(segment);
        jpeg.extend_from_slice(&plain[2..]);
        jpeg
    }

    #[test]
    fn thumbnails_are_small_upright_jpegs_without_metadata() {
        let wide = encoded(
            DynamicImage::ImageRgb8(ImageBuffer::from_pixel(1600, 900, Rgb([0, 90, 200]))),
            image::ImageFormat::Png,
        );
        let (width, height, thumb) = render(&wide).expect("a PNG");
        assert_eq!((width, height), (1600, 900));
        let small = image::load_from_memory(&thumb).expect("a JPEG");
        assert_eq!((small.width(), small.height()), (320, 180));
        assert_eq!(infer::get(&thumb).map(|k| k.mime_type()), Some("image/jpeg"));

        let upright = rotated_jpeg(400, 200);
        let (width, height, thumb) = render(&upright).expect("a rotated JPEG");
        assert_eq!((width, height), (200, 400), "turned by its orientation");
        assert!(!thumb.windows(4).any(|w| w == b"Exif"), "no metadata left");
        let small = image::load_from_memory(&thumb).expect("a JPEG");
        assert_eq!((small.width(), small.height()), (160, 320));

        let clear = encoded(
            DynamicImage::ImageRgba8(ImageBuffer::from_pixel(10, 10, Rgba([0, 0, 0, 0]))),
            image::ImageFormat::Png,
        );
        let (_, _, thumb) = render(&clear).expect("a transparent PNG");
        let pixel = image::load_from_memory(&thumb).expect("a JPEG").to_rgb8().get_pixel(5, 5).0;
        assert!(pixel.iter().all(|c| *c > 240), "transparent becomes white: {pixel:?}");
        assert!(render(b"\x89PNG\r\n\x1a\nnot really").is_err());
    }

    #[test]
    fn dimensions_come_from_the_first_bytes_upright() {
        let upright = rotated_jpeg(400, 200);
        assert_eq!(measure(&upright), Some((200, 400)), "turned by its orientation");
        let png = encoded(
            DynamicImage::ImageRgb8(ImageBuffer::from_pixel(300, 100, Rgb([1, 2, 3]))),
            image::ImageFormat::Png,
        );
        assert_eq!(measure(&png[..64.min(png.len())]), Some((300, 100)), "a PNG says it in its header");
        assert_eq!(measure(b"%PDF-1.7 not an image"), None);
    }
}
