"""The article's lead (standfirst) put back in front of the body (workers/pipeline/extract/lead.py), and lists
of links dropped before extraction (body.py).
Small pages written for these tests; no ../shared."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from trafilatura.utils import load_html

from workers.core.ids import document_id
from workers.core.models import FeedItem, FetchedPage
from workers.pipeline.extract.article import extract_article
from workers.pipeline.extract.body import drop_link_lists
from workers.pipeline.extract.lead import find_leads, with_lead
from workers.settings import Settings

LEAD = "Die Stadt baut die alte Hafenmauer wieder auf. Der Rat stimmte am Dienstag mit großer Mehrheit dafür."
FIRST = ("Der Stadtrat hat am Dienstag beschlossen, die alte Hafenmauer wieder aufzubauen, die im letzten Winter "
         "bei den Stürmen schwer beschädigt wurde.")
SECOND = "Die Arbeiten beginnen im Mai und sollen bis zum Herbst dauern, sagte die Bürgermeisterin am Abend."
BODY = f"{FIRST}\n{SECOND}"


def tree(between: str, head: str = "") -> object:
    return load_html(f"<html><head>{head}</head><body><header><h1>Hafenmauer wird neu gebaut</h1>{between}"
                     f"</header><div class='text'><p>{FIRST}</p><p>{SECOND}</p></div></body></html>")


def test_a_block_marked_as_the_lead_goes_in_front() -> None:
    page = tree(f'<div class="article-teaser"><p>{LEAD}</p></div><span>Von Anna Muster</span>')
    assert find_leads(page, BODY, []) == [LEAD]
    assert with_lead(page, BODY, []).splitlines() == [LEAD, FIRST, SECOND]


def test_an_unmarked_block_is_the_lead_when_the_page_describes_itself_with_it() -> None:
    page = tree(f"<p>{LEAD}</p>")
    assert find_leads(page, BODY, []) == []  # unmarked prose above the body may be anything
    assert find_leads(page, BODY, [LEAD]) == [LEAD]
    assert find_leads(page, BODY, [LEAD[:70] + "..."]) == [LEAD]  # a description cut short


def test_captions_links_bylines_and_text_the_body_holds_are_no_lead() -> None:
    caption = "Die beschädigte Hafenmauer nach dem Sturm im Januar, aufgenommen vom Leuchtturm aus. Foto: Archiv"
    page = tree(f'<figure><img src="a.jpg"><figcaption class="lead">{caption}</figcaption></figure>'
                f'<p class="image-caption intro">{caption}</p>'
                f'<ul class="teaser"><li><a href="/a">{LEAD}</a></li></ul>'
                f'<p class="lead byline">{LEAD}</p>')
    assert find_leads(page, BODY, [caption, LEAD]) == []
    held = tree(f'<p class="lead">{FIRST}</p>')
    assert find_leads(held, BODY, []) == []


def test_no_lead_when_the_body_does_not_start_near_the_headline() -> None:
    page = load_html(f"<html><body><h1>Hafenmauer</h1><p class='lead'>{LEAD}</p></body></html>")
    assert find_leads(page, BODY, []) == []  # the body's first paragraph is nowhere after the <h1>
    assert with_lead(page, "", []) == ""


def test_the_stage_puts_a_dropped_lead_first_and_never_twice(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>{FIRST} {n}</p>" for n in range(5))
    html = (f'<html lang="de"><head><meta name="description" content="{LEAD}"></head><body>'
            f'<h1>Hafenmauer wird neu gebaut</h1><div class="standfirst">{LEAD}</div>'
            f"<article>{paragraphs}</article></body></html>")
    url = "https://zeitung.example/politik/hafen"
    item = FeedItem(doc_id=document_id(url), url=url, feed_url="https://zeitung.example/rss")
    article = extract_article(FetchedPage(item=item, final_url=url, status=200, html=html,
                                          fetched_at=datetime(2024, 3, 1, tzinfo=UTC)),
                              Settings(data_dir=tmp_path), None)
    lines = article.body.splitlines()
    assert lines[0] == LEAD
    assert article.body.count(LEAD) == 1
    assert lines[1].startswith(FIRST)


def test_lists_of_links_leave_the_page_before_extraction_and_lists_that_say_things_stay(tmp_path: Path) -> None:
    steps = ["Die Mauer wird zuerst vermessen und dann Stein für Stein abgetragen.",
             "Im Sommer setzt eine Spezialfirma die Steine auf einem neuen Fundament wieder zusammen.",
             "Zum Schluss wird die Promenade um einen halben Meter erhöht und neu gepflastert."]
    related = ["Sturmflut trifft die Nordseeküste mit voller Wucht", "Neue Fähre für die Inseln bestellt",
               "Hafenfest fällt in diesem Jahr aus"]
    html = ('<html lang="de"><body><article><h1>Hafenmauer wird neu gebaut</h1>'
            + "".join(f"<p>{FIRST} {n}</p>" for n in range(3))
            + "<ul>" + "".join(f"<li>{step}</li>" for step in steps) + "</ul>"
            + f"<p>{SECOND}</p>"
            + "<ul>" + "".join(f'<li><a href="/{n}">{title}</a></li>' for n, title in enumerate(related))
            + "</ul></article></body></html>")
    url = "https://zeitung.example/politik/hafen"
    item = FeedItem(doc_id=document_id(url), url=url, feed_url="https://zeitung.example/rss")
    article = extract_article(FetchedPage(item=item, final_url=url, status=200, html=html,
                                          fetched_at=datetime(2024, 3, 1, tzinfo=UTC)),
                              Settings(data_dir=tmp_path), None)
    assert all(step in article.body for step in steps)
    assert not any(title in article.body for title in related)


def test_drop_link_lists_keeps_lists_that_say_things() -> None:
    page = load_html('<html><body><ul id="steps"><li>Vermessen, dann abtragen.</li><li>Neu <a href="/f">setzen</a>'
                     ' auf einem Fundament.</li></ul><ol id="more"><li><a href="/1">Sturmflut an der Küste</a></li>'
                     '<li><a href="/2">Neue Fähre</a> (2)</li><li>Hafenfest fällt aus</li>'
                     '<li><a href="/3">Leuchtturm saniert</a></li></ol><ul id="one"><li><a href="/4">x</a></li>'
                     "</ul></body></html>")
    drop_link_lists(page)
    assert [element.get("id") for element in page.iter("ul", "ol")] == ["steps", "one"]
