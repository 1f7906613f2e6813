//! The MIME shape of an outbox row's message, built with lettre's builder: with an HTML part,
//! multipart/alternative holding the plain text first (what a text-only client shows) and
//! then multipart/related with the HTML and its inline parts (each `Content-ID: <cid>`,
//! `Content-Disposition: inline`); with attached files, multipart/mixed with them after the
//! body (the board pack a pack job mails). A row with neither stays a single text/plain body.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};

use crate::news::{Part, PartKind};

/// The body of a message with parts or an HTML part; `None` when it is plain text alone.
pub fn body(text: String, html: Option<&str>, parts: &[Part]) -> Result<Option<MultiPart>, String> {
    let ct = |p: &Part| ContentType::parse(&p.content_type).map_err(|e| e.to_string());
    let files: Vec<&Part> = parts
        .iter()
        .filter(|p| p.kind == PartKind::Attachment)
        .collect();
    let main = match html {
        Some(html) => {
            let mut related = MultiPart::related().singlepart(SinglePart::html(html.to_string()));
            for p in parts.iter().filter(|p| p.kind == PartKind::Inline) {
                related = related.singlepart(
                    Attachment::new_inline(p.name.clone()).body(p.bytes.clone(), ct(p)?),
                );
            }
            Some(
                MultiPart::alternative()
                    .singlepart(SinglePart::plain(text.clone()))
                    .multipart(related),
            )
        }
        None => None,
    };
    if files.is_empty() {
        return Ok(main);
    }
    let mut mixed = match main {
        Some(alt) => MultiPart::mixed().multipart(alt),
        None => MultiPart::mixed().singlepart(SinglePart::plain(text)),
    };
    for f in files {
        mixed = mixed.singlepart(Attachment::new(f.name.clone()).body(f.bytes.clone(), ct(f)?));
    }
    Ok(Some(mixed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_first_then_the_html_with_its_images() {
        let parts = [Part::inline_png(
            "chart1.3@sendwatch",
            b"\x89PNG\r\n\x1a\nrest".to_vec(),
        )];
        let html = "<p><img src=\"cid:chart1.3@sendwatch\"></p>";
        let m = lettre::Message::builder()
            .from("a@example.org".parse().expect("from"))
            .to("b@example.org".parse().expect("to"))
            .subject("s")
            .multipart(
                body("plain words".into(), Some(html), &parts)
                    .expect("mime")
                    .expect("multipart"),
            )
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
