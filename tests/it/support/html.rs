//! Reading pages back in tests: the text a reader sees (for the disclosure scan) and the
//! entities minijinja's HTML escaping writes, undone.

/// The page's text without its tags, each element's text on its own line (as a reader sees
/// cells apart), entities undone.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push('\n');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode(&out)
}

/// The entities minijinja's HTML escaping writes, undone.
pub fn decode(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Rows of a table by their class attribute (`<tr class="kpi"`).
pub fn rows(html: &str, class: &str) -> usize {
    html.matches(&format!("<tr class=\"{class}\"")).count()
}
