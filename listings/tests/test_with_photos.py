"""A listing and its photos in one transaction: all or nothing, files included."""

import pytest
from django.core.files.storage import default_storage

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from listings import services
from listings.models import Listing, ListingImage, ListingStatus
from listings.services import with_photos
from listings.tests.factories import CategoryFactory, ListingFactory
from listings.tests.images import image_bytes, upload

pytestmark = pytest.mark.django_db


def stored_files(folder="listings") -> set[str]:
    """Every file below `folder` in the media storage, whatever its backend."""
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return set()
    names = {f"{folder}/{name}" for name in files}
    for sub in folders:
        names |= stored_files(f"{folder}/{sub}")
    return names


def listing_fields(**overrides):
    fields = {
        "category": CategoryFactory(),
        "title": "Mountain bike",
        "description": "Barely used.",
        "price": 5_000_000,
        "condition": "used",
        "city": "Almaty",
    }
    fields.update(overrides)
    return fields


def photos(count):
    return [upload(image_bytes(), name=f"p{n}.jpg") for n in range(count)]


# --- Create ---------------------------------------------------------------------


def test_create_stores_the_listing_and_its_photos_in_order(user, settings):
    # given the site publishes without review
    settings.LISTINGS_REQUIRE_REVIEW = False
    # when a listing is posted with two photos and "publish"
    listing = services.listing_create_with_photos(
        owner=user, photos=photos(2), publish=True, **listing_fields()
    )
    # then it is live with both photos, and exactly their four files exist
    assert listing.status == ListingStatus.ACTIVE
    images = list(listing.images.order_by("position"))
    assert [image.position for image in images] == [0, 1]
    names = {n for image in images for n in (image.image.name, image.thumbnail.name)}
    assert len(names) == 4
    assert stored_files() == names


def test_create_without_publish_keeps_a_draft(user):
    listing = services.listing_create_with_photos(
        owner=user, photos=photos(1), **listing_fields()
    )
    assert listing.status == ListingStatus.DRAFT
    assert listing.images.count() == 1


def test_a_bad_later_photo_writes_nothing_at_all(user):
    # given a good photo followed by a file that is not an image
    uploads = [*photos(1), upload(b"%PDF-1.4 not a photo", name="scan.jpg")]
    # when the listing is posted
    with pytest.raises(ValidationError) as exc:
        services.listing_create_with_photos(
            owner=user, photos=uploads, **listing_fields()
        )
    # then the error names the file, and no row and no file was written
    assert exc.value.field == "image"
    assert exc.value.message.startswith("“scan.jpg”: ")
    assert not Listing.objects.exists()
    assert not ListingImage.objects.exists()
    assert stored_files() == set()


def test_a_later_photo_failing_after_files_were_written_leaves_no_files(user, settings):
    # given room for one photo only, and two photos that both decode fine
    settings.LISTING_MAX_IMAGES = 1
    # when the second one is refused while storing (the first is on disk by then)
    with pytest.raises(ValidationError) as exc:
        services.listing_create_with_photos(
            owner=user, photos=photos(2), **listing_fields()
        )
    # then the rows are rolled back and the first photo's files deleted
    assert exc.value.code == "too_many_images"
    assert not Listing.objects.exists()
    assert not ListingImage.objects.exists()
    assert stored_files() == set()


def test_a_failing_publish_removes_the_photos_already_stored(user, monkeypatch):
    # given publishing fails after every photo was stored
    def refuse(**kwargs):
        assert len(stored_files()) == 4  # the files really were written
        raise Conflict("No publishing today.")

    monkeypatch.setattr(with_photos, "listing_publish", refuse)
    # when a listing with two photos is posted and published
    with pytest.raises(Conflict):
        services.listing_create_with_photos(
            owner=user, photos=photos(2), publish=True, **listing_fields()
        )
    # then nothing is left behind, in the database or in storage
    assert not Listing.objects.exists()
    assert stored_files() == set()


def test_a_storage_failure_on_a_later_photo_removes_the_earlier_files(
    user, monkeypatch
):
    # given the storage fails on the third file it is asked to write
    real_save = default_storage.save
    calls = []

    def flaky_save(name, content, max_length=None):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_save(name, content, max_length=max_length)

    # Set on the storage object the lazy default_storage stands for.
    monkeypatch.setattr(default_storage, "save", flaky_save)
    # when two photos are posted (display + thumbnail each)
    with pytest.raises(OSError):
        services.listing_create_with_photos(
            owner=user, photos=photos(2), **listing_fields()
        )
    # then the two files of the first photo are gone again
    assert len(calls) == 3
    assert not Listing.objects.exists()
    assert stored_files() == set()


def test_anonymous_users_cannot_create_and_nothing_is_written(
    django_user_model,
):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.listing_create_with_photos(
            owner=AnonymousUser(), photos=photos(1), **listing_fields()
        )
    assert not Listing.objects.exists()
    assert stored_files() == set()


def test_invalid_fields_write_no_files(user):
    with pytest.raises(ValidationError) as exc:
        services.listing_create_with_photos(
            owner=user, photos=photos(2), **listing_fields(title="x")
        )
    assert exc.value.field == "title"
    assert stored_files() == set()


# --- Update ---------------------------------------------------------------------


def listing_with_photos(owner, count, **kwargs):
    listing = ListingFactory(owner=owner, **kwargs)
    for upload_file in photos(count):
        services.listing_image_add(listing=listing, actor=owner, upload=upload_file)
    return listing


def files_of(images):
    return {n for image in images for n in (image.image.name, image.thumbnail.name)}


def test_update_deletes_adds_and_reorders_photos(
    user, django_capture_on_commit_callbacks
):
    # given a listing with three photos
    listing = listing_with_photos(user, 3)
    first, second, third = listing.images.order_by("position")
    # when the owner deletes the second, puts the third first and adds one
    with django_capture_on_commit_callbacks(execute=True):
        updated = services.listing_update_with_photos(
            listing=listing,
            actor=user,
            photos=photos(1),
            delete_ids=[second.pk],
            order=[third.pk, first.pk],
            title="Renamed bike",
        )
    # then the order is third, first, new; the deleted photo's files are gone
    images = list(updated.images.order_by("position"))
    assert updated.title == "Renamed bike"
    assert [image.pk for image in images[:2]] == [third.pk, first.pk]
    assert [image.position for image in images] == [0, 1, 2]
    assert stored_files() == files_of(images)


def test_a_failed_update_keeps_old_photos_and_removes_new_files(
    user, settings, django_capture_on_commit_callbacks
):
    # given a listing with two photos, and room for two only
    listing = listing_with_photos(user, 2, title="Old title")
    before = files_of(listing.images.all())
    settings.LISTING_MAX_IMAGES = 2
    first = listing.images.order_by("position").first()
    # when one photo is deleted and two are added (the second is one too many)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as exc,
    ):
        services.listing_update_with_photos(
            listing=listing,
            actor=user,
            photos=photos(2),
            delete_ids=[first.pk],
            title="New title",
        )
    # then nothing changed: title, both old photos and their files; no new file
    assert exc.value.code == "too_many_images"
    listing.refresh_from_db()
    assert listing.title == "Old title"
    assert listing.images.count() == 2
    assert stored_files() == before


def test_update_publishes_a_draft_when_asked(user, settings):
    settings.LISTINGS_REQUIRE_REVIEW = False
    listing = listing_with_photos(user, 1, status=ListingStatus.DRAFT)
    updated = services.listing_update_with_photos(
        listing=listing, actor=user, publish=True, title="Ready now"
    )
    assert updated.status == ListingStatus.ACTIVE
    assert updated.title == "Ready now"


@pytest.mark.parametrize(
    ("status", "error"),
    [(ListingStatus.ACTIVE, PermissionDenied), (ListingStatus.DRAFT, NotFound)],
)
def test_others_cannot_update_and_nothing_changes(user, other_user, status, error):
    listing = listing_with_photos(user, 1, status=status, title="Mine")
    before = files_of(listing.images.all())
    with pytest.raises(error):
        services.listing_update_with_photos(
            listing=listing,
            actor=other_user,
            photos=photos(1),
            delete_ids=[listing.images.get().pk],
            title="Stolen",
        )
    listing.refresh_from_db()
    assert listing.title == "Mine"
    assert listing.images.count() == 1
    assert stored_files() == before
