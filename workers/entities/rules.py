"""The names of the entity rules beyond spaCy's labels, in the order they were added (and are measured).

Each rule can be switched off on its own (``rules=`` of
:func:`workers.entities.recognizer.entities_from_doc`), so ``bench/entities.py --rules`` shows what each one
does on the unseen half of the gold set. Workers always run them all.

- ``particles``: a name stays whole across its particles ("Ursula von der Leyen", not "Ursula" and "Leyen");
- ``conjunctions``: a span listing two names is split at "and"/"&" ("Occidental Petroleum and Apache");
- ``attached``: a nationality glued in front of a person's name is taken off ("American Sofia Kenin");
- ``categories``: what names no person, organization or place (products, software, spacecraft and celestial
  bodies, sports events, offices, bare common words) is dropped or given its kind;
- ``gazetteer``: a name GeoNames or ISO 3166 know as a country, region or city is a place;
- ``person_shape``: a person's name looks like one (no digits, no CamelCase brand, no organization's suffix);
- ``common_words``: a single word the article also writes in lower case is a word, not a name ("Cinemas");
- ``vote``: an entity's kind is voted across all its mentions in the article, a sure rule outvoting labels;
- ``surnames``: a lone surname joins the article's full name, whatever its label ("Sinwar" -> "Yahya Sinwar"),
  or the full name the text writes when NER tagged only the surname ("Djokovic" -> "Novak Djokovic");
- ``short_names``: a short name joins the article's long form ("Teams" -> "Microsoft Teams");
- ``acronyms``: an acronym joins the name it stands for ("FAO" -> "Food and Agriculture Organization");
- ``possessives``: a span holding "A's B" is the owner and the owned ("Jeff Bezos's Blue Origin");
- ``appositives``: the noun of an appositive gives a name's kind ("Fine Gael, the party of ...");
- ``sure_lists``: in a list of names, a label spaCy is unsure of (a one-word person who is no given name, a
  place no gazetteer knows) takes the kind of the names it is sure of ("Huawei, Xiaomi and Oppo");
- ``place_prepositions``: a one-word organization or person after "in", "near" or "outside" and before a
  break is a place ("in Senkata, ...");
- ``title_lines``: a name on a headline in Title Case counts only when the rest of the text names it too;
- ``given_names``: a person left as a lone first name, said once, after the merges ("Max", "Oscar") is dropped;
- ``name_words``: an English name holds no lower-case word but its particles and small words ("Garrett hit
  Rudolph" is a clause), is no company suffix alone, ends in no "&", and is no product family in the plural;
- ``attached_places``: a place or a word in capitals glued before a person's full name is taken off ("Ukraine
  Marie Yovanovitch" -> the place Ukraine and the person, "DL Myles Garrett" -> the person).
"""

from __future__ import annotations

__all__ = ["ALL_RULES", "RULES"]

RULES: tuple[str, ...] = (
    "particles", "conjunctions", "attached", "categories", "gazetteer", "person_shape", "common_words", "vote",
    "surnames", "short_names", "acronyms", "possessives", "appositives", "sure_lists", "place_prepositions",
    "title_lines", "given_names", "name_words", "attached_places",
)
ALL_RULES = frozenset(RULES)
