"""The best hand-written SQL for each benchmark scenario: the same page of
results the API returns (same rows, same order), with what a card or the detail
page shows (owner, category, cover or all photos) in ONE statement.

Each function takes the request's query parameters (as the API parses them)
and returns (sql, params) for psycopg's client-side binding.
"""

from __future__ import annotations

from listings.search import SearchParams, search_terms

# What a card shows: listing, category, seller, cover thumbnail.
CARD_COLUMNS = """
    l.id, l.title, l.price, l.currency, l.is_negotiable, l.condition, l.city,
    l.location, l.status, l.published_at, l.bumped_at, l.featured_until,
    l.top_until,
    c.id AS category_id, c.name AS category_name, c.slug AS category_slug,
    c.icon AS category_icon,
    u.id AS seller_id, u.display_name, u.city AS seller_city, u.is_verified,
    u.date_joined,
    (SELECT i.thumbnail FROM listings_listingimage i
      WHERE i.listing_id = l.id ORDER BY i.position, i.id LIMIT 1) AS thumbnail
"""
JOINS = """
    JOIN listings_category c ON c.id = l.category_id
    JOIN accounts_user u ON u.id = l.owner_id
"""
# Promoted listings come first: the stored flag (listings migration 0005),
# kept by the promotion services and a per-minute job.
PROMOTED = "l.is_promoted"


def detail(pk: int) -> tuple[str, dict]:
    sql = f"""
    SELECT {CARD_COLUMNS}, l.description, l.attributes, l.view_count,
      l.created_at, l.updated_at, l.expires_at,
      (SELECT json_agg(json_build_object(
                'id', i.id, 'position', i.position, 'image', i.image,
                'thumbnail', i.thumbnail, 'width', i.width, 'height', i.height)
              ORDER BY i.position, i.id)
         FROM listings_listingimage i WHERE i.listing_id = l.id) AS images
    FROM listings_listing l {JOINS}
    WHERE l.id = %(pk)s AND l.status IN ('active', 'sold')
    """
    return sql, {"pk": pk}


def newest(limit: int = 20) -> tuple[str, dict]:
    # One backward scan of (status, is_promoted, bumped_at, id), stopping
    # after a page.
    sql = f"""
    WITH page AS (
      SELECT l.id, l.bumped_at, l.is_promoted FROM listings_listing l
       WHERE l.status = 'active'
       ORDER BY l.is_promoted DESC, l.bumped_at DESC, l.id DESC LIMIT %(limit)s
    )
    SELECT {CARD_COLUMNS} FROM page p
    JOIN listings_listing l ON l.id = p.id {JOINS}
    ORDER BY p.is_promoted DESC, p.bumped_at DESC, p.id DESC
    """
    return sql, {"limit": limit}


def nearby(params: SearchParams, limit: int = 20) -> tuple[str, dict]:
    # A pure KNN scan of the GiST index (ORDER BY <-> LIMIT n), then the
    # radius check on those n rows: it never reads more than n index entries.
    # Nothing may follow the distance in the inner ORDER BY: `<->, id` is not
    # index-ordered and turns the scan into a sort of every active row.
    sql = f"""
    SELECT {CARD_COLUMNS}, s.distance_m FROM (
      SELECT l.id, l.location <-> %(point)s::geography AS knn,
             ST_Distance(l.location, %(point)s::geography, false) AS distance_m
        FROM listings_listing l
       WHERE l.status = 'active'
       ORDER BY l.location <-> %(point)s::geography
       LIMIT %(limit)s
    ) s
    JOIN listings_listing l ON l.id = s.id {JOINS}
    WHERE s.knn <= %(radius_m)s
    ORDER BY s.knn, s.id
    """
    return sql, {
        "point": f"SRID=4326;POINT({params.lng} {params.lat})",
        "radius_m": params.radius_km * 1000,
        "limit": limit,
    }


# The RUM walk's margin and order (listings.search_pages).
TIE_MARGIN = 4
RUM_NEWEST = "l.bumped_at <=| '2100-01-01 00:00:00+00'::timestamptz"


def search(
    params: SearchParams, category_ids: list[int], limit: int = 20, *, rum=False
):
    """`rum`: the RUM indexes of listings migration 0006 exist; then newest
    first is read from them (search_rum). Otherwise (sql, params)."""
    if rum and params.ordering == "newest":
        return search_rum(params, category_ids, limit)
    # Newest first (the default): a backward walk of the feed index, checking
    # each row's words, category and price, stopping at a page. Relevance:
    # ranking needs every match; the GIN index finds them, the category and
    # price filters are checked on the matches, then a top-n sort.
    tsquery = " & ".join(f"{t}:*" for t in search_terms(params.q))
    ranked = params.ordering != "newest"
    rank = ", ts_rank(l.search_vector, q.q) AS rank" if ranked else ""
    by_rank = "rank DESC, " if ranked else ""
    sql = f"""
    WITH m AS (
      SELECT l.id, l.bumped_at, {PROMOTED} AS promoted{rank}
        FROM listings_listing l, to_tsquery('simple', %(tsquery)s) AS q(q)
       WHERE l.search_vector @@ q.q AND l.status = 'active'
         AND l.category_id = ANY(%(category_ids)s)
         AND l.price BETWEEN %(price_min)s AND %(price_max)s
       ORDER BY promoted DESC, {by_rank}l.bumped_at DESC, l.id DESC
       LIMIT %(limit)s
    )
    SELECT {CARD_COLUMNS} FROM m
    JOIN listings_listing l ON l.id = m.id {JOINS}
    ORDER BY m.promoted DESC, {by_rank and "m." + by_rank}m.bumped_at DESC, m.id DESC
    """
    return sql, {
        "tsquery": tsquery,
        "category_ids": category_ids,
        "price_min": params.price_min,
        "price_max": params.price_max,
        "limit": limit,
    }


def search_rum(params: SearchParams, category_ids: list[int], limit: int = 20):
    """Newest first from the two partial RUM indexes: the promoted listings'
    index walked in `bumped_at` order from inside the index (it stops after
    the page, reading only the rows it returns or the filters reject), then,
    only when those do not fill the page (LIMIT 0 never starts the scan), the
    other listings' index. Each walk reads TIE_MARGIN rows past the page so
    that listings bumped at the same instant are ordered by id. Returns (sql,
    params, settings): bitmap scans off, or the planner, misjudging how many
    rows match, collects every match and sorts them."""
    walk = f"""
      SELECT l.id, l.bumped_at FROM listings_listing l
       WHERE l.search_vector @@ to_tsquery('simple', %(tsquery)s)
         AND l.status = 'active' AND {{promoted}}
         AND l.category_id = ANY(%(category_ids)s)
         AND l.price BETWEEN %(price_min)s AND %(price_max)s
       ORDER BY {RUM_NEWEST}"""
    sql = f"""
    WITH p AS MATERIALIZED ({walk.format(promoted="l.is_promoted")}
       LIMIT %(walk)s),
    r AS MATERIALIZED ({walk.format(promoted="NOT l.is_promoted")}
       LIMIT CASE WHEN (SELECT count(*) FROM p) >= %(limit)s THEN 0
                  ELSE %(walk)s END),
    m AS (
      SELECT true AS promoted, id, bumped_at FROM p
      UNION ALL SELECT false, id, bumped_at FROM r
      ORDER BY promoted DESC, bumped_at DESC, id DESC LIMIT %(limit)s
    )
    SELECT {CARD_COLUMNS} FROM m
    JOIN listings_listing l ON l.id = m.id {JOINS}
    ORDER BY m.promoted DESC, m.bumped_at DESC, m.id DESC
    """
    values = {
        "tsquery": " & ".join(f"{t}:*" for t in search_terms(params.q)),
        "category_ids": category_ids,
        "price_min": params.price_min,
        "price_max": params.price_max,
        "limit": limit,
        "walk": limit + TIE_MARGIN,
    }
    return sql, values, {"enable_bitmapscan": "off"}
