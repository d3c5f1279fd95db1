"""The Telegram HTML validator the dialect tests lean on: it must pass what Telegram accepts and
catch what Telegram refuses, or those tests prove nothing."""

import pytest

from tests.telegram_html import telegram_length, telegram_text, validate

VALID = [
    "",
    "plain text",
    "<b>bold</b> <strong>strong</strong> <i>i</i> <em>em</em> <u>u</u> <ins>ins</ins>",
    "<s>s</s> <strike>strike</strike> <del>del</del>",
    '<span class="tg-spoiler">spoiler</span> <tg-spoiler>spoiler</tg-spoiler>',
    '<a href="https://example.org/?a=1&amp;b=2">link</a>',
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    "<code>x &lt; y</code>",
    '<pre><code class="language-python">print("hi")</code></pre>',
    "<pre>preformatted</pre>",
    "<blockquote>quoted</blockquote> <blockquote expandable>more</blockquote>",
    "<b>bold <i>italic <u>underlined</u></i></b>",
    "&lt;b&gt; &amp; &quot; &#39; &#x1F600;",
    "<B>upper case</B>",
    "• “Meeting” [1][2]\n<i>Morning</i>: 강기정 👍",
]

INVALID = [
    "<script>alert(1)</script>",
    "<b>unclosed",
    "closed</b>",
    "<b><i></b></i>",
    "fish & chips",
    "&amp without semicolon",
    "&nbsp;",
    "&#0;",
    "&#xD800;",
    "1 < 2",
    "2 > 1",
    "<!channel>",
    "<@U123>",
    "<http://x|y>",
    "<!-- comment -->",
    "<div>block</div>",
    "<br/>",
    "</>",
    "</ b>",
    '<b class="x">attribute</b>',
    "<a>no href</a>",
    '<span class="other">x</span>',
    "<span>x</span>",
    "<tg-emoji>x</tg-emoji>",
    "<code><b>x</b></code>",
    "<pre><b>x</b></pre>",
    '<code class="language-py">standalone language</code>',
    "<blockquote><blockquote>x</blockquote></blockquote>",
    '<a href="a"><a href="b">x</a></a>',
    "<b",
    "trailing &",
    "trailing &x",
]


@pytest.mark.parametrize("html", VALID)
def test_accepts_what_telegram_accepts(html: str) -> None:
    assert validate(html) == []


@pytest.mark.parametrize("html", INVALID)
def test_refuses_what_telegram_refuses(html: str) -> None:
    assert validate(html), html


@pytest.mark.parametrize(
    "html",
    [
        "<b>",
        "<<<>>>",
        "&&&;;",
        "<a href=>",
        "<!",
        "<?x",
        "\x00<\x1e&",
        "<" * 1000,
        "&#99999999999;",
    ],
)
def test_never_raises(html: str) -> None:
    assert isinstance(validate(html), list)
    assert validate(html)


def test_crossed_tags_are_named() -> None:
    assert any("tags cross" in problem for problem in validate("<b><i></b></i>"))


@pytest.mark.parametrize(
    ("html", "text", "length"),
    [
        ("<b>ab</b>", "ab", 2),
        ("&lt;b&gt;", "<b>", 3),
        ("&amp;&quot;", '&"', 2),
        ("&#65;&#x42;", "AB", 2),
        # Outside the Basic Multilingual Plane a character is two UTF-16 code units.
        ("😀", "😀", 2),
        ("<i>&#x1F600;</i>", "😀", 2),
        ("강기정", "강기정", 3),
        ("a\nb", "a\nb", 3),
    ],
)
def test_length_is_counted_after_parsing_in_utf16(html: str, text: str, length: int) -> None:
    assert telegram_text(html) == text
    assert telegram_length(html) == length
