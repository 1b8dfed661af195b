"""Demonyms and adjectives of countries in English ("Iraqi" -> IQ), as NER tags them (NORP groups).

A data table, one line per country: its ISO alpha-2 code and the words that name its people or things.
Plurals ("Iraqis", "Americans") are found by :func:`demonym_country` itself. Words several countries share
("Congolese", "Guinean") and words that name a people across borders ("Kurdish", "Arab") are left out on
purpose: they do not say which country.
"""

from __future__ import annotations

from workers.geo.names import fold

__all__ = ["DEMONYMS", "demonym_country"]

_TABLE = """
AF Afghan Afghani; AL Albanian; DZ Algerian; AD Andorran; AO Angolan; AG Antiguan; AR Argentine Argentinian
AM Armenian; AU Australian Aussie; AT Austrian; AZ Azerbaijani Azeri; BS Bahamian; BH Bahraini
BD Bangladeshi; BB Barbadian Bajan; BY Belarusian Belarussian; BE Belgian; BZ Belizean; BJ Beninese
BT Bhutanese; BO Bolivian; BA Bosnian Herzegovinian; BW Botswanan Motswana; BR Brazilian; BN Bruneian
BG Bulgarian; BF Burkinabe; BI Burundian; KH Cambodian Khmer; CM Cameroonian; CA Canadian; CV Cape_Verdean
CF Central_African; TD Chadian; CL Chilean; CN Chinese; CO Colombian; KM Comoran Comorian; CR Costa_Rican
HR Croatian Croat; CU Cuban; CY Cypriot; CZ Czech; DK Danish Dane; DJ Djiboutian; DM Dominican_(Dominica)
DO Dominican; EC Ecuadorian Ecuadorean; EG Egyptian; SV Salvadoran Salvadorean; GQ Equatoguinean
ER Eritrean; EE Estonian; SZ Swazi Eswatini; ET Ethiopian; FJ Fijian; FI Finnish Finn; FR French Frenchman
Frenchwoman; GA Gabonese; GM Gambian; GE Georgian; DE German; GH Ghanaian; GR Greek; GD Grenadian
GT Guatemalan; GY Guyanese; HT Haitian; HN Honduran; HU Hungarian; IS Icelandic Icelander; IN Indian
ID Indonesian; IR Iranian Persian; IQ Iraqi; IE Irish Irishman; IL Israeli; IT Italian; JM Jamaican
JP Japanese; JO Jordanian; KZ Kazakh Kazakhstani; KE Kenyan; KI I-Kiribati; KW Kuwaiti; KG Kyrgyz
LA Lao Laotian; LV Latvian; LB Lebanese; LS Basotho Lesothan; LR Liberian; LY Libyan; LI Liechtensteiner
LT Lithuanian; LU Luxembourgish Luxembourger; MG Malagasy; MW Malawian; MY Malaysian; MV Maldivian
ML Malian; MT Maltese; MH Marshallese; MR Mauritanian; MU Mauritian; MX Mexican; FM Micronesian
MD Moldovan; MC Monegasque Monacan; MN Mongolian; ME Montenegrin; MA Moroccan; MZ Mozambican; MM Burmese
Myanmar; NA Namibian; NR Nauruan; NP Nepalese Nepali; NL Dutch Dutchman; NZ Kiwi New_Zealander
NI Nicaraguan; NE Nigerien; NG Nigerian; KP North_Korean; MK Macedonian North_Macedonian; NO Norwegian
OM Omani; PK Pakistani; PW Palauan; PS Palestinian; PA Panamanian; PG Papua_New_Guinean; PY Paraguayan
PE Peruvian; PH Filipino Philippine Filipina; PL Polish Pole; PT Portuguese; QA Qatari; RO Romanian
RU Russian; RW Rwandan; KN Kittitian Nevisian; LC Saint_Lucian; VC Vincentian; WS Samoan
SM Sammarinese; ST Santomean; SA Saudi Saudi_Arabian; SN Senegalese; RS Serbian Serb; SC Seychellois
SL Sierra_Leonean; SG Singaporean; SK Slovak Slovakian; SI Slovenian Slovene; SB Solomon_Islander
SO Somali Somalian; ZA South_African; KR South_Korean; SS South_Sudanese; ES Spanish Spaniard
LK Sri_Lankan; SD Sudanese; SR Surinamese; SE Swedish Swede; CH Swiss; SY Syrian; TW Taiwanese
TJ Tajik Tajikistani; TZ Tanzanian; TH Thai; TL Timorese; TG Togolese; TO Tongan; TT Trinidadian Tobagonian
TN Tunisian; TR Turkish Turk; TM Turkmen; TV Tuvaluan; UG Ugandan; UA Ukrainian; AE Emirati
GB British Briton Brit English Scottish Scot Welsh Northern_Irish; US American Yankee; UY Uruguayan
UZ Uzbek Uzbekistani; VU Ni-Vanuatu; VE Venezuelan; VN Vietnamese; YE Yemeni Yemenite; ZM Zambian
ZW Zimbabwean; GL Greenlandic Greenlander; PR Puerto_Rican; HK Hong_Konger; XK Kosovar Kosovan
"""


def _parse(table: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in " ".join(table.split()).split(";"):
        code, *words = entry.split()
        for word in words:
            if "(" not in word:
                found[fold(word.replace("_", " "))] = code
    return found


DEMONYMS: dict[str, str] = _parse(_TABLE)


def demonym_country(word: str) -> str | None:
    """The country a demonym or adjective names (plurals too), or None."""
    key = fold(word)
    for form in (key, key.removesuffix("s"), key.removesuffix("es"), key.removesuffix("men") + "man"):
        if form in DEMONYMS:
            return DEMONYMS[form]
    return None
