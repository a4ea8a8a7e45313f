# The database of docker-compose.yml: PostGIS with the optional RUM extension,
# which newest-first text search reads its pages from (listings migration
# 0006; docs/listings.md, Search). The postgis image is Debian with the
# PostgreSQL project's apt repository, which carries postgresql-15-rum.
FROM postgis/postgis:15-3.4

RUN apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}-rum" \
    && rm -rf /var/lib/apt/lists/*
