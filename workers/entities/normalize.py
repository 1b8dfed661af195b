"""One entity mention as a reader would write it, or None for junk.

spaCy's spans carry what the sentence around them carried: determiners,
possessives, quotes, a headline's capitals, the verb after a name ("Hoshyar
Zebari Tweeted"), and sometimes no name at all (a date, a number, a URL).
These rules are general, never about particular articles.
"""

from __future__ import annotations

import re
import unicodedata

from workers.entities.lexicon import OFFICES
from workers.entities.person_names import is_given_name

__all__ = ["COMMON_ALIASES", "comparison_key", "normalize_entity"]

_LEADING_THE = re.compile(r"^(the)\s+", re.IGNORECASE)
# Names whose "The" is part of the name itself, not an article spaCy swept into the span.
_NAMES_WITH_THE = frozenset({
    "the hague", "the gambia", "the bahamas", "the economist", "the guardian", "the times", "the new york times",
    "the washington post", "the wall street journal", "the telegraph", "the independent", "the atlantic",
    "the observer", "the verge", "the hill", "the beatles", "the rolling stones",
})
_POSSESSIVE = re.compile(r"(?:['’‘]s|['’])$")
_LEADING_FR_WORDS = re.compile(r"^(?:(?:le|la|les|de|du|des|au|aux|à|et)\s+)+")
_ELIDED_ARTICLE = re.compile(r"^(?:l|d)['’](?=[A-ZÀ-Ý])")  # French "l’Elysée", "d’Alcúdia"
_EDGE_JUNK = "\"'“”‘’«»()[]{}<>,;:!?#*@|-–—/\\ \t\n"
_URLISH = re.compile(r"(?:https?://|www\.|@\w|\w\.(?:com|org|net|gov|co|io)\b)", re.IGNORECASE)
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# A date or time that NER mistook for a name: "Tuesday", "January 27", "Jan. 2020", "10pm", "2020".
_DATE_OR_TIME = re.compile(
    rf"^(?:(?:{_DAYS}|{_MONTHS})\.?(?:\s+\d{{1,4}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:[:.]\d{{2}})?\s*(?:am|pm|a\.m\.|p\.m\.|gmt|utc|bst|est|et)"
    rf"|\d{{1,4}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?)$",
    re.IGNORECASE,
)
# Verbs of reporting that NER glues onto the name before them ("Hoshyar Zebari Tweeted").
_TRAILING_VERBS = frozenset({
    "said", "says", "tweeted", "tweets", "told", "tells", "added", "wrote", "writes", "stated",
    "announced", "announces", "reported", "claimed", "noted", "explained",
    "posted", "warned", "warns", "confirmed", "confirms", "denied", "denies", "insisted", "argued",
    "replied", "responded", "asked", "asks", "urged", "urges", "spoke",
})
_HONORIFICS = (
    "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "rev", "president",
    "vice president", "prime minister", "foreign minister", "minister", "chancellor", "secretary", "senator",
    "sen", "rep", "representative", "governor", "gov", "mayor", "general", "gen", "lt", "col", "colonel",
    "captain", "capt", "king", "queen", "prince", "princess", "pope", "judge", "justice", "ceo", "chairman",
    "sheikh", "ayatollah", "commander", "officer", "agent", "coach",
)
# Titles of office too ("Taoiseach Leo Varadkar"): before a name they are no part of it.
_TITLES = sorted({*_HONORIFICS, *OFFICES}, key=len, reverse=True)
_HONORIFIC = re.compile(rf"^(?:(?:{'|'.join(re.escape(t) for t in _TITLES)})\.?\s+)+", re.IGNORECASE)
_HONORIFIC_FR = re.compile(r"^(?:(?:m|mme|mlle|me|mgr|dr|pr|président|présidente|ministre|général|sénateur|"
                           r"sénatrice|maire|député|députée)\.?\s+)+", re.IGNORECASE)
# Words that alone name no person, though NER tags them so at a sentence start ("Embassy officials said").
_NOT_A_PERSON = frozenset({"embassy", "government", "ministry", "president", "minister", "police", "army",
                           "court", "council", "department", "agency", "officials", "spokesman", "spokeswoman"})
# All-caps words that are acronyms, kept as written even when a whole headline is in capitals.
_KNOWN_ACRONYMS = frozenset({
    "UN", "EU", "US", "UK", "USA", "UAE", "NATO", "NASA", "ESA", "FBI", "CIA", "NSA", "WHO", "IMF", "ECB", "OPEC",
    "BBC", "CNN", "CBS", "NBC", "ABC", "NPR", "AP", "AFP", "IBM", "AMD", "CES", "UNESCO", "UNICEF", "FIFA", "IOC",
    "NBA", "NFL", "MLB", "NHL", "SEC", "FDA", "CDC", "EPA", "NOAA", "PMF", "ISIS", "ISIL", "IRGC", "PLO", "GOP",
    "DNC", "RNC", "ANC", "SNP", "SPD", "CDU", "MSNBC", "HSBC", "BMW", "KFC", "ICC", "ICJ", "WTO", "OECD", "G7",
    "G20", "ASEAN", "BRICS", "USSR", "GCHQ", "MI5", "MI6", "NHS", "TSMC", "AI", "IT",
})
# Very common short forms of countries and organisations, merged into one facet value. General knowledge,
# not about particular articles; keys are comparison keys (see comparison_key).
COMMON_ALIASES: dict[str, str] = {
    "us": "United States", "u s": "United States", "usa": "United States", "u s a": "United States",
    "united states of america": "United States", "america": "United States",
    "uk": "United Kingdom", "u k": "United Kingdom", "britain": "United Kingdom",
    "great britain": "United Kingdom",
    "un": "United Nations", "u n": "United Nations", "eu": "European Union", "e u": "European Union",
    "uae": "United Arab Emirates", "u a e": "United Arab Emirates",
    "who": "World Health Organization", "ussr": "Soviet Union", "prc": "China",
    "people s republic of china": "China", "dprk": "North Korea", "russian federation": "Russia",
}


def normalize_entity(text: str, *, person: bool = False, headline: bool = False, language: str = "en") -> str | None:
    """A surface form as a reader would write it, or None for junk.

    ``person`` also strips honorifics and words after the name that are no name ("said", lower-case words);
    ``headline`` says the mention stood in an all-capitals line, so its capitals say nothing.
    The result is a fixed point: normalizing it again changes nothing ("the the X" is junk, not "the X").
    """
    value = _normalize_once(text, person=person, headline=headline, language=language)
    for _ in range(4):
        if value is None:
            return None
        again = _normalize_once(value, person=False, headline=False, language=language)
        if again == value:
            return value
        value = again
    return value


def _normalize_once(text: str, *, person: bool, headline: bool, language: str = "en") -> str | None:
    value = unicodedata.normalize("NFC", text)
    if "\n" in value.strip():
        return None  # a span across a line break joins a headline to the text: two things, neither whole
    value = " ".join(value.split())
    if _URLISH.search(value):
        return None
    value = value.strip(_EDGE_JUNK)  # keeps the dots of "U.S."
    if value.casefold() not in _NAMES_WITH_THE:
        value = _LEADING_THE.sub("", value)
    value = _ELIDED_ARTICLE.sub("", value)
    if language == "fr":
        # "de M. Macron", "mer Méditerranée": a French name starts at its first capital; a span without one
        # names a thing, not an entity.
        value = _LEADING_FR_WORDS.sub("", value)
        words = value.split(" ")
        while len(words) > 1 and words[0][:1].islower():  # "mer Méditerranée", "palais de l’Elysée"
            words.pop(0)
        value = _ELIDED_ARTICLE.sub("", " ".join(words))
        if value[:1].islower():
            return None
    value = _POSSESSIVE.sub("", value).strip(_EDGE_JUNK)
    if "(" in value and ")" not in value:
        value = value.split("(", 1)[0]  # "Shanghai Composite (SHCOMP" lost its closing bracket to the tokenizer
    value = _strip_trailing_verbs(value)
    honorific = _HONORIFIC if language == "en" else _HONORIFIC_FR
    if person:
        value = honorific.sub("", value)
    elif (title := honorific.match(value)) and is_given_name(value[title.end():].split(" ")[0]):
        value = value[title.end():]  # "Secretary General Mark Rutte" tagged an organization is still a person
    if language == "en":  # French names end in lower-case words: "Union européenne", "Rassemblement national"
        value = _strip_trailing_lowercase(value.strip(_EDGE_JUNK))  # "LG Electronics of", "Kitui county"
    value = value.strip(_EDGE_JUNK)
    if value.endswith(".") and value.count(".") == 1 and len(value.rsplit(" ", 1)[-1]) > 5:
        value = value[:-1]  # a sentence's full stop, not an abbreviation's ("U.S.", "Inc.", "Corp.")
    if len(value.replace(".", "")) < 2 or not any(ch.isalpha() for ch in value):
        return None
    if _DATE_OR_TIME.match(value) or (person and value.casefold() in _NOT_A_PERSON):
        return None
    if value.islower():
        return value.title()
    return _fix_capitals(value, headline=headline)


def comparison_key(name: str) -> str:
    """Accents, case and punctuation removed: 'Kata’ib' and 'Kataib', 'U.S.' and 'US' compare equal."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = re.sub(r"(?<=\w)['’](?=\w)", "", plain)  # Kata'ib -> kataib
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _strip_trailing_verbs(value: str) -> str:
    words = value.split(" ")
    while len(words) > 1 and words[-1].casefold() in _TRAILING_VERBS:
        words.pop()
    return " ".join(words)


def _strip_trailing_lowercase(value: str) -> str:
    words = value.split(" ")
    # Particles live inside names ("Ursula von der Leyen"), never at their end.
    while len(words) > 1 and words[-1][:1].islower():
        words.pop()
    return " ".join(words)


def _fix_capitals(value: str, *, headline: bool) -> str:
    """'BAGHDAD' -> 'Baghdad'; acronyms ('NATO', 'U.S.') stay."""
    words = []
    for word in value.split(" "):
        letters = [ch for ch in word if ch.isalpha()]
        shouty = len(letters) >= 2 and all(ch.isupper() for ch in letters)
        is_acronym = "." in word or word.strip(_EDGE_JUNK) in _KNOWN_ACRONYMS or (len(letters) <= 4 and not headline)
        words.append(_title_word(word) if shouty and not is_acronym else word)
    return " ".join(words)


def _title_word(word: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
