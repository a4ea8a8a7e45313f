import pytest
from django.test import override_settings

BAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(client):
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": BAD_REDIS,
        }
    }
    with override_settings(REDIS_URL=BAD_REDIS, CACHES=redis_cache):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": "ok", "redis": "error"},
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_only_reads(client):
    response = client.post("/healthz")

    assert response.status_code == 405


@pytest.mark.services
@pytest.mark.django_db
def test_healthz_checks_redis_in_production(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }
