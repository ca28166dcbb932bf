"""The demo shop's data: its team, customer segments, catalogue, and the names, family,
interests, cultural notes and dates its people are drawn from (keepwell/ingest/demo.py
draws them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    name: str
    share: float
    rate_factor: float  # multiplies λ
    dropout_b: float  # b of Beta(a, b): larger means more loyal
    mean_spend_minor: float  # the population mean of customers' mean order value
    owner_weights: tuple[float, ...]  # over TEAM, in order
    channels: tuple[tuple[str | None, float], ...]
    tags: tuple[str, ...]


# --- the team --------------------------------------------------------------------

TEAM: tuple[tuple[str, str, str], ...] = (
    ("Anna Berger", "anna@keepwell.example", "admin"),  # founder, looks after the VIPs
    ("Jonas Weber", "jonas@keepwell.example", "member"),  # key accounts (wholesale)
    ("Sofía Marín", "sofia@keepwell.example", "member"),
    ("Kenji Mori", "kenji@keepwell.example", "member"),
)
SPANISH_SPEAKER, JAPANESE_SPEAKER = 2, 3  # indexes into TEAM

SEGMENTS: tuple[Segment, ...] = (
    Segment(
        "retail",
        0.80,
        1.0,
        10.0,
        3_900,
        (0.10, 0.10, 0.40, 0.40),
        (
            ("email", 45),
            ("phone", 14),
            ("sms", 9),
            ("chat", 10),
            ("social", 8),
            ("post", 4),
            ("in_person", 3),
            (None, 7),
        ),
        ("espresso", "filter", "tea", "decaf", "subscription", "gift-buyer", "home-barista"),
    ),
    Segment(
        "wholesale",
        0.15,
        1.5,
        14.0,
        29_000,
        (0.15, 0.60, 0.15, 0.10),
        (("phone", 35), ("email", 35), ("in_person", 20), ("chat", 10)),
        ("cafe", "bakery", "office", "restaurant", "hotel", "net-30", "monthly-invoice"),
    ),
    Segment(
        "vip",
        0.05,
        1.8,
        18.0,
        12_500,
        (0.60, 0.10, 0.15, 0.15),
        (("phone", 35), ("email", 30), ("in_person", 20), ("sms", 10), ("post", 5)),
        ("espresso", "tea", "subscription", "home-barista", "tasting-events", "early-access"),
    ),
)

# --- the catalogue (name, unit price in cents) ------------------------------------

COFFEE: tuple[tuple[str, int], ...] = (
    ("Espresso Blend 'Aurora' 1 kg", 2890),
    ("House Filter Blend 1 kg", 2490),
    ("Ethiopia Yirgacheffe 250 g", 1190),
    ("Colombia Huila 250 g", 1090),
    ("Kenya Nyeri AA 250 g", 1390),
    ("Decaf Swiss Water 250 g", 1150),
    ("Paper Filters V60 (100)", 690),
    ("Espresso Machine Descaler 500 ml", 990),
)
TEA: tuple[tuple[str, int], ...] = (
    ("Sencha Uji 100 g", 1450),
    ("Darjeeling First Flush 100 g", 1690),
    ("Earl Grey Supreme 100 g", 890),
    ("Moroccan Mint 100 g", 790),
    ("Ceremonial Matcha 30 g", 2490),
    ("Rooibos Vanilla 100 g", 690),
)
EQUIPMENT: tuple[tuple[str, int], ...] = (
    ("Conical Burr Grinder", 18_900),
    ("Dual Boiler Espresso Machine", 149_000),
    ("Pour-over Starter Kit", 4_990),
    ("Gooseneck Kettle", 7_990),
    ("Cast-iron Teapot", 5_490),
    ("Milk Jug 600 ml", 2_490),
)
WHOLESALE: tuple[tuple[str, int], ...] = (
    ("Espresso Blend 'Aurora' 5 kg", 11_900),
    ("House Filter Blend 5 kg", 9_900),
    ("Earl Grey Supreme 1 kg", 6_900),
    ("Chai Masala 1 kg", 5_900),
    ("Oat Drink Barista 12 × 1 l", 3_290),
    ("Paper Cups 8 oz (1000)", 8_900),
)
EQUIPMENT_SHARE = 0.03  # of retail and VIP orders

# --- people ------------------------------------------------------------------------

LANGUAGES: tuple[tuple[str, float], ...] = (
    ("de", 0.34),
    ("en", 0.26),
    ("fr", 0.10),
    ("es", 0.08),
    ("it", 0.06),
    ("nl", 0.06),
    ("ja", 0.05),
    ("ar", 0.05),
)

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "Oliver", "Amelia", "Jack", "Isla", "Harry", "Emily", "George", "Grace", "Noah",
        "Olivia", "James", "Sophie", "William", "Charlotte", "Thomas", "Lucy", "Daniel",
        "Hannah", "Samuel", "Chloe", "Ethan", "Ava", "Michael", "Sarah",
    ),
    "de": (
        "Lukas", "Anna", "Leon", "Mia", "Felix", "Lena", "Jonas", "Laura", "Maximilian",
        "Sophie", "Paul", "Hannah", "Tobias", "Julia", "Moritz", "Katharina", "Florian",
        "Marie", "Sebastian", "Johanna", "Jürgen", "Ute", "Stefan", "Sabine",
    ),
    "fr": (
        "Louis", "Camille", "Hugo", "Léa", "Gabriel", "Chloé", "Arthur", "Manon", "Jules",
        "Inès", "Théo", "Juliette", "Lucas", "Margaux", "Antoine", "Élise",
    ),
    "es": (
        "Alejandro", "Lucía", "Pablo", "María", "Javier", "Carmen", "Diego", "Sofía",
        "Sergio", "Elena", "Carlos", "Paula", "Andrés", "Marta", "Jorge", "Laura",
    ),
    "it": (
        "Marco", "Giulia", "Alessandro", "Francesca", "Lorenzo", "Chiara", "Matteo", "Sara",
        "Davide", "Valentina", "Luca", "Martina",
    ),
    "nl": (
        "Daan", "Emma", "Sem", "Julia", "Lars", "Fenna", "Bram", "Sanne", "Thijs", "Lotte",
        "Ruben", "Anouk",
    ),
    "ja": (
        "Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Sakura", "Kenta", "Yuki",
        "Takumi", "Mei",
    ),
    "ar": (
        "Omar", "Layla", "Youssef", "Fatima", "Karim", "Nour", "Hassan", "Mariam", "Ahmed",
        "Salma", "Khalid", "Amira", "Tariq", "Rania",
    ),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": (
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
        "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
        "Hall", "Wood", "Jackson", "Clarke", "Harris", "Lewis", "Turner", "Hughes",
    ),
    "de": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
        "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann", "Lange", "Weiß", "Vogel",
    ),
    "fr": (
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
        "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Fontaine", "Rousseau",
        "Girard", "Chevalier",
    ),
    "es": (
        "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
        "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno",
        "Álvarez",
    ),
    "it": (
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo",
    ),
    "nl": (
        "de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit",
        "Meijer", "de Boer", "Mulder", "Bos", "Vos",
    ),
    "ja": (
        "Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura",
        "Kobayashi", "Kato", "Yoshida", "Yamada",
    ),
    "ar": (
        "Haddad", "Khoury", "Mansour", "Nasser", "Saleh", "Hamdan", "Aziz", "Farouk",
        "Darwish", "Rahman", "Qasim", "Sabbagh",
    ),
}  # fmt: skip

# How often a customer of each language has a cultural note, and which ones.
CULTURAL_NOTES: dict[str, tuple[float, tuple[str, ...]]] = {
    "de": (
        0.25,
        (
            "prefers formal address (Sie) until offered the Du",
            "punctuality matters — confirm call times to the minute",
        ),
    ),
    "en": (0.10, ("prefers first names from the start", "dislikes hard selling — keep it low-key")),
    "fr": (
        0.30,
        ("prefers formal address (vous)", "avoid calls over lunch (12:00–14:00)"),
    ),
    "es": (
        0.25,
        ("late lunch (14:00–16:00) — avoid calls then", "likes a personal chat before business"),
    ),
    "it": (
        0.25,
        ("avoid calls over lunch (13:00–15:00)", "away most of August (Ferragosto)"),
    ),
    "nl": (0.20, ("direct communication appreciated — keep it brief",)),
    "ja": (
        0.60,
        (
            "prefers formal address — family name with -san",
            "gift-giving: avoid white flowers and sets of four",
            "in Japanese the family name comes first ({last} {first})",
        ),
    ),
    "ar": (
        0.60,
        (
            "observes Ramadan — avoid lunch meetings that month",
            "gift-giving: nothing with alcohol (no liqueur hampers)",
            "weekend is Friday–Saturday",
        ),
    ),
}

PHONE_FORMATS: dict[str, tuple[str, ...]] = {
    "en": ("+44 7700 900{3}", "+1 202 555 01{2}"),
    "de": ("+49 151 {4}{4}", "+49 30 {4}{3}"),
    "fr": ("+33 6 {2} {2} {2} {2}",),
    "es": ("+34 6{2} {3} {3}",),
    "it": ("+39 3{2} {3} {4}",),
    "nl": ("+31 6 {4} {4}",),
    "ja": ("+81 90-{4}-{4}",),
    "ar": ("+971 50 {3} {4}", "+966 55 {3} {4}"),
}

COMPANY_PATTERNS: dict[str, tuple[str, ...]] = {
    "en": ("{word} Coffee Co.", "The {word} Café Ltd", "{last} & Daughters", "{word} Bakehouse"),
    "de": ("Café {word}", "Kaffeehaus {last} GmbH", "Bäckerei {last}", "{last} Architekten"),
    "fr": ("Café {word}", "Boulangerie {last}", "Maison {last} SARL"),
    "es": ("Cafetería {word}", "Panadería {last}", "Hotel {word}"),
    "it": ("Bar {word}", "Caffè {last} S.r.l.", "Trattoria {last}"),
    "nl": ("Koffiebar {word}", "Bakkerij {last}", "{word} Coworking B.V."),
    "ja": ("{last} Kissa", "{word} Coffee Stand", "Hotel {word} Kyoto"),
    "ar": ("{last} Trading LLC", "Café {word}", "{word} Hotel Dubai"),
}  # fmt: skip
COMPANY_WORDS = (
    "Aurora", "Lindenhof", "Blue Door", "Morning Glory", "Kompass", "Sunbeam", "Olive",
    "Juniper", "Harbour", "Marktplatz", "Zenith", "Lotus", "Nordlicht", "Copper Kettle",
    "Saffron", "Granite", "Little Fox", "Bellevue",
)  # fmt: skip
MAIL_DOMAINS = ("mail.example", "inbox.example", "post.example", "webmail.example", "net.example")

KIDS = ("one kid, {a}", "two kids, {a} and {b}", "three kids — {a}, {b} and the little one")
FAMILY = (
    *KIDS,
    "newly married to {a}",
    "expecting a baby in the spring",
    "grandchild {a} just started school",
    "daughter {a} studies abroad",
    "looks after an elderly parent",
    "partner {a} is a chef",
)
PETS = (
    "dog named {pet}",
    "two cats, {pet} and {pet2}",
    "keeps bees",
    "adopted a greyhound, {pet}",
)
PET_NAMES = ("Biscuit", "Luna", "Bruno", "Mochi", "Pepper", "Oskar", "Nala", "Kiwi", "Frida")
INTERESTS = (
    "loves trail running",
    "plays cello in a local orchestra",
    "home barista — into latte art",
    "collects vintage hand grinders",
    "avid cyclist",
    "reads crime novels",
    "bakes sourdough",
    "birdwatcher",
    "learning Japanese",
    "keen photographer",
    "climbs at the bouldering gym on Thursdays",
    "runs a book club",
    "grows mint and lemon verbena on the balcony",
)
PREFERENCES = (
    "prefers calls after 4pm",
    "prefers email over phone",
    "no calls on Mondays",
    "takes oat milk",
    "decaf after noon",
    "nut allergy — no hazelnut-flavoured beans",
    "no small talk — get to the point",
    "loves a handwritten note in the parcel",
    "likes to hear about new single origins first",
)
CUSTOM_DATES = (
    ("Barista championship entry", False),
    ("Shop anniversary party", True),
    ("Autumn menu change", True),
    ("Annual stock-take", True),
)
