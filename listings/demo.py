"""Demo data: a realistic category tree with attributes, and a few hundred
listings with generated photos in several cities. Idempotent: running it again
adds only what is missing (the random choices are seeded, so it is the same
data every time)."""

from __future__ import annotations

import io
import random
from datetime import timedelta
from functools import cache

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from listings import services
from listings.cities import CITIES
from listings.models import Category, CategoryAttribute, Listing, ListingStatus

# name, slug, icon, [attributes], [children]
# attribute: (name, label, type, choices, unit, required, min, max)
_PHONE_BRANDS = ["Apple", "Samsung", "Xiaomi", "Huawei", "Google", "Other"]
_CAR_MAKES = [
    "Toyota",
    "Hyundai",
    "Kia",
    "Lada",
    "Chevrolet",
    "Volkswagen",
    "BMW",
    "Mercedes-Benz",
]
TREE = [
    (
        "Electronics",
        "electronics",
        "📱",
        [],
        [
            (
                "Phones",
                "phones",
                "📱",
                [
                    ("brand", "Brand", "choice", _PHONE_BRANDS, "", True, None, None),
                    (
                        "storage",
                        "Storage",
                        "choice",
                        ["64 GB", "128 GB", "256 GB", "512 GB", "1 TB"],
                        "",
                        False,
                        None,
                        None,
                    ),
                ],
                [],
            ),
            (
                "Laptops",
                "laptops",
                "💻",
                [
                    (
                        "brand",
                        "Brand",
                        "choice",
                        ["Apple", "Lenovo", "HP", "Asus", "Acer", "Dell", "Other"],
                        "",
                        True,
                        None,
                        None,
                    ),
                    ("ram", "Memory", "number", [], "GB", False, 1, 256),
                ],
                [],
            ),
            ("TV and audio", "tv-audio", "📺", [], []),
        ],
    ),
    (
        "Vehicles",
        "vehicles",
        "🚗",
        [],
        [
            (
                "Cars",
                "cars",
                "🚗",
                [
                    ("make", "Make", "choice", _CAR_MAKES, "", True, None, None),
                    ("model", "Model", "text", [], "", False, None, None),
                    ("year", "Year", "year", [], "", True, 1950, None),
                    ("mileage", "Mileage", "number", [], "km", False, 0, 2_000_000),
                    (
                        "fuel",
                        "Fuel",
                        "choice",
                        ["petrol", "diesel", "hybrid", "electric", "gas"],
                        "",
                        False,
                        None,
                        None,
                    ),
                ],
                [],
            ),
            (
                "Motorcycles",
                "motorcycles",
                "🏍️",
                [
                    ("year", "Year", "year", [], "", False, 1950, None),
                    ("mileage", "Mileage", "number", [], "km", False, 0, 500_000),
                ],
                [],
            ),
            ("Spare parts", "spare-parts", "🔧", [], []),
        ],
    ),
    (
        "Real estate",
        "real-estate",
        "🏠",
        [
            (
                "deal",
                "Rent or sale",
                "choice",
                ["rent", "sale"],
                "",
                True,
                None,
                None,
            ),
            ("rooms", "Rooms", "number", [], "", True, 1, 50),
            ("floor_area", "Floor area", "number", [], "m²", False, 1, 100_000),
            ("furnished", "Furnished", "boolean", [], "", False, None, None),
        ],
        [
            ("Apartments", "apartments", "🏢", [], []),
            ("Houses", "houses", "🏡", [], []),
            ("Commercial property", "commercial", "🏬", [], []),
        ],
    ),
    (
        "Home and garden",
        "home-garden",
        "🛋️",
        [],
        [
            ("Furniture", "furniture", "🛋️", [], []),
            ("Appliances", "appliances", "🧺", [], []),
        ],
    ),
    (
        "Fashion",
        "fashion",
        "👗",
        [],
        [
            (
                "Clothing",
                "clothing",
                "👕",
                [
                    (
                        "size",
                        "Size",
                        "choice",
                        ["XS", "S", "M", "L", "XL", "XXL"],
                        "",
                        False,
                        None,
                        None,
                    )
                ],
                [],
            ),
            (
                "Shoes",
                "shoes",
                "👟",
                [("size", "Size", "number", [], "EU", False, 16, 50)],
                [],
            ),
        ],
    ),
    (
        "Hobbies and sport",
        "hobbies",
        "⚽",
        [],
        [
            ("Sports gear", "sports", "🚲", [], []),
            ("Books", "books", "📚", [], []),
        ],
    ),
    (
        "Kids",
        "kids",
        "🧸",
        [],
        [("Toys", "toys", "🧸", [], []), ("Strollers", "strollers", "👶", [], [])],
    ),
]


@transaction.atomic
def seed_categories() -> dict[str, Category]:
    """Create (or bring up to date) the demo category tree; returns it by slug."""
    by_slug: dict[str, Category] = {}

    def walk(nodes, parent):
        for order, (name, slug, icon, attributes, children) in enumerate(nodes):
            existing = Category.objects.filter(slug=slug).first()
            category = services.category_save(
                category=existing,
                parent=parent,
                name=name,
                slug=slug,
                icon=icon,
                order=(order + 1) * 10,
                is_active=True,
            )
            by_slug[slug] = category
            for position, spec in enumerate(attributes):
                name_, label, type_, choices, unit, required, low, high = spec
                attribute = CategoryAttribute.objects.filter(
                    category=category, name=name_
                ).first() or CategoryAttribute(category=category, name=name_)
                attribute.label = label
                attribute.type = type_
                attribute.choices = list(choices)
                attribute.unit = unit
                attribute.is_required = required
                attribute.min_value = low
                attribute.max_value = high
                attribute.order = position * 10
                services.category_attribute_save(attribute=attribute)
            walk(children, category)

    walk(TREE, None)
    return by_slug


# --- Listings -------------------------------------------------------------------

# slug -> (title templates, price range in major units)
_ITEMS = {
    "phones": (
        ["{brand} phone, {storage}", "{brand} smartphone in great shape"],
        (30_000, 900_000),
    ),
    "laptops": (
        ["{brand} laptop, {ram} GB RAM", "{brand} notebook for work"],
        (60_000, 1_200_000),
    ),
    "tv-audio": (
        [
            "Smart TV 55 inch",
            "Bluetooth speaker",
            "Soundbar with subwoofer",
            "Vinyl record player",
        ],
        (10_000, 400_000),
    ),
    "cars": (
        ["{make} {model} {year}", "{make} {model}, {year}, one owner"],
        (1_500_000, 25_000_000),
    ),
    "motorcycles": (["Motorcycle {year}", "Scooter, {year}"], (200_000, 3_000_000)),
    "spare-parts": (
        ["Winter tyres R16", "Alloy wheels R17", "Car battery 75Ah"],
        (8_000, 250_000),
    ),
    "apartments": (
        [
            "{rooms}-room apartment, {floor_area} m²",
            "Bright {rooms}-room flat near the park",
        ],
        (120_000, 60_000_000),
    ),
    "houses": (
        ["House with garden, {floor_area} m²", "{rooms}-room house"],
        (250_000, 120_000_000),
    ),
    "commercial": (
        ["Office space {floor_area} m²", "Shop premises on a busy street"],
        (200_000, 90_000_000),
    ),
    "furniture": (
        ["Corner sofa", "Oak dining table", "Wardrobe with mirror", "Office chair"],
        (5_000, 350_000),
    ),
    "appliances": (
        ["Washing machine", "Fridge, two doors", "Microwave oven", "Vacuum cleaner"],
        (8_000, 450_000),
    ),
    "clothing": (
        ["Winter jacket, size {size}", "Wool coat, size {size}", "Dress, size {size}"],
        (3_000, 90_000),
    ),
    "shoes": (
        ["Leather boots, EU {size}", "Running shoes, EU {size}"],
        (4_000, 70_000),
    ),
    "sports": (
        ["Mountain bike", "Skis with bindings", "Dumbbell set", "Tennis racket"],
        (5_000, 400_000),
    ),
    "books": (
        ["Box of novels", "Programming books", "Kazakh history atlas"],
        (1_000, 30_000),
    ),
    "toys": (["LEGO set", "Wooden train set", "Board games bundle"], (2_000, 60_000)),
    "strollers": (["Stroller 3-in-1", "Light travel stroller"], (15_000, 250_000)),
}
_MODELS = {
    "Toyota": ["Camry", "Corolla", "RAV4", "Land Cruiser"],
    "Hyundai": ["Accent", "Elantra", "Tucson", "Sonata"],
    "Kia": ["Rio", "Sportage", "K5"],
    "Lada": ["Granta", "Vesta", "Niva"],
    "Chevrolet": ["Cobalt", "Nexia", "Malibu"],
    "Volkswagen": ["Polo", "Passat", "Tiguan"],
    "BMW": ["320i", "X5", "520d"],
    "Mercedes-Benz": ["C 200", "E 220", "GLC"],
}
_PALETTE = [
    (139, 94, 60),
    (52, 101, 164),
    (78, 154, 6),
    (196, 160, 0),
    (117, 80, 123),
    (204, 0, 0),
    (6, 152, 154),
    (245, 121, 0),
]
DEMO_CITIES = ["Almaty", "Astana", "Shymkent", "Karaganda"]
DEMO_DESCRIPTION = (
    "{title}. Well looked after, works as it should. Can show it in {city} any "
    "evening or at the weekend; a fair offer is welcome. Photos are of the item "
    "itself."
)


def _attributes_for(slug: str, rng: random.Random) -> dict:
    year = timezone.now().year
    if slug == "phones":
        return {
            "brand": rng.choice(_PHONE_BRANDS),
            "storage": rng.choice(["64 GB", "128 GB", "256 GB", "512 GB"]),
        }
    if slug == "laptops":
        return {
            "brand": rng.choice(["Apple", "Lenovo", "HP", "Asus", "Dell"]),
            "ram": rng.choice([8, 16, 32]),
        }
    if slug == "cars":
        make = rng.choice(_CAR_MAKES)
        return {
            "make": make,
            "model": rng.choice(_MODELS[make]),
            "year": rng.randint(year - 20, year),
            "mileage": rng.randrange(0, 300_000, 1000),
            "fuel": rng.choice(["petrol", "petrol", "diesel", "hybrid", "gas"]),
        }
    if slug == "motorcycles":
        return {
            "year": rng.randint(year - 15, year),
            "mileage": rng.randrange(0, 60_000, 500),
        }
    if slug in ("apartments", "houses", "commercial"):
        rooms = rng.randint(1, 6 if slug != "commercial" else 3)
        return {
            "deal": rng.choice(["rent", "sale"]),
            "rooms": rooms,
            "floor_area": rooms * rng.randint(18, 35) + rng.randint(5, 20),
            "furnished": rng.random() < 0.5,
        }
    if slug == "clothing":
        return {"size": rng.choice(["S", "M", "L", "XL"])}
    if slug == "shoes":
        return {"size": rng.randint(36, 45)}
    return {}


@cache
def _font(size: int):
    return ImageFont.load_default(size=size)


@cache
def _photo_bytes(slug: str, icon_text: str, variant: int) -> bytes:
    """A generated 800x600 JPEG for a category: coloured background, shapes and
    the category name. Cached: the same few pictures are reused."""
    rng = random.Random(f"{slug}-{variant}")
    base = _PALETTE[(sum(map(ord, slug)) + variant) % len(_PALETTE)]
    image = Image.new("RGB", (800, 600), base)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randint(-100, 700), rng.randint(-100, 500)
        r = rng.randint(60, 220)
        shade = tuple(min(255, max(0, c + rng.randint(-60, 60))) for c in base)
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + r, y + r), fill=shade)
        else:
            draw.rectangle((x, y, x + r, y + r * 0.7), fill=shade)
    draw.rounded_rectangle((60, 220, 740, 380), radius=24, fill=(255, 255, 255))
    draw.text((400, 300), icon_text, fill=base, font=_font(56), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _title(slug: str, rng: random.Random, attributes: dict) -> str:
    templates, _ = _ITEMS[slug]
    values = {
        "brand": "",
        "storage": "",
        "ram": "",
        "make": "",
        "model": "",
        "year": "",
        "rooms": "",
        "floor_area": "",
        "size": "",
    }
    values.update(attributes)
    return " ".join(rng.choice(templates).format(**values).split())[:120]


def seed(*, users, options, stdout) -> None:
    """Load the category tree and up to `options["listings"]` demo listings."""
    categories = seed_categories()
    target = int(options.get("listings") or 240)
    owners = [u for u in users.all if not u.is_superuser] or list(users.all)
    existing = Listing.objects.filter(owner__in=owners).count()
    if existing >= target:
        stdout.write(f"Listings: {existing} demo listings already there.")
        return
    rng = random.Random(2026)
    now = timezone.now()
    created = 0
    with transaction.atomic():
        created = _seed_listings(
            categories, owners, target=target, existing=existing, rng=rng, now=now
        )
    stdout.write(
        f"Listings: {len(categories)} categories, {created} new demo listings "
        f"({existing + created} in all)."
    )


def _seed_listings(categories, owners, *, target, existing, rng, now) -> int:
    leaves = list(_ITEMS)
    created = 0
    # Re-play the same random sequence, skipping the listings already made.
    for index in range(target):
        slug = leaves[index % len(leaves)]
        city = DEMO_CITIES[index % len(DEMO_CITIES)]
        owner = owners[index % len(owners)]
        attributes = _attributes_for(slug, rng)
        title = _title(slug, rng, attributes)
        low, high = _ITEMS[slug][1]
        price_major = rng.randrange(low, high, 500 if high > 100_000 else 100)
        lat, lng = CITIES[city]
        lat += rng.uniform(-0.06, 0.06)
        lng += rng.uniform(-0.08, 0.08)
        age_days = rng.randint(0, 25)
        n_photos = rng.choice([1, 1, 2, 3])
        promoted = rng.random() < 0.06
        if index < existing:
            continue
        listing = services.listing_create(
            owner=owner,
            category=categories[slug],
            title=title,
            description=DEMO_DESCRIPTION.format(title=title, city=city),
            price=price_major * 100,
            is_negotiable=rng.random() < 0.4,
            condition="new" if rng.random() < 0.25 else "used",
            city=city,
            lat=round(lat, 6),
            lng=round(lng, 6),
            attributes=attributes,
        )
        for variant in range(n_photos):
            upload = SimpleUploadedFile(
                "demo.jpg",
                _photo_bytes(slug, categories[slug].name, variant),
                content_type="image/jpeg",
            )
            services.listing_image_add(listing=listing, actor=owner, upload=upload)
        # Spread publication over the last weeks, as a live site would have.
        published = now - timedelta(days=age_days, hours=rng.randint(0, 23))
        Listing.objects.filter(pk=listing.pk).update(
            status=ListingStatus.ACTIVE,
            published_at=published,
            bumped_at=published,
            expires_at=published + timedelta(days=30),
            featured_until=now + timedelta(days=5) if promoted else None,
            is_promoted=promoted,
        )
        created += 1
    return created
