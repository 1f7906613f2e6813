//! A 3x5 pixel font for the PNG chart's axis labels and legend: digits, the letters a-z
//! (upper case drawn as lower) and the few signs a figure, a period key or a layer's name is
//! written with ("75.0%", "31.3 weeks", "2021-07", "AY2020/21", "80% interval"). Built in,
//! so the PNG carries its scale, periods and legend without a font library or a font file;
//! anything else is drawn as a space.

/// Rows of a glyph, top first, each its three columns in the low bits (4 = left).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_lowercase() {
        '0' | 'o' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' | 's' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '-' => [0, 0, 7, 0, 0],
        '.' => [0, 0, 0, 0, 2],
        '%' => [5, 1, 2, 4, 5],
        '/' => [1, 1, 2, 4, 4],
        'q' => [7, 5, 5, 7, 1],
        'h' => [5, 5, 7, 5, 5],
        'a' => [2, 5, 7, 5, 5],
        'y' => [5, 5, 2, 2, 2],
        'f' => [7, 4, 6, 4, 4],
        'w' => [5, 5, 5, 7, 5],
        'e' => [7, 4, 6, 4, 7],
        'k' => [5, 6, 4, 6, 5],
        'b' => [6, 5, 6, 5, 6],
        'c' => [7, 4, 4, 4, 7],
        'd' => [6, 5, 5, 5, 6],
        'g' => [7, 4, 5, 5, 7],
        'i' => [7, 2, 2, 2, 7],
        'j' => [1, 1, 1, 5, 7],
        'l' => [4, 4, 4, 4, 7],
        'm' => [5, 7, 7, 5, 5],
        'n' => [6, 5, 5, 5, 5],
        'p' => [7, 5, 7, 4, 4],
        'r' => [6, 5, 6, 5, 5],
        't' => [7, 2, 2, 2, 2],
        'u' => [5, 5, 5, 5, 7],
        'v' => [5, 5, 5, 5, 2],
        'x' => [5, 5, 2, 5, 5],
        'z' => [7, 1, 2, 4, 7],
        _ => [0; 5],
    }
}

/// Pixels per font pixel.
pub const SCALE: i32 = 2;
/// Width a character takes, with its gap.
pub const ADVANCE: i32 = 4 * SCALE;
/// Height of a line of text.
pub const HEIGHT: i32 = 5 * SCALE;

/// Width of `text` in pixels.
pub fn width(text: &str) -> i32 {
    i32::try_from(text.chars().count()).map_or(i32::MAX, |n| n * ADVANCE)
}

/// The filled squares of `text` with its top left at `(x, y)`: (left, top) of each, every one
/// [`SCALE`] pixels square.
pub fn squares(text: &str, x: i32, y: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    for (i, c) in text.chars().enumerate() {
        let left = x + i32::try_from(i).unwrap_or(0) * ADVANCE;
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) != 0 {
                    out.push((left + col * SCALE, y + row as i32 * SCALE));
                }
            }
        }
    }
    out
}
