//! Uploaded images: decoded within limits, turned upright, thumbnailed, and
//! re-encoded without their metadata when they carry any. Plain functions
//! that take the CPU for a while: callers run them off the async threads
//! (`Hearth::upload_attachment` through `spawn_blocking`, a few at a time).
//!
//! - **Limits.** A file may say it is 60,000 × 60,000 pixels in a few
//!   hundred bytes (a decompression bomb). The declared size is checked
//!   against [`MAX_SIDE`] and [`MAX_PIXELS`] before any pixel is decoded,
//!   and the decoder's allocations are capped at [`MAX_DECODE_BYTES`]: such
//!   a file is refused ([`ImageError::TooLarge`]), never decoded.
//! - **Orientation.** A phone photo is stored sideways with an EXIF
//!   orientation; the thumbnail, the sizes Hearth reports and a re-encoded
//!   original are turned upright.
//! - **Metadata.** EXIF (which holds a photo's GPS position) and XMP are
//!   dropped: an image that has either is re-encoded from its pixels, which
//!   carry none; one that has neither is kept byte for byte.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The longest side decoded, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// The most pixels decoded (about a 48-megapixel photo).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The most memory a decoder may take at once.
pub const MAX_DECODE_BYTES: u64 = 400 * 1024 * 1024;
/// A thumbnail fits in this square.
pub const THUMBNAIL_SIDE: u32 = 480;
/// An uploaded avatar is cropped to this square.
pub const AVATAR_SIDE: u32 = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    /// Over the limits: refused without decoding it.
    TooLarge { width: u32, height: u32 },
    /// Not an image this format's decoder can read.
    Unreadable(String),
}

/// A bitmap format Hearth shows inline, found from the bytes themselves
/// (never from a name or a claimed type). SVG is not one: it is a document
/// that can run script.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP)) => Some(format),
        _ => None,
    }
}

/// The media type an image format is served with.
pub fn media_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        _ => "application/octet-stream",
    }
}

/// An encoded image and its media type.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub media_type: &'static str,
}

/// What an uploaded image became.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Upright size, as shown.
    pub width: u32,
    pub height: u32,
    /// The file to keep in place of the upload when it carried metadata
    /// (re-encoded upright, in the same format, without it); `None` keeps
    /// the upload as it is.
    pub replacement: Option<Encoded>,
    pub thumbnail: Encoded,
}

/// A decoded upload: the image upright, whether the file carried EXIF or
/// XMP metadata, and its colour profile (ICC), which is no metadata to drop:
/// without it a wide-gamut (Display P3) photo's colours change.
struct Decoded {
    image: DynamicImage,
    has_metadata: bool,
    colours: Option<Vec<u8>>,
}

/// Decodes `bytes` (of `format`, see [`sniff`]) within the limits, upright.
fn decode(bytes: &[u8], format: ImageFormat) -> Result<Decoded, ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let unreadable = |err: image::ImageError| ImageError::Unreadable(err.to_string());
    // The header alone says the size: checked before anything is decoded.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map(|decoder| decoder.dimensions())
        .map_err(unreadable)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    let mut decoder = reader.into_decoder().map_err(|err| match err {
        image::ImageError::Limits(_) => ImageError::TooLarge { width, height },
        other => unreadable(other),
    })?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let colours = decoder.icc_profile().ok().flatten().filter(|icc| !icc.is_empty());
    let exif = decoder.exif_metadata().ok().flatten().is_some();
    let xmp = decoder.xmp_metadata().ok().flatten().is_some() || contains(bytes, b"http://ns.adobe.com/xap/1.0/");
    let mut image = DynamicImage::from_decoder(decoder).map_err(|err| match err {
        image::ImageError::Limits(_) => ImageError::TooLarge { width, height },
        other => unreadable(other),
    })?;
    image.apply_orientation(orientation);
    // Text a camera or an editor leaves: a PNG's text chunks, a JPEG's IPTC
    // block and comments (0xFF 0xFE is only ever a comment's marker there).
    let text = match format {
        ImageFormat::Png => [&b"tEXt"[..], b"zTXt", b"iTXt"].iter().any(|chunk| contains(bytes, chunk)),
        ImageFormat::Jpeg => contains(bytes, b"Photoshop 3.0\0") || contains(bytes, &[0xFF, 0xFE]),
        _ => false,
    };
    Ok(Decoded { image, has_metadata: exif || xmp || text, colours })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn failed(err: image::ImageError) -> ImageError {
    ImageError::Unreadable(err.to_string())
}

/// `image` as a JPEG of `quality`, with the colour profile `colours`.
fn jpeg(image: &DynamicImage, quality: u8, colours: Option<&[u8]>) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    if let Some(icc) = colours {
        let _ = image::ImageEncoder::set_icc_profile(&mut encoder, icc.to_vec());
    }
    DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder).map_err(failed)?;
    Ok(bytes)
}

/// `image` as a PNG, with the colour profile `colours`.
fn png(image: &DynamicImage, colours: Option<&[u8]>) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
    if let Some(icc) = colours {
        let _ = image::ImageEncoder::set_icc_profile(&mut encoder, icc.to_vec());
    }
    image.write_with_encoder(encoder).map_err(failed)?;
    Ok(bytes)
}

/// JPEG when the image is opaque (small), PNG when it has transparency;
/// with the colour profile `colours`.
fn encode_small(image: &DynamicImage, colours: Option<&[u8]>) -> Result<Encoded, ImageError> {
    if image.color().has_alpha() {
        Ok(Encoded { bytes: png(image, colours)?, media_type: "image/png" })
    } else {
        Ok(Encoded { bytes: jpeg(image, 82, colours)?, media_type: "image/jpeg" })
    }
}

/// The whole image again, in its own format, with no metadata but its
/// colour profile (JPEG and PNG; image's GIF and WebP encoders keep none).
fn reencode(image: &DynamicImage, format: ImageFormat, colours: Option<&[u8]>) -> Result<Encoded, ImageError> {
    let bytes = match format {
        ImageFormat::Jpeg => jpeg(image, 92, colours)?,
        ImageFormat::Png => png(image, colours)?,
        // image's WebP encoder is lossless; GIF keeps its own.
        other => {
            let mut bytes = Vec::new();
            image.write_to(&mut Cursor::new(&mut bytes), other).map_err(failed)?;
            bytes
        }
    };
    Ok(Encoded { bytes, media_type: media_type(format) })
}

/// An uploaded image: its upright size, its thumbnail, and a replacement
/// without metadata when it had some.
pub fn process(bytes: &[u8], format: ImageFormat) -> Result<Processed, ImageError> {
    let Decoded { image, has_metadata, colours } = decode(bytes, format)?;
    let colours = colours.as_deref();
    let replacement = if has_metadata { Some(reencode(&image, format, colours)?) } else { None };
    let thumbnail = if image.width() <= THUMBNAIL_SIDE && image.height() <= THUMBNAIL_SIDE {
        encode_small(&image, colours)?
    } else {
        encode_small(&image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE), colours)?
    };
    Ok(Processed { width: image.width(), height: image.height(), replacement, thumbnail })
}

/// An avatar: the image cropped to its centre square, [`AVATAR_SIDE`] wide.
pub fn avatar(bytes: &[u8], format: ImageFormat) -> Result<Encoded, ImageError> {
    let Decoded { image, colours, .. } = decode(bytes, format)?;
    let square = image.resize_to_fill(AVATAR_SIDE, AVATAR_SIDE, image::imageops::FilterType::Triangle);
    encode_small(&square, colours.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    use crate::testing::images::{bomb_png, png, rotated_jpeg_with_gps};

    #[test]
    fn a_big_image_gets_a_thumbnail_inside_the_square_with_its_proportions() {
        let processed = process(&png(1200, 600), ImageFormat::Png).expect("processed");
        assert_eq!((processed.width, processed.height), (1200, 600));
        assert!(processed.replacement.is_none(), "a PNG without metadata is kept as it is");
        assert_eq!(processed.thumbnail.media_type, "image/jpeg");
        let thumb = image::load_from_memory(&processed.thumbnail.bytes).expect("a thumbnail");
        assert_eq!((thumb.width(), thumb.height()), (THUMBNAIL_SIDE, THUMBNAIL_SIDE / 2));
    }

    #[test]
    fn a_photos_colour_profile_stays_in_its_replacement_and_its_thumbnail() {
        // A JPEG with a colour profile (any bytes do: nothing here reads
        // them) and a GPS position, as a phone's wide-gamut photo has.
        let profile: Vec<u8> = b"a Display P3 profile, as a test has it".repeat(20);
        let image =
            DynamicImage::ImageRgb8(image::RgbImage::from_fn(600, 300, |x, _| image::Rgb([(x % 256) as u8, 182, 62])));
        let with_profile = jpeg(&image, 90, Some(&profile)).expect("a JPEG");
        let upload =
            crate::testing::images::insert_exif(&with_profile, &crate::testing::images::exif_orientation_6_with_gps());
        let processed = process(&upload, ImageFormat::Jpeg).expect("processed");
        let replacement = processed.replacement.expect("re-encoded without the GPS block");
        assert!(!contains(&replacement.bytes, b"Exif\0\0"));
        let profile_of = |bytes: &[u8]| {
            let mut decoder = ImageReader::new(Cursor::new(bytes))
                .with_guessed_format()
                .expect("a format")
                .into_decoder()
                .expect("a decoder");
            decoder.icc_profile().expect("read")
        };
        assert_eq!(profile_of(&replacement.bytes).as_deref(), Some(&profile[..]), "the replacement's colours");
        assert_eq!(profile_of(&processed.thumbnail.bytes).as_deref(), Some(&profile[..]), "the thumbnail's colours");
        // And a PNG's, in its thumbnail.
        let png_upload = super::png(
            &DynamicImage::ImageRgba8(RgbaImage::from_fn(40, 30, |_, _| Rgba([1, 2, 3, 100]))),
            Some(&profile),
        )
        .expect("a PNG");
        let processed = process(&png_upload, ImageFormat::Png).expect("processed");
        assert_eq!(profile_of(&processed.thumbnail.bytes).as_deref(), Some(&profile[..]));
    }

    #[test]
    fn text_a_camera_or_editor_left_is_dropped_too() {
        // A PNG with a text chunk (the author's address, say).
        let plain = png(20, 10);
        let mut chunk = b"tEXtAuthor\0Alice, 12 Main St".to_vec();
        let crc = crc32(&chunk);
        let mut with_text = plain[..33].to_vec();
        with_text.extend(u32::try_from(chunk.len() - 4).expect("small").to_be_bytes());
        with_text.append(&mut chunk);
        with_text.extend(crc.to_be_bytes());
        with_text.extend(&plain[33..]);
        let processed = process(&with_text, ImageFormat::Png).expect("processed");
        let replacement = processed.replacement.expect("re-encoded");
        assert!(!contains(&replacement.bytes, b"Main St"));
        // A JPEG with a comment.
        let jpeg = {
            let mut bytes = Vec::new();
            image::RgbImage::from_pixel(8, 8, image::Rgb([9, 9, 9]))
                .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg)
                .expect("jpeg");
            bytes
        };
        let comment = b"shot at 12 Main St";
        let mut with_comment = jpeg[..2].to_vec();
        with_comment.extend([0xFF, 0xFE]);
        with_comment.extend(u16::try_from(comment.len() + 2).expect("small").to_be_bytes());
        with_comment.extend(comment);
        with_comment.extend(&jpeg[2..]);
        let replacement =
            process(&with_comment, ImageFormat::Jpeg).expect("processed").replacement.expect("re-encoded");
        assert!(!contains(&replacement.bytes, b"Main St"));
        // Nothing of the kind: kept as uploaded.
        assert!(process(&plain, ImageFormat::Png).expect("processed").replacement.is_none());
    }

    /// PNG's CRC-32 of a chunk's type and data.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn transparency_keeps_a_png_thumbnail() {
        let image = RgbaImage::from_fn(40, 30, |_, _| Rgba([1, 2, 3, 100]));
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).expect("png");
        let processed = process(&bytes, ImageFormat::Png).expect("processed");
        assert_eq!(processed.thumbnail.media_type, "image/png");
    }

    #[test]
    fn exif_orientation_is_applied_and_the_gps_block_is_gone() {
        let upload = rotated_jpeg_with_gps(64, 32);
        assert!(contains(&upload, b"Exif\0\0"));
        let processed = process(&upload, ImageFormat::Jpeg).expect("processed");
        // Orientation 6 turns a 64 × 32 landscape into a 32 × 64 portrait.
        assert_eq!((processed.width, processed.height), (32, 64));
        let kept = processed.replacement.expect("re-encoded without its metadata");
        assert_eq!(kept.media_type, "image/jpeg");
        assert!(!contains(&kept.bytes, b"Exif\0\0"), "no EXIF left");
        let upright = image::load_from_memory(&kept.bytes).expect("a jpeg");
        assert_eq!((upright.width(), upright.height()), (32, 64));
        let thumb = image::load_from_memory(&processed.thumbnail.bytes).expect("a thumbnail");
        assert_eq!((thumb.width(), thumb.height()), (32, 64));
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_decoded() {
        let bomb = bomb_png(60_000, 60_000);
        assert!(bomb.len() < 100, "{} bytes", bomb.len());
        assert_eq!(sniff(&bomb), Some(ImageFormat::Png));
        assert_eq!(
            process(&bomb, ImageFormat::Png).unwrap_err(),
            ImageError::TooLarge { width: 60_000, height: 60_000 }
        );
        // Under the side limit but over the pixel limit.
        let wide = bomb_png(16_000, 16_000);
        assert!(matches!(process(&wide, ImageFormat::Png), Err(ImageError::TooLarge { .. })));
        assert!(matches!(avatar(&wide, ImageFormat::Png), Err(ImageError::TooLarge { .. })));
    }

    #[test]
    fn garbage_is_unreadable_and_svg_or_text_is_not_an_image() {
        let mut broken = png(10, 10);
        broken.truncate(40);
        assert!(matches!(process(&broken, ImageFormat::Png), Err(ImageError::Unreadable(_))));
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), None);
        assert_eq!(sniff(b"hello"), None);
    }

    #[test]
    fn an_avatar_is_a_centred_square() {
        let square = avatar(&png(300, 100), ImageFormat::Png).expect("an avatar");
        let image = image::load_from_memory(&square.bytes).expect("decodes");
        assert_eq!((image.width(), image.height()), (AVATAR_SIDE, AVATAR_SIDE));
    }
}
