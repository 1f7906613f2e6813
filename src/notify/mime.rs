//! The MIME shape of a digest with an HTML part: multipart/alternative holding the plain text
//! first (what a text-only client shows) and then multipart/related with the HTML and its
//! inline images (each `Content-ID: <cid>`, `Content-Disposition: inline`), built with
//! lettre's builder. A row with no HTML part stays a single text/plain body.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};

use crate::store::{HtmlPart, StoredFile};

/// The body of a digest: its text and, after it, its HTML with the images it references.
pub fn alternative(text: String, html: &HtmlPart) -> Result<MultiPart, String> {
    let png = ContentType::parse("image/png").map_err(|e| e.to_string())?;
    let mut related = MultiPart::related().singlepart(SinglePart::html(html.html.clone()));
    for img in &html.images {
        related = related
            .singlepart(Attachment::new_inline(img.cid.clone()).body(img.png.clone(), png.clone()));
    }
    Ok(MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .multipart(related))
}

/// A text body with files after it (multipart/mixed), as a pack job mails the board pack.
pub fn with_files(text: String, files: &[StoredFile]) -> Result<MultiPart, String> {
    let mut mixed = MultiPart::mixed().singlepart(SinglePart::plain(text));
    for f in files {
        let ct = ContentType::parse(&f.content_type).map_err(|e| e.to_string())?;
        mixed = mixed.singlepart(Attachment::new(f.filename.clone()).body(f.bytes.clone(), ct));
    }
    Ok(mixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoredImage;

    #[test]
    fn text_first_then_the_html_with_its_images() {
        let part = HtmlPart {
            html: "<p><img src=\"cid:chart1.3@sendwatch\"></p>".into(),
            images: vec![StoredImage {
                cid: "chart1.3@sendwatch".into(),
                png: b"\x89PNG\r\n\x1a\nrest".to_vec(),
            }],
        };
        let m = lettre::Message::builder()
            .from("a@example.org".parse().expect("from"))
            .to("b@example.org".parse().expect("to"))
            .subject("s")
            .multipart(alternative("plain words".into(), &part).expect("mime"))
            .expect("message");
        let raw = String::from_utf8(m.formatted()).expect("utf-8");
        let alt = raw.find("multipart/alternative").expect("alternative");
        let plain = raw.find("text/plain").expect("text part");
        let related = raw.find("multipart/related").expect("related");
        let html = raw.find("text/html").expect("html part");
        let img = raw
            .find("Content-ID: <chart1.3@sendwatch>")
            .expect("image by cid");
        assert!(
            alt < plain && plain < related && related < html && html < img,
            "{raw}"
        );
        assert!(raw.contains("Content-Disposition: inline"), "{raw}");
    }
}
