"""Photo safety: only clean, resized JPEGs are stored, and files go away with
their rows."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from core.errors import NotFound, PermissionDenied, ValidationError
from core.tests.image_files import png_header_only
from listings import services
from listings.images import image_process
from listings.models import ListingImage
from listings.tests.factories import ListingFactory
from listings.tests.images import gps_exif, image_bytes, upload

pytestmark = pytest.mark.django_db


def open_image(content) -> Image.Image:
    content.seek(0)
    return Image.open(io.BytesIO(content.read()))


def test_gps_exif_is_stripped_and_orientation_applied():
    # given a 600x400 JPEG with GPS, a camera model and "rotate 90°" (6)
    data = image_bytes(size=(600, 400), exif=gps_exif(orientation=6))
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # GPS present
    # when processed
    result = image_process(upload(data))
    # then no metadata is left and the picture stands upright (400x600)
    display = open_image(result.display)
    assert display.format == "JPEG"
    assert display.size == (400, 600)
    assert dict(display.getexif()) == {}
    assert "exif" not in display.info
    assert "icc_profile" not in display.info
    assert b"Secret Camera" not in result.display.open().read()
    thumb = open_image(result.thumbnail)
    assert thumb.size == (400, 300)
    assert dict(thumb.getexif()) == {}


def test_large_photo_is_resized_to_display_size():
    result = image_process(upload(image_bytes(size=(4000, 3000))))
    assert (result.width, result.height) == (1600, 1200)
    assert open_image(result.display).size == (1600, 1200)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_and_stored_as_jpeg(fmt):
    result = image_process(upload(image_bytes(fmt=fmt), name=f"x.{fmt.lower()}"))
    assert open_image(result.display).format == "JPEG"


def test_transparent_png_is_flattened_on_white():
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    result = image_process(upload(out.getvalue(), name="t.png"))
    assert open_image(result.display).convert("RGB").getpixel((25, 25)) == (
        255,
        255,
        255,
    )


def test_decompression_bomb_is_refused():
    # a tiny PNG that claims 900 megapixels
    bomb = png_header_only(30_000, 30_000)
    with pytest.raises(ValidationError) as exc:
        image_process(upload(bomb, name="bomb.png", content_type="image/png"))
    assert exc.value.field == "image"
    assert exc.value.code == "image_too_large"


def test_pixel_limit_is_enforced(settings):
    settings.LISTING_IMAGE_MAX_PIXELS = 1000 * 1000
    with pytest.raises(ValidationError) as exc:
        image_process(upload(image_bytes(size=(1200, 1000))))
    assert exc.value.code == "image_too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4 not an image at all",
        b"GIF89a" + b"\x00" * 100,
        b"",
        image_bytes()[:200],  # truncated JPEG
    ],
)
def test_non_images_are_refused(data):
    with pytest.raises(ValidationError) as exc:
        image_process(upload(data))
    assert exc.value.field == "image"


def test_gif_is_refused_even_when_valid():
    with pytest.raises(ValidationError):
        image_process(upload(image_bytes(fmt="GIF"), name="a.gif"))


def test_byte_limit_is_enforced(settings):
    settings.LISTING_IMAGE_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        image_process(upload(image_bytes(size=(800, 600))))
    assert "at most" in exc.value.message


# --- Through the services -------------------------------------------------------


def test_added_photos_are_ordered_and_stored(django_capture_on_commit_callbacks):
    listing = ListingFactory()
    first = services.listing_image_add(
        listing=listing, actor=listing.owner, upload=upload(image_bytes())
    )
    second = services.listing_image_add(
        listing=listing, actor=listing.owner, upload=upload(image_bytes())
    )
    assert [first.position, second.position] == [0, 1]
    # stored under random names, so photo URLs cannot be guessed
    assert first.image.name.startswith("listings/")
    assert first.image.name.endswith("-display.jpg")
    assert first.thumbnail.name.endswith("-thumb.jpg")
    assert first.image.name.split("/")[-1] != second.image.name.split("/")[-1]
    assert (first.width, first.height) == (640, 480)
    assert default_storage.exists(first.image.name)
    assert default_storage.exists(first.thumbnail.name)
    assert listing.cover == first


def test_at_most_ten_photos(settings):
    listing = ListingFactory()
    for i in range(10):
        ListingImage.objects.create(
            listing=listing, image=f"{i}.jpg", thumbnail=f"{i}t.jpg", position=i
        )
    with pytest.raises(ValidationError) as exc:
        services.listing_image_add(
            listing=listing, actor=listing.owner, upload=upload(image_bytes())
        )
    assert exc.value.code == "too_many_images"
    assert ListingImage.objects.filter(listing=listing).count() == 10


def test_another_user_cannot_add_photos(other_user):
    listing = ListingFactory()
    with pytest.raises(PermissionDenied):
        services.listing_image_add(
            listing=listing, actor=other_user, upload=upload(image_bytes())
        )
    assert not ListingImage.objects.exists()


def test_deleting_a_photo_deletes_its_files_and_closes_the_gap(
    django_capture_on_commit_callbacks,
):
    listing = ListingFactory()
    images = [
        services.listing_image_add(
            listing=listing, actor=listing.owner, upload=upload(image_bytes())
        )
        for _ in range(3)
    ]
    names = [images[0].image.name, images[0].thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_image_delete(image=images[0], actor=listing.owner)
    assert not any(default_storage.exists(n) for n in names)
    assert list(
        ListingImage.objects.filter(listing=listing).values_list("pk", "position")
    ) == [(images[1].pk, 0), (images[2].pk, 1)]


def test_deleting_a_listing_deletes_all_its_files(django_capture_on_commit_callbacks):
    listing = ListingFactory()
    image = services.listing_image_add(
        listing=listing, actor=listing.owner, upload=upload(image_bytes())
    )
    names = [image.image.name, image.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        services.listing_delete(listing=listing, actor=listing.owner)
    assert not any(default_storage.exists(n) for n in names)
    assert not ListingImage.objects.exists()


def test_files_stay_when_the_delete_is_refused(
    other_user, django_capture_on_commit_callbacks
):
    listing = ListingFactory()
    image = services.listing_image_add(
        listing=listing, actor=listing.owner, upload=upload(image_bytes())
    )
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(PermissionDenied),
    ):
        services.listing_image_delete(image=image, actor=other_user)
    assert default_storage.exists(image.image.name)
    assert ListingImage.objects.filter(pk=image.pk).exists()


def test_reorder_sets_the_cover():
    listing = ListingFactory()
    a, b, c = (
        ListingImage.objects.create(
            listing=listing, image=f"{i}.jpg", thumbnail=f"{i}t.jpg", position=i
        )
        for i in range(3)
    )
    services.listing_images_reorder(
        listing=listing, actor=listing.owner, image_ids=[c.pk, a.pk, b.pk]
    )
    assert list(listing.images.values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    with pytest.raises(ValidationError):
        services.listing_images_reorder(
            listing=listing, actor=listing.owner, image_ids=[c.pk, a.pk]
        )
    with pytest.raises(ValidationError):
        services.listing_images_reorder(
            listing=listing, actor=listing.owner, image_ids=[c.pk, a.pk, b.pk, 999]
        )
    assert list(listing.images.values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]


def test_hidden_listing_photos_are_not_found_for_others(other_user):
    listing = ListingFactory(status="draft")
    image = ListingImage.objects.create(
        listing=listing, image="a.jpg", thumbnail="b.jpg", position=0
    )
    with pytest.raises(NotFound):
        services.listing_image_delete(image=image, actor=other_user)
