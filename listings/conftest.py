"""Fixtures of the listings tests."""

import pytest


@pytest.fixture
def tree(db):
    """The demo category tree with its attribute declarations, by slug."""
    from listings.demo import seed_categories

    return seed_categories()


@pytest.fixture
def car_attributes():
    return {"make": "Toyota", "model": "Camry", "year": 2018, "mileage": 90_000}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories create many users; real hashing would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
