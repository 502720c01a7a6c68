//! A small Rust lexer, just enough to tell code from comments and literals line by line.
//!
//! It is not a parser: it follows line and nested block comments, string, byte-string and
//! raw-string literals, and character literals versus lifetimes. Code outside those is kept,
//! literal contents are dropped (the quotes stay), comments go to [`Line::comment`].

/// One source line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Line {
    /// The code on the line, with comments replaced by a space and literal contents removed.
    pub code: String,
    /// The text of the comments on the line (markers included).
    pub comment: String,
}

impl Line {
    /// A line holding only a comment (and whitespace).
    pub fn is_comment_only(&self) -> bool {
        self.code.trim().is_empty() && !self.comment.trim().is_empty()
    }
}

#[derive(Clone, Copy)]
enum State {
    Code,
    LineComment,
    BlockComment(usize),
    Str,
    RawStr(usize),
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits `src` into lines (on `\n`) of code and comment text.
pub fn lines(src: &str) -> Vec<Line> {
    let chars: Vec<char> = src.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut line = Line::default();
    let mut state = State::Code;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            out.push(std::mem::take(&mut line));
            if let State::LineComment = state {
                state = State::Code;
            }
            i += 1;
            continue;
        }
        match state {
            State::LineComment => {
                line.comment.push(c);
                i += 1;
            }
            State::BlockComment(depth) => {
                if c == '/' && at(i + 1) == '*' {
                    line.comment.push_str("/*");
                    state = State::BlockComment(depth + 1);
                    i += 2;
                } else if c == '*' && at(i + 1) == '/' {
                    line.comment.push_str("*/");
                    state = if depth == 1 {
                        line.code.push(' ');
                        State::Code
                    } else {
                        State::BlockComment(depth - 1)
                    };
                    i += 2;
                } else {
                    line.comment.push(c);
                    i += 1;
                }
            }
            State::Str => {
                if c == '\\' {
                    // Skip the escaped character, but never a newline: lines must stay aligned.
                    i += if at(i + 1) == '\n' { 1 } else { 2 };
                } else {
                    if c == '"' {
                        line.code.push('"');
                        state = State::Code;
                    }
                    i += 1;
                }
            }
            State::RawStr(hashes) => {
                if c == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    line.code.push('"');
                    state = State::Code;
                    i += 1 + hashes;
                } else {
                    i += 1;
                }
            }
            State::Code => {
                if c == '/' && at(i + 1) == '/' {
                    line.code.push(' ');
                    line.comment.push_str("//");
                    state = State::LineComment;
                    i += 2;
                    continue;
                } else if c == '/' && at(i + 1) == '*' {
                    line.comment.push_str("/*");
                    state = State::BlockComment(1);
                    i += 2;
                    continue;
                } else if c == '"' {
                    line.code.push('"');
                    state = State::Str;
                } else if c == '\'' {
                    // A character literal ('x', '\n', '\u{..}') or a lifetime/label ('a).
                    if at(i + 1) == '\\' {
                        let mut j = i + 3;
                        while j < chars.len() && chars[j] != '\'' && chars[j] != '\n' {
                            j += 1;
                        }
                        line.code.push_str("''");
                        i = j + 1;
                        continue;
                    } else if at(i + 2) == '\'' && at(i + 1) != '\n' {
                        line.code.push_str("''");
                        i += 3;
                        continue;
                    }
                    line.code.push(c);
                } else if is_ident(c) {
                    let start = i;
                    while i < chars.len() && is_ident(chars[i]) {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
                    let str_prefix = matches!(word.as_str(), "b" | "c");
                    if raw_prefix && matches!(at(i), '"' | '#') {
                        let mut hashes = 0;
                        while at(i + hashes) == '#' {
                            hashes += 1;
                        }
                        if at(i + hashes) == '"' {
                            line.code.push('"');
                            state = State::RawStr(hashes);
                            i += hashes + 1;
                            continue;
                        }
                        // `r#ident`: a raw identifier, plain code.
                    } else if str_prefix && at(i) == '"' {
                        line.code.push('"');
                        state = State::Str;
                        i += 1;
                        continue;
                    }
                    // A byte literal b'x' falls through to the `'` branch on the next turn.
                    line.code.push_str(&word);
                    continue;
                } else {
                    line.code.push(c);
                }
                i += 1;
            }
        }
    }
    out.push(line);
    out
}

/// Byte offsets in `code` where the keyword `unsafe` stands as a whole token.
pub fn unsafe_tokens(code: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find("unsafe") {
        let start = from + pos;
        let end = start + "unsafe".len();
        let before = code[..start].chars().next_back();
        let after = code[end..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            found.push(start);
        }
        from = end;
    }
    found
}

/// Whether the line opens an `unsafe` block (`unsafe {`, as opposed to `unsafe fn`/`impl`).
pub fn opens_unsafe_block(code: &str) -> bool {
    unsafe_tokens(code)
        .into_iter()
        .any(|pos| code[pos + "unsafe".len()..].trim_start().starts_with('{'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(src: &str) -> Vec<String> {
        lines(src).into_iter().map(|l| l.code).collect()
    }

    #[test]
    fn comments_are_separated_from_code() {
        let ls = lines("let a = 1; // unsafe here\n/* unsafe\n still */ let b = 2;");
        assert_eq!(ls.len(), 3);
        assert_eq!(ls[0].code.trim(), "let a = 1;");
        assert_eq!(ls[0].comment, "// unsafe here");
        assert_eq!(ls[1].code, "");
        assert!(ls[1].is_comment_only());
        assert_eq!(ls[2].code.trim(), "let b = 2;");
    }

    #[test]
    fn nested_block_comments_end_at_the_matching_close() {
        let c = code("/* a /* b */ unsafe */ x");
        assert_eq!(c[0].trim(), "x");
    }

    #[test]
    fn literal_contents_are_dropped() {
        let c = code(r###"let s = "unsafe \" {"; let r = r#"unsafe "{ }"#; let b = b"unsafe";"###);
        assert_eq!(c[0], r#"let s = ""; let r = ""; let b = "";"#);
    }

    #[test]
    fn multi_line_strings_keep_lines_aligned() {
        let c = code("let s = \"one\\\n unsafe\n\"; unsafe {}");
        assert_eq!(c.len(), 3);
        assert_eq!(c[1], "");
        assert_eq!(c[2], "\"; unsafe {}");
    }

    #[test]
    fn char_literals_and_lifetimes() {
        let c = code("fn f<'a>(x: &'a str) -> char { let q = '\"'; let e = '\\''; b'\"' }");
        assert_eq!(
            c[0],
            "fn f<'a>(x: &'a str) -> char { let q = ''; let e = ''; b'' }"
        );
    }

    #[test]
    fn raw_identifiers_are_code() {
        assert_eq!(code("let r#type = 1;")[0], "let r#type = 1;");
    }

    #[test]
    fn unsafe_is_found_only_as_a_token() {
        assert_eq!(unsafe_tokens("unsafe { x }"), [0]);
        assert_eq!(
            unsafe_tokens("#![forbid(unsafe_code)]"),
            Vec::<usize>::new()
        );
        assert_eq!(unsafe_tokens("let not_unsafe = 1;"), Vec::<usize>::new());
        assert_eq!(unsafe_tokens("pub unsafe fn f()"), [4]);
    }

    #[test]
    fn unsafe_blocks_are_told_from_unsafe_items() {
        assert!(opens_unsafe_block("let x = unsafe { f() };"));
        assert!(opens_unsafe_block("unsafe{"));
        assert!(!opens_unsafe_block("pub unsafe fn f() {"));
        assert!(!opens_unsafe_block("unsafe impl Send for X {}"));
    }
}
