import io

import pytest
from PIL import Image

from accounts.tests.factories import UserFactory
from listings.tests.factories import ListingFactory


@pytest.fixture
def seller(db):
    return UserFactory(display_name="Sam Seller")


@pytest.fixture
def buyer(db):
    return UserFactory(display_name="Bea Buyer")


@pytest.fixture
def outsider(db):
    return UserFactory(display_name="Olly Outsider")


@pytest.fixture
def listing(seller):
    return ListingFactory(owner=seller, title="Red bicycle")


@pytest.fixture
def conversation(buyer, listing):
    """A conversation started the real way: the buyer's first message."""
    from chat.services import conversation_start

    convo, _message = conversation_start(
        user=buyer, listing_id=listing.pk, text="Hi, is it available?"
    )
    return convo


@pytest.fixture
def png_upload():
    def make(name="photo.png", size=(40, 30), fmt="PNG", exif=None):
        from django.core.files.uploadedfile import SimpleUploadedFile

        buf = io.BytesIO()
        image = Image.new("RGB", size, (200, 100, 50))
        kwargs = {"exif": exif} if exif is not None else {}
        image.save(buf, fmt, **kwargs)
        content_type = {"PNG": "image/png", "JPEG": "image/jpeg"}.get(fmt, "image/webp")
        return SimpleUploadedFile(name, buf.getvalue(), content_type=content_type)

    return make
