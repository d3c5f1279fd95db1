"""The briefing book as HTML: self-contained, escaped by construction, every fact footnoted to
the exact passage of its article, languages marked."""

import re
from html.parser import HTMLParser

import pytest

from briefings.book import render_book
from briefings.dossier import Citation, Visit
from briefings.knowledge import known_articles
from briefings.languages import LANGS, Lang
from briefings.library import Library

from ..conftest import APRIL, AUGUST, DURING


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _book(library: Library, visit_id: str, lang: Lang) -> tuple[Visit, str, _Page]:
    visit = library.visit(visit_id)
    assert visit is not None
    known = known_articles(library.articles, DURING)
    html = render_book(
        visit, library.partnership_of(visit), library.articles, DURING, lang, known=known
    ).decode()
    page = _Page()
    page.feed(html)
    return visit, html, page


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("visit_id", [AUGUST, APRIL])
def test_the_book_is_one_self_contained_page(library: Library, visit_id: str, lang: Lang) -> None:
    visit, html, page = _book(library, visit_id, lang)
    tags = [t for t, _ in page.tags]
    assert page.tags[0] == ("html", {"lang": lang})
    for tag in ("script", "link", "img", "iframe", "object"):
        assert tag not in tags
    # Links stay in the page; the only URL is the SVG namespace.
    hrefs = [a.get("href") or "" for t, a in page.tags if t == "a"]
    assert hrefs
    assert all(h.startswith("#") for h in hrefs)
    assert re.findall(r"https?://[^\s\"']+", html) == ["http://www.w3.org/2000/svg"]
    assert "@import" not in html
    assert "url(" not in html
    # Landmarks and headings a screen reader can follow.
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in tags
    assert tags.count("h1") == 1
    assert "svg" in tags
    assert "@page" in html
    assert "size: A4" in html
    assert visit.title(lang) in "".join(page.text)


def _all_cites(visit: Visit) -> list[Citation]:
    cites = [*visit.dates_cite, *visit.purpose.cite]
    cites += [c for e in visit.programme for c in e.cite]
    cites += [c for p in visit.people for c in p.cite]
    cites += [c for s in (*visit.background, *visit.open_questions) for c in s.cite]
    return cites


def test_every_citation_is_a_footnote_quoting_its_passage(library: Library) -> None:
    visit, _, page = _book(library, AUGUST, "en")
    notes = {
        a["id"]: n
        for n, (t, a) in enumerate(page.tags)
        if t == "li" and (a.get("id") or "").startswith("fn-")
    }
    quoted = [a.get("lang") for t, a in page.tags if t == "q"]
    assert len(quoted) == len(notes) > 0
    text = " ".join(" ".join(page.text).split())
    for cite in _all_cites(visit):
        assert " ".join(cite.quote.split()) in text, cite
    # Each quote carries its article's language; the Korean article's passages are Korean.
    assert set(quoted) == {library.articles[a].language for a in visit.articles}
    marks = {a.get("href") for t, a in page.tags if t == "a" and "fn" in (a.get("href") or "")}
    assert {f"#{i}" for i in notes} == marks


def test_names_in_both_scripts_are_marked_with_their_language(library: Library) -> None:
    _, html, _ = _book(library, AUGUST, "it")
    assert '<span lang="ko">강기정</span>' in html
    assert '<span lang="it">Stefano Lo Russo</span>' in html


def test_dossier_text_is_escaped_by_autoescaping(library: Library) -> None:
    visit = library.visit(AUGUST)
    assert visit is not None
    hostile = visit.model_copy(
        update={"title": visit.title.model_copy(update={"en": "<script>alert(1)</script> & co"})}
    )
    known = known_articles(library.articles, DURING)
    html = render_book(
        hostile, library.partnership_of(visit), library.articles, DURING, "en", known=known
    ).decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
