"""Cities a listing can be placed in, with their centres.

A seller who does not pick a point on the map gets the centre of the city they
chose, so every listing has a location for the map and distance search.
"""

# name -> (lat, lng) of the city centre
CITIES: dict[str, tuple[float, float]] = {
    "Almaty": (43.2567, 76.9286),
    "Astana": (51.1282, 71.4304),
    "Shymkent": (42.3417, 69.5901),
    "Karaganda": (49.8047, 73.1094),
    "Aktobe": (50.2839, 57.1670),
    "Taraz": (42.9000, 71.3667),
    "Pavlodar": (52.2873, 76.9674),
    "Oskemen": (49.9483, 82.6279),
    "Semey": (50.4111, 80.2275),
    "Atyrau": (47.1164, 51.8831),
    "Kostanay": (53.2198, 63.6354),
    "Kyzylorda": (44.8528, 65.5092),
    "Aktau": (43.6481, 51.1722),
    "Oral": (51.2333, 51.3667),
    "Petropavl": (54.8753, 69.1628),
    "Turkestan": (43.2973, 68.2518),
}


def city_normalize(name: str) -> str:
    """The canonical spelling of a city name: a known city's own, else tidied."""
    cleaned = " ".join((name or "").split())
    for known in CITIES:
        if known.casefold() == cleaned.casefold():
            return known
    return cleaned


def city_centre(name: str) -> tuple[float, float] | None:
    """(lat, lng) of a known city's centre, or None."""
    return CITIES.get(city_normalize(name))
