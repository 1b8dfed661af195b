"""Category lists: what kind of thing a name is when spaCy's label says otherwise.

Each list is a category of general knowledge (the planets, the major tennis tournaments, operating systems,
titles of office, nationality adjectives), written whole, not a list of names an article got wrong. Keys are
compared case-folded and without accents (see :func:`workers.entities.normalize.comparison_key`).
"""

from __future__ import annotations

__all__ = [
    "CELESTIAL",
    "DEMONYMS",
    "EVENT_HEADS",
    "GENERIC_WORDS",
    "MALWARE",
    "OFFICES",
    "ORG_HEADS",
    "PLACE_HEADS",
    "PRODUCT_FAMILIES",
    "SOLAR_SYSTEM",
    "SPACECRAFT",
    "SPACECRAFT_HEADS",
    "SPORTS_EVENTS",
    "WEATHER",
]

# The Sun's planets and moons a news story names: places (the gold set counts "Mercury" and "Earth" so).
SOLAR_SYSTEM = frozenset({
    "mercury", "venus", "earth", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto", "moon", "titan",
    "europa", "ganymede", "callisto", "io", "enceladus", "ceres", "phobos", "deimos", "triton", "charon",
})
# Stars, constellations and galaxies: no person, organization or place of ours.
CELESTIAL = frozenset({
    "sun", "milky way", "andromeda", "betelgeuse", "rigel", "sirius", "vega", "polaris", "antares", "aldebaran",
    "arcturus", "canopus", "capella", "procyon", "altair", "deneb", "spica", "pollux", "castor", "regulus",
    "bellatrix", "mintaka", "alnilam", "alnitak", "saiph", "achernar", "hadar", "mira", "algol", "fomalhaut",
    "eta carinae", "vy canis majoris", "tabby's star", "trappist-1", "kepler-22b", "proxima b",
    "proxima centauri", "alpha centauri", "orion", "ursa major", "ursa minor", "cassiopeia", "taurus", "scorpius",
    "sagittarius", "gemini", "leo", "virgo", "aquarius", "pisces", "aries", "cancer", "capricornus", "libra",
    "cygnus", "lyra", "pleiades", "crab nebula", "orion nebula", "magellanic clouds", "large magellanic cloud",
    "small magellanic cloud", "halley's comet", "sgr a", "sagittarius a",
})
# Spacecraft, telescopes and launch vehicles, by family: "Falcon 9", "Crew Dragon", "Hubble".
SPACECRAFT = frozenset({
    "falcon", "falcon 9", "falcon heavy", "dragon", "crew dragon", "starship", "super heavy", "starliner",
    "soyuz", "atlas v", "delta iv", "ariane", "ariane 5", "ariane 6", "new shepard", "new glenn", "orion",
    "sls", "space launch system", "saturn v", "voyager", "voyager 1", "voyager 2", "hubble", "spitzer", "kepler",
    "chandra", "cassini", "new horizons", "rosetta", "philae", "perseverance", "ingenuity", "osiris-rex",
    "hayabusa", "hayabusa2", "chang'e", "tianwen", "shenzhou", "tiangong", "long march", "parker solar probe",
    "solar orbiter", "bepicolombo", "jwst", "sputnik",
})
# Last words of a spacecraft's or an instrument's name: "James Webb Space Telescope", "Mars rover".
SPACECRAFT_HEADS = frozenset({"telescope", "space telescope", "rover", "probe", "orbiter", "lander", "spacecraft",
                              "capsule", "rocket", "satellite", "shuttle"})
# Operating systems, devices, apps and programs, by family; a family with a version ("Windows 7") is a product too.
PRODUCT_FAMILIES = frozenset({
    "windows", "windows xp", "windows vista", "macos", "mac os", "os x", "ios", "ipados", "android", "linux",
    "ubuntu", "chrome os", "chromeos", "iphone", "ipad", "ipod", "macbook", "imac", "apple watch", "airpods",
    "galaxy", "galaxy note", "pixel", "surface", "kindle", "echo", "alexa", "siri", "cortana", "playstation",
    "ps4", "ps5", "xbox", "xbox one", "nintendo switch", "wii", "chrome", "firefox", "safari", "internet explorer",
    "microsoft edge", "office", "microsoft office", "office 365", "excel", "powerpoint", "outlook", "teams",
    "microsoft teams", "skype", "slack", "chatgpt", "gpt-4", "gemini", "copilot", "photoshop", "autopilot",
    "model s", "model 3", "model x", "model y", "cybertruck", "vaporfly", "air max", "boeing 737", "737 max",
})
# Malware and the attacks named after it are events, as the attack.
MALWARE = frozenset({"wannacry", "notpetya", "petya", "stuxnet", "emotet", "mirai", "conficker", "iloveyou", "ryuk",
                     "trickbot", "zeus", "cryptolocker", "heartbleed", "log4shell", "solarwinds hack"})
# Climate patterns and weather systems: none of our kinds.
WEATHER = frozenset({"el nino", "la nina", "enso", "gulf stream", "jet stream", "polar vortex",
                     "indian ocean dipole", "north atlantic oscillation", "madden-julian oscillation"})
# Sporting events by name; more are found by their last word (EVENT_HEADS).
SPORTS_EVENTS = frozenset({
    "wimbledon", "roland garros", "roland-garros", "french open", "us open", "australian open", "olympics",
    "olympic games", "paralympics", "paralympic games", "world cup", "super bowl", "tour de france", "giro d'italia",
    "vuelta", "ryder cup", "davis cup", "stanley cup", "world series", "champions league", "europa league",
    "copa america", "euro 2020", "euro 2024", "six nations", "commonwealth games", "asian games", "masters",
    "grand national", "kentucky derby", "indianapolis 500", "le mans", "daytona 500", "march madness",
})
# Last words of a sporting event's name: "Qatar Open", "Ryder Cup", "Monaco Grand Prix".
EVENT_HEADS = frozenset({"open", "cup", "championships", "grand prix", "games", "olympics", "marathon",
                         "grand slam", "finals", "cup final", "cup finals"})
# Last words of a gathering's name: "Game Developers Conference", "Dubai Air Show" (not "Congress" or "Forum":
# parliaments and organizations are called so too).
GATHERING_HEADS = frozenset({"conference", "show", "summit", "expo", "festival", "fair", "convention"})
# Last words of a product's name: "Defender Antivirus", "Galaxy Fold phone".
PRODUCT_HEADS = frozenset({"antivirus", "browser", "smartphone", "phone", "tablet", "console", "laptop",
                           "app", "software", "chatbot", "headset", "smartwatch", "vaccine"})
# Titles of office that NER takes for a person's name.
OFFICES = frozenset({
    "taoiseach", "tanaiste", "president", "vice president", "prime minister", "premier", "chancellor",
    "minister", "secretary", "secretary-general", "secretary general", "governor", "mayor", "senator", "speaker",
    "king", "queen", "emperor", "pope", "ayatollah", "supreme leader", "emir", "sultan", "shah", "tsar", "czar",
    "kaiser", "pharaoh", "dalai lama", "chief executive", "ceo", "chairman", "chairwoman", "commissioner",
    "ombudsman", "attorney general", "chief justice", "first minister", "first lady", "crown prince", "prince",
    "princess", "duke", "duchess", "lord", "baroness", "bishop", "archbishop", "cardinal", "rabbi", "imam",
})
# Words that alone name nothing: compass points, the common nouns and adjectives inside names.
GENERIC_WORDS = frozenset({
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "northeast",
    "northwest", "southeast", "southwest", "midwest", "cape", "super", "party", "national", "international",
    "united", "federal", "state", "states", "city", "county", "republic", "kingdom", "union", "government",
    "ministry", "department", "council", "committee", "commission", "agency", "parliament", "congress", "senate",
    "court", "police", "army", "navy", "group", "company", "corporation", "bank", "university", "school",
    "college", "institute", "foundation", "association", "league", "club", "team", "new", "old", "great",
    "greater", "upper", "lower", "royal", "democratic", "republican", "conservative", "liberal", "labour",
    "socialist", "green", "greens", "left", "right", "world", "global", "european", "island",
    "islands", "sea", "ocean", "river", "lake", "mount", "mountains", "valley", "bay", "gulf", "street",
    "avenue", "road", "square", "station", "airport", "hospital", "prison", "internet", "web", "online",
    "space", "defence", "defense", "health", "energy", "power", "science", "sciences", "technology", "research",
    "development", "security", "media", "finance", "trade", "industry", "transport", "education", "justice",
    "affairs", "services", "works", "arts", "culture", "sport", "sports", "environment", "agriculture",
    "republique", "etat", "gouvernement", "assemblee", "ministere", "conseil", "parti", "sud", "nord", "est",
    "ouest", "ai", "vat", "ipo", "gdp", "ceo", "cfo", "coo", "cto", "esg", "covid", "tv", "pc", "app", "apps",
})
# First or last words of a place's name: "Palazzo Chigi", "Khilani Square", "Mount Fuji", "Rod Laver Arena".
PLACE_HEADS = frozenset({
    "palazzo", "palace", "palais", "castle", "chateau", "tower", "square", "street", "st", "avenue", "ave",
    "road", "boulevard", "lane", "bridge", "airport", "station", "stadium", "arena", "park", "mount", "mt",
    "mountain", "mountains", "lake", "river", "island", "islands", "bay", "gulf", "sea", "ocean", "valley",
    "desert", "glacier", "peninsula", "strait", "canal", "coast", "county", "province", "region", "district",
    "plaza", "piazza", "place", "rue", "via", "cathedral", "basilica", "abbey", "temple", "mosque", "church",
    "hospital", "prison", "base", "harbour", "harbor", "port", "beach", "forest", "falls", "heights", "hills",
})
# Last words of an organization's name: "Dye & Durham Ltd.", "Bank of Canada" (first word), "Green Party".
ORG_HEADS = frozenset({
    "inc", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "plc", "ag", "sa", "se", "nv", "gmbh",
    "group", "holdings", "bank", "airlines", "airways", "motors", "university", "college", "institute",
    "party", "council", "committee", "commission", "agency", "ministry", "department", "association",
    "foundation", "federation", "union", "organization", "organisation", "authority", "service", "services",
    "board", "bureau", "office", "court", "police", "army", "navy", "force", "forces", "church", "club",
    "society", "times", "post", "news", "press", "network", "channel", "records", "studios", "labs",
    "laboratory", "laboratories", "technologies", "systems", "international", "fund", "trust", "reserve",
    "parliament", "assembly", "senate", "congress", "school", "academy", "hospital", "agence", "banque",
    "universite", "parti", "ministere", "conseil", "societe", "groupe",
})
# Nationality and regional adjectives written before a name ("American Sofia Kenin").
DEMONYMS = frozenset({
    "Afghan", "Albanian", "Algerian", "American", "Angolan", "Argentine", "Argentinian", "Armenian", "Australian",
    "Austrian", "Azerbaijani", "Bahraini", "Bangladeshi", "Belarusian", "Belgian", "Bolivian", "Bosnian",
    "Brazilian", "British", "Bulgarian", "Burmese", "Cambodian", "Cameroonian", "Canadian", "Chilean", "Chinese",
    "Colombian", "Congolese", "Croatian", "Cuban", "Cypriot", "Czech", "Danish", "Dutch", "Ecuadorian",
    "Egyptian", "English", "Eritrean", "Estonian", "Ethiopian", "Filipino", "Finnish", "French", "Georgian",
    "German", "Ghanaian", "Greek", "Guatemalan", "Haitian", "Honduran", "Hungarian", "Icelandic", "Indian",
    "Indonesian", "Iranian", "Iraqi", "Irish", "Israeli", "Italian", "Ivorian", "Jamaican", "Japanese",
    "Jordanian", "Kazakh", "Kenyan", "Korean", "Kosovar", "Kurdish", "Kuwaiti", "Latvian", "Lebanese", "Libyan",
    "Lithuanian", "Luxembourgish", "Malaysian", "Malian", "Maltese", "Mexican", "Moldovan", "Mongolian",
    "Montenegrin", "Moroccan", "Mozambican", "Namibian", "Nepali", "Nepalese", "Nicaraguan", "Nigerian",
    "Nigerien", "Norwegian", "Omani", "Pakistani", "Palestinian", "Panamanian", "Paraguayan", "Peruvian",
    "Polish", "Portuguese", "Qatari", "Romanian", "Russian", "Rwandan", "Saudi", "Scottish", "Senegalese",
    "Serbian", "Singaporean", "Slovak", "Slovenian", "Somali", "South African", "Spanish", "Sri Lankan",
    "Sudanese", "Swedish", "Swiss", "Syrian", "Taiwanese", "Tajik", "Tanzanian", "Thai", "Tunisian", "Turkish",
    "Turkmen", "Ugandan", "Ukrainian", "Uruguayan", "Uzbek", "Venezuelan", "Vietnamese", "Welsh", "Yemeni",
    "Zambian", "Zimbabwean", "European", "African", "Asian", "Arab", "Latin", "Nordic", "Scandinavian",
    "Balkan", "Caribbean", "Catalan", "Basque", "Flemish", "Bavarian", "Texan", "Californian",
})
