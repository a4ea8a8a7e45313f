"""Word lists for benchmark listings: per-category nouns and phrases, so titles
and descriptions read like a classifieds site, and the words the search
scenario looks for (each one occurs in its category's titles).

Shared by `seed_listings.py` (to write the rows) and `run_bench.py` (to ask
for words that exist)."""

# leaf slug -> nouns that go into titles (lower-case in the search vector)
NOUNS: dict[str, list[str]] = {
    "phones": ["phone", "smartphone", "iphone", "galaxy", "redmi", "pixel"],
    "laptops": ["laptop", "notebook", "macbook", "thinkpad", "ultrabook"],
    "tv-audio": ["tv", "speaker", "soundbar", "headphones", "amplifier", "turntable"],
    "cars": ["sedan", "hatchback", "crossover", "suv", "wagon"],
    "motorcycles": ["motorcycle", "scooter", "moped", "enduro", "chopper"],
    "spare-parts": ["tyres", "wheels", "battery", "bumper", "headlight", "gearbox"],
    "apartments": ["apartment", "flat", "studio", "penthouse"],
    "houses": ["house", "cottage", "dacha", "townhouse"],
    "commercial": ["office", "shop", "warehouse", "premises", "cafe"],
    "furniture": ["sofa", "table", "wardrobe", "chair", "bed", "shelf", "dresser"],
    "appliances": ["fridge", "washer", "microwave", "vacuum", "oven", "dishwasher"],
    "clothing": ["jacket", "coat", "dress", "jeans", "sweater", "shirt"],
    "shoes": ["boots", "sneakers", "sandals", "loafers", "heels"],
    "sports": ["bike", "skis", "dumbbells", "racket", "treadmill", "snowboard"],
    "books": ["novels", "textbook", "atlas", "encyclopedia", "comics"],
    "toys": ["lego", "doll", "puzzle", "train", "robot", "blocks"],
    "strollers": ["stroller", "pram", "carrycot", "buggy"],
}
ADJECTIVES = [
    "new",
    "used",
    "excellent",
    "good",
    "clean",
    "modern",
    "vintage",
    "compact",
    "large",
    "small",
    "premium",
    "cheap",
    "reliable",
    "beautiful",
    "original",
    "spacious",
    "quiet",
    "light",
    "warm",
    "white",
    "black",
    "grey",
    "red",
    "blue",
]
# {noun}, {adj}, {city} are filled in; a description is 3 to 6 of these.
PHRASES = [
    "Selling my {adj} {noun} because we are moving.",
    "The {noun} is in {adj} condition, no scratches or dents.",
    "Bought two years ago, used carefully and kept at home.",
    "Pick-up in {city}, delivery across the city is possible for a fee.",
    "All documents and the original box are included.",
    "Price is slightly negotiable for a quick deal.",
    "Call or write in the chat, I answer in the evening.",
    "No exchanges, serious buyers only please.",
    "Can show it any day after work or at the weekend.",
    "A {adj} {noun} for a family or a student.",
    "Everything works, checked before listing.",
    "Photos are real and taken this week in {city}.",
    "Reason for sale: upgraded to a newer {noun}.",
    "Will consider a trade for a {adj} {noun}.",
]

# (q, category slug) pairs for the text + category + price scenario: the word
# is one of the category's nouns, the slug the leaf or its parent.
SEARCH_TERMS: list[tuple[str, str]] = [
    ("sofa", "furniture"),
    ("wardrobe", "home-garden"),
    ("fridge", "appliances"),
    ("iphone", "phones"),
    ("galaxy", "electronics"),
    ("laptop", "laptops"),
    ("soundbar", "tv-audio"),
    ("toyota", "cars"),
    ("camry", "vehicles"),
    ("tyres", "spare-parts"),
    ("apartment", "real-estate"),
    ("flat", "apartments"),
    ("cottage", "houses"),
    ("jacket", "clothing"),
    ("boots", "fashion"),
    ("bike", "sports"),
    ("lego", "kids"),
    ("stroller", "strollers"),
]
