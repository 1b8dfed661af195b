"""What a page declares about its article, read whole and in any language: the JSON-LD reader, headlines
from the page's own statements, full timestamps with their offsets, bylines in several languages and
scripts, CJK dates and the JSON-LD articleBody. Small pages written for these tests; no ../shared."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from trafilatura.utils import load_html

from workers.core.ids import document_id
from workers.core.models import Article, DateSource, FeedItem, FetchedPage
from workers.pipeline.extract.article import extract_article
from workers.pipeline.extract.body import prefer_declared_body
from workers.pipeline.extract.bylines import body_byline, choose_authors, clean_name, emphasised_texts, own_names
from workers.pipeline.extract.headline import choose_headline, headline_candidates
from workers.pipeline.extract.jsonld import Person, read_jsonld
from workers.pipeline.extract.metadata import find_page_date
from workers.pipeline.extract.timestamps import find_page_timestamp, parse_timestamp
from workers.settings import Settings

PROSE = {
    "de": ("Der Stadtrat hat am Dienstag beschlossen, die alte Hafenmauer wieder aufzubauen, die im letzten "
           "Winter bei den Stürmen schwer beschädigt wurde, und die Promenade vor der nächsten Saison zu erhöhen."),
    "fr": ("Le conseil municipal a décidé mardi de reconstruire le vieux mur du port, gravement endommagé par "
           "les tempêtes de l'hiver dernier, et de rehausser la promenade avant le début de la prochaine saison."),
    "es": ("El ayuntamiento decidió el martes reconstruir el viejo muro del puerto, muy dañado por las "
           "tormentas del invierno pasado, y elevar el paseo marítimo antes de que empiece la próxima temporada."),
    "ru": ("Городской совет во вторник решил восстановить старую портовую стену, сильно пострадавшую от "
           "зимних штормов, и поднять набережную на полметра до начала следующего сезона отдыха."),
    "ja": ("市議会は火曜日、昨年の冬の嵐で大きな被害を受けた古い港の防波堤を再建し、次のシーズンが始まる前に"
           "遊歩道を半メートルかさ上げすることを決めた。工事は来月から始まる予定で、住民の期待が高まっている。"),
    "ar": ("قرر المجلس البلدي يوم الثلاثاء إعادة بناء جدار الميناء القديم الذي تضرر بشدة من عواصف الشتاء "
           "الماضي، ورفع الكورنيش نصف متر قبل بداية الموسم المقبل، على أن تبدأ الأعمال الشهر القادم."),
}


def page(head: str, body: str, lang: str = "de") -> str:
    return f'<html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def ld(obj: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj, ensure_ascii=False)}</script>'


def article_body(lang: str, headline: str, paragraphs: int = 4) -> str:
    return f"<article><h1>{headline}</h1>" + f"<p>{PROSE[lang]}</p>" * paragraphs + "</article>"


def extract(html: str, tmp_path: Path, url: str = "https://zeitung.example/politik/hafen") -> Article:
    item = FeedItem(doc_id=document_id(url), url=url, feed_url="https://zeitung.example/rss")
    return extract_article(FetchedPage(item=item, final_url=url, status=200, html=html,
                                       fetched_at=datetime(2024, 3, 1, tzinfo=UTC)), Settings(data_dir=tmp_path),
                           None)


# -- the JSON-LD reader --------------------------------------------------------------------------------


def test_jsonld_finds_the_article_in_a_graph_and_reads_author_shapes() -> None:
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Die Zeitung"},
        {"@type": "WebPage", "mainEntity": {
            "@type": ["NewsArticle"], "headline": "Hafenmauer wird &quot;neu&quot; gebaut",
            "datePublished": "2020-03-21T16:45:00+01:00",
            "author": [{"@type": "Person", "name": "Anna Schmidt"}, "Jörg Müller",
                       {"@type": "Organization", "name": "dpa"}, {"@type": "Person", "givenName": "Eva",
                                                                     "familyName": "Roth"}],
            "publisher": {"@type": "NewsMediaOrganization", "name": "Die Zeitung"}}}]}
    html = page('<script type="application/ld+json">{broken</script>' + ld(graph), "<p>x</p>")
    data = read_jsonld(load_html(html))
    assert data.headline == 'Hafenmauer wird "neu" gebaut'
    assert data.published == "2020-03-21T16:45:00+01:00"
    assert data.authors == [Person("Anna Schmidt", False), Person("Jörg Müller", False), Person("dpa", True),
                            Person("Eva Roth", False)]
    assert data.publishers[0] == "Die Zeitung"


def test_jsonld_absent_or_unreadable_gives_nothing() -> None:
    data = read_jsonld(load_html(page('<script type="application/ld+json">not json</script>', "<p>x</p>")))
    assert (data.headline, data.published, data.authors) == (None, None, [])


# -- headlines -----------------------------------------------------------------------------------------


def test_declared_headline_beats_the_title_and_its_site_suffix(tmp_path: Path) -> None:
    head = ('<title>Stadtrat beschließt Neubau – Hafen aktuell | Die Zeitung</title>'
            '<meta property="og:site_name" content="Die Zeitung">'
            '<meta property="og:title" content="Hafenmauer: Stadtrat beschließt Neubau">'
            + ld({"@type": "NewsArticle", "headline": "Hafenmauer: Stadtrat beschließt Neubau"}))
    article = extract(page(head, article_body("de", "HAFEN<br>Stadtrat beschließt Neubau")), tmp_path)
    assert article.title == "Hafenmauer: Stadtrat beschließt Neubau"


def test_og_title_without_its_site_name_when_no_jsonld() -> None:
    head = ('<title>港の防波堤を再建へ｜毎朝新聞</title>'
            '<meta property="og:title" content="港の防波堤を再建へ｜毎朝新聞">'
            '<meta property="og:site_name" content="毎朝新聞">')
    html = page(head, article_body("ja", "港の防波堤を再建へ"), "ja")
    tree = load_html(html)
    assert choose_headline(headline_candidates(tree, None), "毎朝新聞") == "港の防波堤を再建へ"


def test_without_declarations_the_agreeing_sources_win() -> None:
    candidates = {"h1": "Le mur du port sera reconstruit", "twitter": "Le mur du port sera reconstruit",
                  "title": "Accueil - Le Journal du Port"}
    assert choose_headline(candidates, "Le Journal du Port") == "Le mur du port sera reconstruit"
    assert choose_headline({}, None) is None


# -- timestamps ----------------------------------------------------------------------------------------


def test_a_page_only_article_keeps_its_time_and_offset(tmp_path: Path) -> None:
    """The issue's example: 2020-03-21T16:45:00+01:00 used to become 2020-03-21T00:00:00+00:00."""
    head = '<meta property="article:published_time" content="2020-03-21T16:45:00+01:00">'
    article = extract(page(head, article_body("de", "Hafenmauer")), tmp_path)
    assert article.published_at == datetime(2020, 3, 21, 16, 45, tzinfo=timezone(timedelta(hours=1)))
    assert article.published_at.utcoffset() == timedelta(hours=1)
    assert article.date_source is DateSource.PAGE
    assert json.loads(article.model_dump_json())["published_at"] == "2020-03-21T16:45:00+01:00"


def test_jsonld_date_before_meta_and_a_missing_offset_taken_from_the_same_time_elsewhere() -> None:
    head = ('<meta property="article:published_time" content="2021-06-01T08:00:00+03:00">'
            + ld({"@type": "NewsArticle", "datePublished": "2021-06-01 08:00:00.0"}))
    stamp = find_page_timestamp(load_html(page(head, "<p>x</p>", "ru")), "2021-06-01 08:00:00.0")
    assert stamp == datetime(2021, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=3)))


def test_time_elements_count_only_on_the_pages_day() -> None:
    body = ('<time datetime="2022-05-02T09:00:00+02:00">other story</time>'
            '<time class="entry-date published" datetime="2022-05-03T07:30:00+02:00">3. Mai</time>')
    tree = load_html(page("", body))
    assert find_page_timestamp(tree, None, "2022-05-03") == datetime(2022, 5, 3, 7, 30,
                                                                     tzinfo=timezone(timedelta(hours=2)))
    assert find_page_timestamp(tree, None, "2022-05-09") is None
    assert find_page_timestamp(tree, None, None) is None


def test_parse_timestamp_shapes() -> None:
    assert parse_timestamp("2020-03-21T16:45:00.123Z") == datetime(2020, 3, 21, 16, 45, 0, 123000, tzinfo=UTC)
    assert parse_timestamp("2020-03-21T16:45+0530").utcoffset() == timedelta(hours=5, minutes=30)  # type: ignore[union-attr]
    assert parse_timestamp("2020-03-21") is None  # a day alone: htmldate's day serves
    assert parse_timestamp("21.03.2020 16:45") is None
    assert parse_timestamp("1970-01-01T00:00:00Z") is None


@pytest.mark.parametrize(("written", "lang"), [
    ("2020年3月21日 16時45分", "ja"), ("2020년 3월 21일", "ko"), ("21. März 2020", "de"),
    ("21 mars 2020", "fr"), ("21 de marzo de 2020", "es"), ("21 марта 2020", "ru"),
])
def test_page_dates_in_other_languages_formats(written: str, lang: str) -> None:
    prose = PROSE.get(lang, PROSE["ja"])
    html = page("<title>x</title>", f"<article><h1>x</h1><p class='date'><span>{written}</span></p>"
                                    f"<p>{prose}</p></article>", lang)
    assert find_page_date(load_html(html)) == "2020-03-21"


# -- bylines -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "name"), [
    ("By Jane Doe", "Jane Doe"), ("Von Anna Schmidt", "Anna Schmidt"), ("Par Marie Dupont", "Marie Dupont"),
    ("Por María Gómez", "María Gómez"), ("Av Kari Nordmann", "Kari Nordmann"), ("Автор: Иван Петров", "Иван Петров"),
    ("文/山田太郎", "山田太郎"), ("Elena Oberholzer (obe)", "Elena Oberholzer"),
    ("Ursula von der Leyen", "Ursula von der Leyen"), ("Von der Leyen", "Von der Leyen"), ("Di Maio", "Di Maio"),
    ("af Klint", "af Klint"), ("Door Jan de Vries", "Jan de Vries"), ("Von: Hans Meier", "Hans Meier"),
    ("21.03.2020, 16:45", None), ("https://twitter.com/someone", None), ("jane@example.com", None),
    ("Kolumne Von Jana Berg", "Jana Berg"), ("Ryan Von Ruden", "Ryan Von Ruden"), ("김민준 기자", "김민준"),
    ("山田太郎記者", "山田太郎"), ("104233", None),
])
def test_clean_name(line: str, name: str | None) -> None:
    assert clean_name(line) == name


def test_authors_people_and_agencies_not_the_publisher() -> None:
    own = own_names("Die Zeitung", ["Die Zeitung GmbH"], "https://www.zeitung.example/a")
    declared = [Person("Die Zeitung", True), Person("Anna Schmidt", False), Person("dpa", True)]
    assert choose_authors(declared, ["Zeitung", "Anna Schmidt"], own) == ["Anna Schmidt", "dpa"]


def test_authors_visible_byline_beats_a_publisher_only_jsonld() -> None:
    own = own_names("毎朝新聞", [], "https://mainichi.example/a")
    assert choose_authors([Person("毎朝新聞", True)], ["記者 山田太郎"], own) == ["山田太郎"]


def test_authors_publisher_kept_only_when_it_is_the_whole_credit() -> None:
    own = own_names("Radio Nord", [], "https://radionord.example/a")
    assert choose_authors([Person("radionord.example", True)], ["Radio Nord"], own) == ["radionord.example"]
    assert choose_authors([], ["Radio Nord GmbH", "21.03.2020"], own) == []


def test_authors_from_weaker_sources_only_when_the_strong_ones_name_nobody() -> None:
    own = own_names("Radio Nord", [], "https://radionord.example/a")
    assert choose_authors([], [], own, [["Radio Nord", "Kari Nordmann"], ["Ola Berg"]]) == ["Kari Nordmann"]
    assert choose_authors([], [], own, [["Radio Nord"], ["Ola Berg"]]) == ["Ola Berg"]
    assert choose_authors([], ["Anna Schmidt"], own, [["Ola Berg"]]) == ["Anna Schmidt"]
    assert choose_authors([Person("Radio Nord", True)], [], own, [[]]) == ["Radio Nord"]


def test_a_bold_name_line_on_the_body_edge_is_the_byline() -> None:
    lines = [PROSE["fr"], PROSE["es"], PROSE["de"]]
    tree = load_html("<p><strong>Marie Dupont / Jean Martin</strong></p>"
                     "<p><b>Paris</b></p><p><strong>Une phrase entière en gras, avec une virgule.</strong></p>")
    emphasised = emphasised_texts(tree)
    assert body_byline("\n".join(["Marie Dupont / Jean Martin", *lines]), emphasised) == (
        ["Marie Dupont", "Jean Martin"], "\n".join(lines))
    assert body_byline("\n".join([*lines, "Marie Dupont"]), emphasised) == ([], "\n".join([*lines, "Marie Dupont"]))
    for edge in ("Paris", "Une phrase entière en gras, avec une virgule."):  # a place, a sentence
        text = "\n".join([*lines, edge])
        assert body_byline(text, emphasised) == ([], text)


def test_authors_end_to_end_from_the_meta_author_or_the_body_edge(tmp_path: Path) -> None:
    head = '<meta property="og:site_name" content="한국신문"><meta name="author" content="한국신문">' \
           '<meta name="author" content="김민준 기자">'
    article = extract(page(head, article_body("de", "Hafen"), "de"), tmp_path, "https://hanguk.example/a/1")
    assert article.authors == ["김민준"]
    paragraphs = "".join(f"<p>{PROSE['es'].replace('martes', day)}</p>" for day in ("lunes", "martes", "jueves"))
    body = f"<article><h1>Hafen</h1>{paragraphs}<p><strong>Lucía Pérez</strong></p></article>"
    article = extract(page("", body, "es"), tmp_path, "https://puerto.example/a/1")
    assert article.authors == ["Lucía Pérez"]
    assert "Lucía" not in article.body


def test_authors_end_to_end_from_jsonld_in_arabic(tmp_path: Path) -> None:
    head = ('<meta property="og:site_name" content="صحيفة الميناء">'
            + ld({"@type": "NewsArticle", "headline": "إعادة بناء جدار الميناء",
                  "author": [{"@type": "Person", "name": "أحمد علي"}, {"@type": "Organization",
                                                                       "name": "صحيفة الميناء"}]}))
    article = extract(page(head, article_body("ar", "إعادة بناء جدار الميناء"), "ar"), tmp_path,
                      "https://mina.example/news/1")
    assert article.authors == ["أحمد علي"]
    assert article.title == "إعادة بناء جدار الميناء"
    assert article.language == "ar"


# -- bodies --------------------------------------------------------------------------------------------


def test_prefer_declared_body() -> None:
    shown = PROSE["es"]
    whole = "\n".join([PROSE["es"], PROSE["fr"], PROSE["de"]])
    assert prefer_declared_body(whole, shown)  # the page shows a part of the declared article
    assert not prefer_declared_body(shown, whole)  # the declared body is a summary
    assert not prefer_declared_body(PROSE["fr"] + PROSE["de"], PROSE["es"])  # another text, not much longer
    assert prefer_declared_body(whole * 3, "Aceptar cookies")  # the extraction missed the article


def test_articlebody_completes_a_page_that_shows_a_part(tmp_path: Path) -> None:
    whole = [PROSE["ru"], PROSE["ru"].replace("вторник", "среду"), PROSE["ru"].replace("совет", "мэр"),
             PROSE["ru"].replace("стену", "дамбу")]
    head = ld({"@type": "NewsArticle", "headline": "Стена",
               "articleBody": "&lt;p&gt;" + "&lt;/p&gt;&lt;p&gt;".join(whole) + "&lt;/p&gt;"})
    article = extract(page(head, f"<article><h1>Стена</h1><p>{whole[0]}</p><p>Подписаться</p></article>",
                           "ru"), tmp_path)
    assert article.body.splitlines() == whole
    assert "&lt;" not in article.body and "<p>" not in article.body


def test_a_declared_body_is_cleaned_of_its_ad_slots_like_an_extracted_one(tmp_path: Path) -> None:
    whole = [PROSE["de"], PROSE["de"].replace("Dienstag", "Mittwoch"), PROSE["de"].replace("Stadtrat", "Kreistag")]
    marked = [whole[0], "$$ARTICLEAD$$", whole[1], "Anzeige", whole[2]]
    head = ld({"@type": "NewsArticle", "headline": "Hafen",
               "articleBody": "&lt;p&gt;" + "&lt;/p&gt;&lt;p&gt;".join(marked) + "&lt;/p&gt;"})
    article = extract(page(head, "<article><h1>Hafen</h1><p>Abonnieren</p></article>"), tmp_path)
    assert article.body.splitlines() == whole


def test_a_script_rendered_page_gives_its_article_from_the_hydration_data(tmp_path: Path) -> None:
    """An empty <body> whose article ships as an HTML string in a script's JSON (React, Next.js)."""
    paragraphs = [PROSE["ja"], PROSE["ja"].replace("火曜日", "水曜日"), PROSE["ja"].replace("市議会", "町議会")]
    state = {"article": {"title": "港の防波堤", "contentHtml": "".join(f"<p>{p}</p>" for p in paragraphs)},
             "nav": "<ul><li>ホーム</li></ul>"}
    html = page("<title>港の防波堤</title>", f'<main><div class="spinner"></div></main>'
                f"<script>window.__STATE__ = {json.dumps(state)};</script>", "ja")
    article = extract(html, tmp_path)
    assert article.body.splitlines() == paragraphs
    assert article.body_source == "page"
    assert article.language == "ja"


def test_cleanup_knows_teasers_and_trailers_in_other_languages() -> None:
    from workers.pipeline.extract.cleanup import clean_body

    text = "\n".join([
        PROSE["de"], "Lesen Sie auch: Sturmflut trifft die Nordseeküste", "Anzeige", PROSE["fr"],
        "À lire aussi : Le port de Brest s'agrandit", "$$ARTICLEAD$$", PROSE["es"], "Lee también: El puerto crece",
        PROSE["ru"], "Читайте также: Шторм на побережье", PROSE["ja"], "関連記事", PROSE["ar"],
        "Quelle: dpa", "Alle Rechte vorbehalten", "Fehler gefunden? Jetzt melden.",
        "<Copyright ⓒ 한국일보. 무단 전재 및 재배포 금지>",
    ])
    assert clean_body(text, None).splitlines() == [PROSE[k] for k in ("de", "fr", "es", "ru", "ja", "ar")]
