"""Articles written the way wire reporters write them, where a place name alone is ambiguous.

Each is (slug, title, paragraphs): a dateline ("PARIS, Texas (AP) —"), local detail, and the other places
and words a reader would use to place the story. Served by tests/test_geo.py through the FixtureSite.
"""

from __future__ import annotations

import html

__all__ = ["GEO_ARTICLES", "geo_page"]

GEO_ARTICLES: dict[str, tuple[str, list[str]]] = {
    "paris-texas-storm": (
        "Storms rip roofs off homes in Paris as tornado warnings spread across North Texas",
        [
            "PARIS, Texas (AP) — A line of severe thunderstorms tore through Lamar County late Tuesday, ripping "
            "roofs from homes and toppling power lines across Paris, officials said.",
            "The National Weather Service confirmed that at least one tornado touched down west of the city, and "
            "crews were assessing damage along the Loop 286 corridor on Wednesday morning.",
            "Lamar County Judge Brandon Bell said about 40 homes were damaged and that shelters had opened at two "
            "churches. No deaths were reported, but three people were treated at Paris Regional Health for cuts.",
            "More than 12,000 customers in Paris and the surrounding towns were without power at the height of "
            "the storm, according to the utility, which sent additional crews from Fort Worth and Dallas.",
            "Forecasters warned that more storms could move across North Texas and into southeastern Oklahoma "
            "on Thursday, with large hail and damaging winds possible.",
        ],
    ),
    "tbilisi-protests": (
        "Tens of thousands protest in Tbilisi against foreign agents law",
        [
            "TBILISI, Georgia (Reuters) — Tens of thousands of people marched through central Tbilisi on Sunday "
            "evening, waving national and European Union flags in protest against a bill that critics say "
            "mirrors a Russian law used to silence dissent.",
            "Riot police used tear gas and water cannon to disperse crowds outside the parliament building on "
            "Rustaveli Avenue after midnight, the interior ministry said, and 63 people were detained.",
            "The governing Georgian Dream party says the bill is needed to make the funding of non-governmental "
            "organisations transparent. President Salome Zourabichvili has vowed to veto it.",
            "Brussels has warned that the law is incompatible with Georgia's ambition to join the bloc, which "
            "granted the former Soviet republic candidate status in December. Protests also took place in "
            "Batumi and Kutaisi.",
        ],
    ),
    "atlanta-airport-delays": (
        "Storms snarl flights at Atlanta airport, stranding holiday travelers",
        [
            "ATLANTA, Georgia — Hundreds of flights were delayed or canceled at Hartsfield-Jackson Atlanta "
            "International Airport on Friday as a line of thunderstorms crossed north Georgia during one of the "
            "busiest travel weekends of the year.",
            "The Federal Aviation Administration briefly halted departures to the airport, the world's busiest by "
            "passenger numbers, and Delta Air Lines said it had canceled about 300 flights.",
            "Travelers bound for Savannah, Augusta and Macon were rebooked onto Saturday flights, and the "
            "airport's general manager asked passengers to check their flight status before driving in.",
            "Gov. Brian Kemp said state troopers were helping with traffic on Interstate 85, where heavy rain "
            "flooded lanes near the airport.",
        ],
    ),
    "birmingham-council-budget": (
        "Birmingham council approves £300m of cuts and a 10% council tax rise",
        [
            "Birmingham City Council has approved a budget that will cut £300m from services over two years and "
            "raise council tax by nearly 10%, after the authority effectively declared itself bankrupt.",
            "Councillors voted on Tuesday evening for cuts to libraries, bin collections and adult social care. "
            "Commissioners appointed by the government in Westminster will oversee the council's finances.",
            "The leader of the Labour-run council said the decisions were the hardest it had ever faced, while "
            "opposition councillors blamed years of mismanagement and a £760m bill for equal pay claims.",
            "Residents across the West Midlands have warned that the cuts will hit the city's poorest "
            "neighbourhoods hardest. Neighbouring Solihull and Wolverhampton face pressures of their own.",
        ],
    ),
}


def geo_page(slug: str) -> str:
    """One article as an HTML page."""
    title, paragraphs = GEO_ARTICLES[slug]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"</head><body><header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav></header>"
            f"<main><article><h1>{html.escape(title)}</h1>{body}</article></main>"
            f"<footer><p>&copy; The Loopback Post</p></footer></body></html>")
