//! Markdown for messages: the subset a chat needs, rendered to HTML on the
//! server and sanitised there, so the page, the hydrated page and a live
//! push all show the same `Message::html` and the browser never parses
//! Markdown (nor carries a renderer in its WASM).
//!
//! - `pulldown-cmark` parses CommonMark: emphasis, strikethrough, inline code,
//!   fenced code blocks with a language label, lists, quotes, links, and bare
//!   URLs (found by `linkify`). Headings and images are not formatting here: a
//!   heading stays a paragraph with its `#`s, an image becomes a link to it.
//!   Raw HTML is shown as text (inert). Line breaks are kept, as a chat
//!   expects. Containers nest at most [`NEST_MAX`] deep.
//! - A code block with a known language is highlighted here too, by a small
//!   lexer ([`highlight`]): keywords, strings, comments and numbers become
//!   `<span class="hl-…">`, coloured by `style/main.css`. No highlighting
//!   crate (syntect carries a regex engine and megabytes of grammars) and no
//!   JavaScript: the WASM is untouched and the cost is a linear scan.
//! - `ammonia` then keeps only the tags and attributes this renderer makes,
//!   and links only to `http`, `https` and `mailto` (a `javascript:` or
//!   `data:` link loses its `href`), with `rel="noopener noreferrer
//!   nofollow"` and `target="_blank"` (a link opens in a new tab, and the
//!   page it opens gets no `window.opener` and no referrer). It is the last step whatever the renderer does, so a bug in
//!   the steps above cannot put script in a page.

use std::sync::LazyLock;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream};

/// How deep quotes, lists and emphasis nest; deeper markers are dropped
/// (their text stays), so a pathological message costs no deep recursion.
pub const NEST_MAX: usize = 16;

/// The HTML shown for a message's Markdown `source`: rendered, then sanitised.
pub fn render(source: &str) -> String {
    render_message(source, false)
}

/// [`render`] for a message whose stored mentions are `mentions` (true: it
/// mentions someone): then its `@name` tokens (not in code or links) are
/// marked `<span class="mention">`, which the page highlights. A message
/// that mentions no one (a name that is not a member) marks none.
pub fn render_message(source: &str, mentions: bool) -> String {
    plain_words(source).unwrap_or_else(|| parsed(source, mentions))
}

/// [`render_message`] by the parser and the sanitiser.
fn parsed(source: &str, mentions: bool) -> String {
    let events = rewrite(source, mentions);
    let mut html = String::with_capacity(source.len() + source.len() / 2 + 16);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitise(&html)
}

/// The HTML of a message of plain words, as the renderer makes it, without
/// parsing: a paragraph of the text itself. It is one line that starts with
/// a letter (not a list number or any block marker), ends with a letter or
/// digit (no trailing space), and holds only letters, digits, spaces and
/// punctuation that means nothing to Markdown, to links (no `:` or `@`) or
/// to HTML (nothing to escape). Most chat lines are such; parsing and
/// sanitising one was most of the time between receiving a message and
/// queueing it.
fn plain_words(source: &str) -> Option<String> {
    is_plain_words(source).then(|| format!("<p>{source}</p>\n"))
}

/// Whether `source` is plain words, which Markdown shows as they are (see
/// [`plain_words`]).
fn is_plain_words(source: &str) -> bool {
    let (Some(first), Some(last)) = (source.chars().next(), source.chars().next_back()) else { return false };
    let inner = |c: char| {
        c.is_alphanumeric() || matches!(c, ' ' | ',' | '.' | '?' | '!' | '\'' | '"' | '#' | '-' | '(' | ')' | ';')
    };
    first.is_alphabetic() && last.is_alphanumeric() && source.chars().all(inner)
}

/// How many characters of its newest message a room list's entry keeps.
pub const PREVIEW_CHARS: usize = 200;

/// [`plain_text`] of `source` on one line (each run of white space one
/// space), at most `max` characters, an ellipsis marking a cut: what a room
/// list's preview and a push notification show of a message. Only the
/// source's first `4 * max` characters are read, so a long message costs no
/// more than a short one (markup left open at that cut shows as written).
pub fn one_line(source: &str, max: usize) -> String {
    let head = source.char_indices().nth(4 * max).map_or(source, |(at, _)| &source[..at]);
    crate::model::cut_line(&plain_text(head), max)
}

/// What a list shows of a message on one line (a room list's preview, a
/// push): [`one_line`], or "Attachment" for a message of files alone (the
/// only kind whose text may be empty).
pub fn listed_line(source: &str, max: usize) -> String {
    let line = one_line(source, max);
    if line.is_empty() { "Attachment".to_owned() } else { line }
}

/// The text a message's Markdown `source` shows, without its markup: what a
/// search hit shows, so that "**deploy** at `10:00`" reads "deploy at
/// 10:00". Emphasis, code spans and link targets go (a link keeps its
/// text); raw HTML stays, as text, as [`render`] shows it; a heading keeps
/// its `#`s, as it does there. Each block (paragraph, list item, quote, code
/// block) and each line break starts a new line.
pub fn plain_text(source: &str) -> String {
    if is_plain_words(source) {
        return source.to_owned();
    }
    fn new_line(out: &mut String) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let mut out = String::with_capacity(source.len());
    for event in Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Heading { level, .. }) => {
                new_line(&mut out);
                out.push_str(&"#".repeat(level as usize));
                out.push(' ');
            }
            Event::Start(Tag::Item) => new_line(&mut out),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::Item
                | TagEnd::BlockQuote(_),
            ) => new_line(&mut out),
            _ => {}
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// The first web link the message shows (a Markdown link or a bare URL,
/// not one inside code), as [`render`] makes it: what a link preview is
/// fetched for. `None` when there is no `http`/`https` link.
pub fn first_link(source: &str) -> Option<String> {
    rewrite(source, false).into_iter().find_map(|event| match event {
        Event::Start(Tag::Link { dest_url, .. })
            if dest_url.starts_with("https://") || dest_url.starts_with("http://") =>
        {
            Some(dest_url.into_string())
        }
        _ => None,
    })
}

/// Only what [`render`] makes survives: these tags, `href`/`title` on links
/// to safe schemes, the code block's language label and the highlighter's
/// classes.
pub fn sanitise(html: &str) -> String {
    static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        let mut builder = ammonia::Builder::empty();
        builder
            .add_tags([
                "p",
                "br",
                "em",
                "strong",
                "del",
                "code",
                "pre",
                "blockquote",
                "ul",
                "ol",
                "li",
                "a",
                "span",
                "hr",
            ])
            .add_tag_attributes("a", ["href", "title"])
            .add_tag_attributes("pre", ["data-lang"])
            .add_tag_attributes("ol", ["start"])
            .add_allowed_classes("span", HIGHLIGHT_CLASSES)
            .add_allowed_classes("span", ["mention"])
            .url_schemes(["http", "https", "mailto"].into())
            .link_rel(Some("noopener noreferrer nofollow"))
            .set_tag_attribute_value("a", "target", "_blank");
        builder
    });
    CLEANER.clean(html).to_string()
}

/// The classes the highlighter puts on `<span>`s.
pub const HIGHLIGHT_CLASSES: [&str; 4] = ["hl-k", "hl-s", "hl-c", "hl-n"];

/// Parses `source` and turns the events into the chat subset (see the
/// module doc). Adjacent text is merged first: the parser hands over a run
/// of `_` or `*` that opens no emphasis as text of its own, and a name
/// (`@bob_`) is found in the whole run, not cut before it.
fn rewrite(source: &str, mentions: bool) -> Vec<Event<'_>> {
    let parser = TextMergeStream::new(Parser::new_ext(source, Options::ENABLE_STRIKETHROUGH));
    let mut out = Vec::new();
    // For each open tag: whether it was kept (see NEST_MAX).
    let mut open: Vec<bool> = Vec::new();
    let mut in_link = 0usize;
    let mut code: Option<(String, String)> = None;
    for event in parser {
        if let Some((lang, text)) = code.as_mut() {
            match event {
                Event::End(TagEnd::CodeBlock) => {
                    out.push(Event::Html(CowStr::from(code_block(lang, text))));
                    code = None;
                }
                Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) | Event::Code(t) => text.push_str(&t),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => language(&info),
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            Event::Start(tag) => {
                let kept = open.iter().filter(|k| **k).count() < NEST_MAX;
                open.push(kept);
                let tag = match tag {
                    Tag::Heading { level, .. } => {
                        if kept {
                            out.push(Event::Start(Tag::Paragraph));
                        }
                        out.push(Event::Text(CowStr::from(format!("{} ", "#".repeat(level as usize)))));
                        continue;
                    }
                    Tag::HtmlBlock => Tag::Paragraph,
                    Tag::Image { dest_url, title, .. } => {
                        Tag::Link { link_type: LinkType::Inline, dest_url, title, id: CowStr::Borrowed("") }
                    }
                    other => other,
                };
                if matches!(tag, Tag::Link { .. }) {
                    in_link += 1;
                }
                if kept {
                    out.push(Event::Start(tag));
                }
            }
            Event::End(end) => {
                let kept = open.pop().unwrap_or(false);
                let end = match end {
                    TagEnd::Heading(_) | TagEnd::HtmlBlock => TagEnd::Paragraph,
                    TagEnd::Image => TagEnd::Link,
                    other => other,
                };
                if end == TagEnd::Link {
                    in_link = in_link.saturating_sub(1);
                }
                if kept {
                    out.push(Event::End(end));
                }
            }
            // Raw HTML is text: shown, never interpreted.
            Event::Html(raw) | Event::InlineHtml(raw) => out.push(Event::Text(raw)),
            Event::SoftBreak => out.push(Event::HardBreak),
            Event::Text(text) if in_link == 0 => linkify_into(&mut out, text, mentions),
            other => out.push(other),
        }
    }
    if let Some((lang, text)) = code {
        out.push(Event::Html(CowStr::from(code_block(&lang, &text))));
    }
    out
}

/// A text run with its bare URLs (and email addresses) made links.
fn linkify_into<'a>(out: &mut Vec<Event<'a>>, text: CowStr<'a>, mentions: bool) {
    let finder = linkify::LinkFinder::new();
    let mut links = finder.links(&text).peekable();
    if links.peek().is_none() {
        mentions_into(out, text, mentions);
        return;
    }
    let mut last = 0;
    for link in links {
        if link.start() > last {
            mentions_into(out, CowStr::from(text[last..link.start()].to_owned()), mentions);
        }
        let shown = link.as_str().to_owned();
        let href = match link.kind() {
            linkify::LinkKind::Email => format!("mailto:{shown}"),
            _ => shown.clone(),
        };
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Autolink,
            dest_url: CowStr::from(href),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        out.push(Event::Text(CowStr::from(shown)));
        out.push(Event::End(TagEnd::Link));
        last = link.end();
    }
    if last < text.len() {
        mentions_into(out, CowStr::from(text[last..].to_owned()), mentions);
    }
}

/// A text run with its `@name` tokens marked (when `mentions`); the markup
/// is made here, the names stay text (escaped by the HTML writer).
fn mentions_into<'a>(out: &mut Vec<Event<'a>>, text: CowStr<'a>, mentions: bool) {
    let spans = if mentions { crate::mentions::spans(&text) } else { Vec::new() };
    if spans.is_empty() {
        out.push(Event::Text(text));
        return;
    }
    let mut last = 0;
    for (start, end) in spans {
        if start > last {
            out.push(Event::Text(CowStr::from(text[last..start].to_owned())));
        }
        out.push(Event::InlineHtml(CowStr::Borrowed("<span class=\"mention\">")));
        out.push(Event::Text(CowStr::from(text[start..end].to_owned())));
        out.push(Event::InlineHtml(CowStr::Borrowed("</span>")));
        last = end;
    }
    if last < text.len() {
        out.push(Event::Text(CowStr::from(text[last..].to_owned())));
    }
}

/// A fence's language label: its first word, lowercased, at most 20 of
/// `[a-z0-9+#._-]`.
fn language(info: &str) -> String {
    info.split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+#._-".contains(*c))
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `<pre data-lang="…"><code>…</code></pre>`, highlighted when the language
/// is known.
fn code_block(lang: &str, text: &str) -> String {
    let label = if lang.is_empty() { String::new() } else { format!(" data-lang=\"{}\"", escape(lang)) };
    format!("<pre{label}><code>{}</code></pre>", highlight(lang, text))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// What the lexer knows of a language.
struct Grammar {
    keywords: &'static [&'static str],
    line_comment: &'static [&'static str],
    block_comment: bool,
    quotes: &'static [char],
}

const C_LIKE: &[&str] = &[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "do",
    "else",
    "enum",
    "extends",
    "false",
    "finally",
    "for",
    "if",
    "import",
    "interface",
    "new",
    "null",
    "private",
    "public",
    "return",
    "static",
    "struct",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "void",
    "while",
];

fn grammar(lang: &str) -> Option<Grammar> {
    let g =
        |keywords, line_comment, block_comment, quotes| Some(Grammar { keywords, line_comment, block_comment, quotes });
    match lang {
        "rust" | "rs" => g(
            &[
                "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "false", "fn",
                "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
                "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
                "while",
            ],
            &["//"],
            true,
            &['"'],
        ),
        "js" | "javascript" | "ts" | "typescript" | "jsx" | "tsx" => g(
            &[
                "async",
                "await",
                "break",
                "case",
                "catch",
                "class",
                "const",
                "continue",
                "default",
                "delete",
                "do",
                "else",
                "export",
                "extends",
                "false",
                "finally",
                "for",
                "from",
                "function",
                "if",
                "import",
                "in",
                "instanceof",
                "let",
                "new",
                "null",
                "of",
                "return",
                "switch",
                "this",
                "throw",
                "true",
                "try",
                "typeof",
                "undefined",
                "var",
                "void",
                "while",
                "yield",
                "interface",
                "type",
            ],
            &["//"],
            true,
            &['"', '\'', '`'],
        ),
        "python" | "py" => g(
            &[
                "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
                "except", "False", "finally", "for", "from", "if", "import", "in", "is", "lambda", "None", "not", "or",
                "pass", "raise", "return", "True", "try", "while", "with", "yield",
            ],
            &["#"],
            false,
            &['"', '\''],
        ),
        "go" | "golang" => g(
            &[
                "break",
                "case",
                "chan",
                "const",
                "continue",
                "default",
                "defer",
                "else",
                "false",
                "for",
                "func",
                "go",
                "if",
                "import",
                "interface",
                "map",
                "nil",
                "package",
                "range",
                "return",
                "select",
                "struct",
                "switch",
                "true",
                "type",
                "var",
            ],
            &["//"],
            true,
            &['"', '`'],
        ),
        "sql" => g(
            &[
                "select",
                "from",
                "where",
                "insert",
                "into",
                "values",
                "update",
                "set",
                "delete",
                "create",
                "table",
                "index",
                "on",
                "join",
                "left",
                "inner",
                "and",
                "or",
                "not",
                "null",
                "as",
                "order",
                "by",
                "group",
                "limit",
                "returning",
                "begin",
                "commit",
                "SELECT",
                "FROM",
                "WHERE",
                "INSERT",
                "INTO",
                "VALUES",
                "UPDATE",
                "SET",
                "DELETE",
                "CREATE",
                "TABLE",
                "INDEX",
                "ON",
                "JOIN",
                "LEFT",
                "INNER",
                "AND",
                "OR",
                "NOT",
                "NULL",
                "AS",
                "ORDER",
                "BY",
                "GROUP",
                "LIMIT",
                "RETURNING",
                "BEGIN",
                "COMMIT",
            ],
            &["--"],
            true,
            &['\''],
        ),
        "sh" | "bash" | "shell" | "zsh" | "console" => g(
            &[
                "if", "then", "else", "elif", "fi", "for", "in", "do", "done", "case", "esac", "while", "function",
                "export", "local", "return",
            ],
            &["#"],
            false,
            &['"', '\''],
        ),
        "c" | "cpp" | "c++" | "h" | "java" | "kotlin" | "cs" | "c#" | "swift" => g(C_LIKE, &["//"], true, &['"', '\'']),
        "json" => g(&["true", "false", "null"], &[], false, &['"']),
        "toml" | "yaml" | "yml" | "ruby" | "rb" => g(
            &["true", "false", "nil", "null", "def", "end", "class", "module", "if", "else", "do"],
            &["#"],
            false,
            &['"', '\''],
        ),
        _ => None,
    }
}

/// A code block's text as HTML: escaped, and for a known language with its
/// keywords, strings, comments and numbers in `<span class="hl-k|s|c|n">`.
/// One pass over the text; a string or comment left open runs to the end of
/// its line (a string) or of the block (a block comment).
pub fn highlight(lang: &str, text: &str) -> String {
    let Some(grammar) = grammar(lang) else {
        return escape(text);
    };
    let mut out = String::with_capacity(text.len() * 2);
    let span = |out: &mut String, class: &str, piece: &str| {
        out.push_str("<span class=\"");
        out.push_str(class);
        out.push_str("\">");
        escape_into(out, piece);
        out.push_str("</span>");
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if grammar.line_comment.iter().any(|m| rest.starts_with(*m)) {
            let end = rest.find('\n').unwrap_or(rest.len());
            span(&mut out, "hl-c", &rest[..end]);
            i += end;
            continue;
        }
        if grammar.block_comment && rest.starts_with("/*") {
            let end = rest[2..].find("*/").map_or(rest.len(), |e| e + 4);
            span(&mut out, "hl-c", &rest[..end]);
            i += end;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if grammar.quotes.contains(&c) {
            let quote = c.len_utf8();
            let mut end = rest.len();
            let mut escaped = false;
            for (at, ch) in rest[quote..].char_indices() {
                let here = quote + at;
                if ch == '\n' && c != '`' {
                    end = here;
                    break;
                }
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == c {
                    end = here + ch.len_utf8();
                    break;
                }
            }
            span(&mut out, "hl-s", &rest[..end]);
            i += end;
            continue;
        }
        let word_before = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if c.is_ascii_digit() && !word_before {
            let end =
                rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '.')).unwrap_or(rest.len());
            span(&mut out, "hl-n", &rest[..end]);
            i += end;
            continue;
        }
        if (c.is_ascii_alphabetic() || c == '_') && !word_before {
            let end = rest.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(rest.len());
            let word = &rest[..end];
            if grammar.keywords.contains(&word) {
                span(&mut out, "hl-k", word);
            } else {
                escape_into(&mut out, word);
            }
            i += end;
            continue;
        }
        escape_into(&mut out, &rest[..c.len_utf8()]);
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_is_the_start_of_the_text_with_a_cut_marked() {
        assert_eq!(one_line("**Deploy** at `10:00`\n\n- one\n- two", 200), "Deploy at 10:00 one two");
        assert_eq!(one_line("plain words", 200), "plain words");
        assert_eq!(one_line("exactly five", 12), "exactly five", "no cut at exactly max");
        assert_eq!(one_line("exactly five!", 12), "exactly fiv…");
        let long = format!("_{}_ {}", "a".repeat(150), "b ".repeat(5_000));
        let shown = one_line(&long, 200);
        assert_eq!(shown.chars().count(), 200);
        assert!(shown.starts_with(&format!("{} b b", "a".repeat(150))) && shown.ends_with('…'), "{shown}");
        assert_eq!(one_line(&"é".repeat(10_000), 200).chars().count(), 200, "cut on characters");
    }

    #[test]
    fn a_message_of_files_alone_is_listed_as_an_attachment() {
        assert_eq!(listed_line("", 200), "Attachment");
        assert_eq!(listed_line("  \n ", 200), "Attachment");
        assert_eq!(listed_line("**see** the file", 200), "see the file");
    }

    #[test]
    fn plain_text_is_what_the_markdown_shows_without_its_markup() {
        let cases = [
            ("plain words stay as they are", "plain words stay as they are"),
            ("**deploy** at `10:00`, _please_ ~~now~~", "deploy at 10:00, please now"),
            ("see [the docs](https://example.com/docs) or https://example.com", "see the docs or https://example.com"),
            ("> quoted\n\n- one\n- two\n\n1. first", "quoted\none\ntwo\nfirst"),
            ("```rust\nfn main() {}\n```\nafter", "fn main() {}\nafter"),
            ("line one\nline two", "line one\nline two"),
            ("# not a heading here", "# not a heading here"),
            ("<b>inert</b> & 2 * 3 * 4", "<b>inert</b> & 2 * 3 * 4"),
            ("2*3*4", "234"),
            ("a \\*literal\\* star", "a *literal* star"),
            ("", ""),
        ];
        for (source, text) in cases {
            assert_eq!(plain_text(source), text, "{source:?}");
        }
    }

    #[test]
    fn plain_words_render_as_the_parser_renders_them_and_anything_else_is_parsed() {
        // Arrange: random lines over an alphabet of the accepted characters
        // and some that must send a line to the parser.
        let alphabet: Vec<char> = "aZé9 ,.?!'\"#-();x1 ".chars().chain("*_`[]<>&:@~|\\\n+=\u{a0}\t".chars()).collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut lines: Vec<String> = ["hello world", "Launch at 9", "what's up? (soon) #s12 #t34", "a  b", "é1", "x"]
            .map(str::to_owned)
            .to_vec();
        for _ in 0..40_000 {
            let len = 1 + next(24);
            // Mostly accepted characters, so that most lines take the fast path.
            lines.push(
                (0..len).map(|_| alphabet[if next(16) == 0 { next(alphabet.len()) } else { next(19) }]).collect(),
            );
        }

        // Act
        let fast: Vec<(&String, Option<String>)> = lines.iter().map(|line| (line, plain_words(line))).collect();

        // Assert
        let taken = fast.iter().filter(|(_, html)| html.is_some()).count();
        assert!(taken > 1_000, "the fast path is exercised: {taken}");
        for (line, html) in &fast {
            if let Some(html) = html {
                assert_eq!(html, &parsed(line, true), "{line:?}");
            }
        }
        for line in ["1. one", "- item", "# title", "a *b*", "a <b>", "x@example.com", "see http://a.b", "a  "] {
            assert!(plain_words(line).is_none(), "{line:?} is parsed");
        }
    }

    /// Every attribute name in `html` (a crude scan of the sanitised output,
    /// whose shape ammonia fixes: `name="value"` inside tags).
    fn attributes(html: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            let Some(close) = rest[open..].find('>') else { break };
            let tag = &rest[open + 1..open + close];
            let mut inside = false;
            let mut name = String::new();
            for c in tag.chars() {
                match c {
                    '"' => inside = !inside,
                    '=' if !inside => names.push(std::mem::take(&mut name).trim().to_owned()),
                    ' ' if !inside => name.clear(),
                    c if !inside => name.push(c),
                    _ => {}
                }
            }
            rest = &rest[open + close + 1..];
        }
        names
    }

    #[test]
    fn a_message_that_mentions_someone_marks_its_at_names_outside_code_links_and_emails() {
        assert_eq!(
            render_message("hi @Bob, **@ann** and `@code` or ann@example.com", true),
            "<p>hi <span class=\"mention\">@Bob</span>, <strong><span class=\"mention\">@ann</span></strong> and \
             <code>@code</code> or <a href=\"mailto:ann@example.com\" target=\"_blank\" \
             rel=\"noopener noreferrer nofollow\">ann@example.com</a></p>\n"
        );
        assert_eq!(render_message("hi @bob", false), "<p>hi @bob</p>\n", "no stored mention, nothing marked");
        assert_eq!(render("hi @bob"), "<p>hi @bob</p>\n");
        // A name is text: markup in or after it stays inert.
        assert_eq!(
            render_message("@bob<script>x</script> @e\"vil", true),
            "<p><span class=\"mention\">@bob</span>&lt;script&gt;x&lt;/script&gt; <span class=\"mention\">@e</span>\"vil</p>\n"
        );
        assert_eq!(
            render_message("see https://x.example/@bob then @ann", true),
            "<p>see <a href=\"https://x.example/@bob\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">\
             https://x.example/@bob</a> then <span class=\"mention\">@ann</span></p>\n"
        );
    }

    #[test]
    fn a_name_or_a_link_ending_in_underscores_is_one_text_run_not_cut_before_them() {
        // The parser hands a trailing `_` run that opens no emphasis over
        // as text of its own; a name is found in the run they make up.
        assert_eq!(
            render_message("@bob_ hi @ann_b_c. @c__", true),
            "<p><span class=\"mention\">@bob_</span> hi <span class=\"mention\">@ann_b_c</span>. <span class=\"mention\">@c__</span></p>\n"
        );
        assert_eq!(
            render("see https://x.example/a_b_c_d and _this_"),
            "<p>see <a href=\"https://x.example/a_b_c_d\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">\
             https://x.example/a_b_c_d</a> and <em>this</em></p>\n"
        );
        assert_eq!(first_link("go to https://x.example/a_b_c now"), Some("https://x.example/a_b_c".into()));
        assert_eq!(first_link("go to https://x.example/v__ now"), Some("https://x.example/v__".into()));
    }

    #[test]
    fn the_first_web_link_is_the_first_shown_outside_code() {
        assert_eq!(first_link("no links here"), None);
        assert_eq!(
            first_link("`https://in.code/` then https://bare.example/a?b=1 and https://second.example/"),
            Some("https://bare.example/a?b=1".into())
        );
        assert_eq!(
            first_link("see [the notes](http://notes.example/x) or https://later.example/"),
            Some("http://notes.example/x".into())
        );
        assert_eq!(first_link("```\nhttps://in.block/\n```\nmail me@example.com"), None);
        assert_eq!(first_link("[x](javascript:alert(1)) [y](ftp://files.example/)"), None);
    }

    #[test]
    fn the_chat_subset_renders_emphasis_code_lists_quotes_and_links() {
        assert_eq!(
            render("*hi* **there** ~~no~~ `x<y`"),
            "<p><em>hi</em> <strong>there</strong> <del>no</del> <code>x&lt;y</code></p>\n"
        );
        assert_eq!(render("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
        assert_eq!(render("3. c"), "<ol start=\"3\">\n<li>c</li>\n</ol>\n");
        assert_eq!(render("> quoted"), "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
        assert_eq!(
            render("[docs](https://example.com/a?b=1&c=2)"),
            "<p><a href=\"https://example.com/a?b=1&amp;c=2\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">docs</a></p>\n"
        );
    }

    #[test]
    fn bare_urls_become_links_but_not_inside_code_or_links() {
        assert_eq!(
            render("see https://example.com/x now"),
            "<p>see <a href=\"https://example.com/x\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">https://example.com/x</a> now</p>\n"
        );
        assert_eq!(render("`https://example.com`"), "<p><code>https://example.com</code></p>\n");
        assert_eq!(render("[https://a.example](https://b.example)").matches("<a ").count(), 1);
    }

    #[test]
    fn headings_and_images_are_not_formatting() {
        assert_eq!(render("# Big"), "<p># Big</p>\n");
        assert_eq!(render("### three"), "<p>### three</p>\n");
        let image = render("![cat](https://example.com/cat.png)");
        assert!(!image.contains("<img"), "{image}");
        assert!(image.contains("<a href=\"https://example.com/cat.png\""), "{image}");
    }

    #[test]
    fn plain_text_with_stars_and_line_breaks_stays_text() {
        assert_eq!(render("2 * 3 * 4"), "<p>2 * 3 * 4</p>\n");
        assert_eq!(render("one\ntwo"), "<p>one<br>\ntwo</p>\n");
    }

    #[test]
    fn raw_html_is_shown_as_text_never_run() {
        let html = render("<script>alert(1)</script>");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        let inline = render("hi <img src=x onerror=alert(1)> there");
        assert!(!inline.contains("<img"), "{inline}");
        assert!(inline.contains("&lt;img src=x onerror=alert(1)&gt;"), "{inline}");
        assert!(attributes(&inline).is_empty(), "{inline}");
    }

    #[test]
    fn javascript_and_data_links_lose_their_target() {
        for source in [
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](java\tscript:alert(1))",
            "[click](jav&#x61;script:alert(1))",
            "<javascript:alert(1)>",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "![x](data:image/svg+xml,<svg onload=alert(1)>)",
            "[click](vbscript:msgbox(1))",
        ] {
            let html = render(source);
            assert!(!html.to_ascii_lowercase().contains("href=\"javascript"), "{source} → {html}");
            assert!(!html.to_ascii_lowercase().contains("href=\"data"), "{source} → {html}");
            assert!(!html.to_ascii_lowercase().contains("href=\"vbscript"), "{source} → {html}");
            assert!(!html.contains("<svg"), "{source} → {html}");
        }
    }

    #[test]
    fn attributes_cannot_be_injected_through_links_titles_or_code_labels() {
        for source in [
            "[x](https://a.example/\"onmouseover=\"alert(1))",
            "[x](https://a.example \"t\" onmouseover=\"alert(1)\")",
            "[x](<https://a.example/\" onclick=\"alert(1)>)",
            "```rust\" onmouseover=\"alert(1)\nfn main() {}\n```",
            "```<script>\nx\n```",
            "<a href=\"https://a.example\" onclick=\"alert(1)\">x</a>",
        ] {
            let html = render(source);
            for name in attributes(&html) {
                assert!(
                    ["href", "title", "rel", "target", "data-lang", "class", "start"].contains(&name.as_str()),
                    "{name} in {html}"
                );
            }
            assert!(!html.contains("<script"), "{html}");
        }
    }

    #[test]
    fn the_sanitiser_alone_strips_what_the_renderer_never_makes() {
        let dirty = "<p onclick=\"x()\" style=\"color:red\">a</p><span class=\"hl-k evil\">k</span>\
                     <a href=\"javascript:x()\">j</a><iframe src=\"https://a\"></iframe><img src=x onerror=y()>";
        let clean = sanitise(dirty);
        assert_eq!(
            clean,
            "<p>a</p><span class=\"hl-k\">k</span><a target=\"_blank\" rel=\"noopener noreferrer nofollow\">j</a>"
        );
    }

    #[test]
    fn code_blocks_carry_their_language_and_known_languages_are_highlighted() {
        let html = render("```rust\nfn main() { let x = \"hi\"; // note\n  42 }\n```");
        assert_eq!(
            html,
            "<pre data-lang=\"rust\"><code><span class=\"hl-k\">fn</span> main() { <span class=\"hl-k\">let</span> x = \
             <span class=\"hl-s\">\"hi\"</span>; <span class=\"hl-c\">// note</span>\n  <span class=\"hl-n\">42</span> }\n</code></pre>"
        );
        let unknown = render("```brainfuck\n<+>\n```");
        assert_eq!(unknown, "<pre data-lang=\"brainfuck\"><code>&lt;+&gt;\n</code></pre>");
        let plain = render("    indented <b>\n");
        assert_eq!(plain, "<pre><code>indented &lt;b&gt;\n</code></pre>");
    }

    #[test]
    fn the_highlighter_survives_open_strings_comments_and_any_text() {
        assert_eq!(highlight("js", "'open\nx"), "<span class=\"hl-s\">&#39;open</span>\nx");
        assert_eq!(highlight("c", "/* open"), "<span class=\"hl-c\">/* open</span>");
        assert_eq!(highlight("py", "s = \"a\\\"b\""), "s = <span class=\"hl-s\">&quot;a\\&quot;b&quot;</span>");
        assert_eq!(highlight("rust", "x1 é \"ü"), "x1 é <span class=\"hl-s\">&quot;ü</span>");
        for lang in ["rust", "js", "py", "go", "sql", "sh", "c", "json", "yaml", "none"] {
            for text in ["\"", "'", "`", "/*", "//", "#", "--", "9", "a\\", "\"\\", "'\\\n"] {
                let _ = highlight(lang, text);
            }
        }
    }

    #[test]
    fn deep_nesting_is_capped_and_cheap() {
        let quotes = ">".repeat(5_000) + " deep";
        let html = render(&quotes);
        assert!(html.matches("<blockquote>").count() <= NEST_MAX, "{}", html.len());
        assert!(html.contains("deep"));
        let stars = "*".repeat(5_000) + "x" + &"*".repeat(5_000);
        let html = render(&stars);
        assert!(html.matches("<em>").count() + html.matches("<strong>").count() <= NEST_MAX);
        let lists = "- ".repeat(3_000) + "x";
        assert!(render(&lists).matches("<ul>").count() <= NEST_MAX);
    }
}
