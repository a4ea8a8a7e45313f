"""Media on S3-compatible storage through django-storages, against moto's server."""

import json
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.files.base import ContentFile

from tests.utils import clean_env, python

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS
    )


@pytest.fixture
def bucket(s3):
    """A bucket anyone may read from, as plain (unsigned) media URLs need."""
    name = f"media-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
    return name


@pytest.fixture
def private_bucket(s3):
    name = f"private-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def public_read_policy(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def s3_storage(*, endpoint, bucket, **options):
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": REGION,
            "access_key": CREDENTIALS["aws_access_key_id"],
            "secret_key": CREDENTIALS["aws_secret_access_key"],
            "querystring_auth": False,
            "file_overwrite": False,
            "default_acl": None,
            **options,
        },
    }


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return response.read()


def test_media_are_saved_read_served_and_deleted_on_s3(
    settings, s3, s3_endpoint, bucket
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(endpoint=s3_endpoint, bucket=bucket),
    }
    from django.core.files.storage import default_storage

    # Save: the object lands in the bucket under the given name
    name = default_storage.save("listings/photo.txt", ContentFile(b"a photo"))
    assert name == "listings/photo.txt"
    stored = s3.get_object(Bucket=bucket, Key=name)
    assert stored["Body"].read() == b"a photo"

    # Read back through the storage, and over HTTP at its public URL
    with default_storage.open(name) as file:
        assert file.read() == b"a photo"
    assert default_storage.size(name) == len(b"a photo")
    url = default_storage.url(name)
    assert url == f"{s3_endpoint}/{bucket}/listings/photo.txt"
    assert fetch(url) == b"a photo"

    # A second upload with the same name never overwrites the first
    second = default_storage.save("listings/photo.txt", ContentFile(b"another"))
    assert second != name
    assert second.startswith("listings/photo_")
    assert s3.get_object(Bucket=bucket, Key=name)["Body"].read() == b"a photo"

    # Delete removes it from the bucket
    default_storage.delete(name)
    assert not default_storage.exists(name)
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key=name)
    assert missing.value.response["Error"]["Code"] == "404"
    with pytest.raises(urllib.error.HTTPError) as gone:
        fetch(url)
    # 404, or 403 where readers may not list the bucket (AWS without ListBucket)
    assert gone.value.code in (403, 404)


def test_private_buckets_get_signed_urls(settings, s3_endpoint, private_bucket):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            endpoint=s3_endpoint, bucket=private_bucket, querystring_auth=True
        ),
    }
    from django.core.files.storage import default_storage

    name = default_storage.save("ids/passport.txt", ContentFile(b"private"))
    plain_url = f"{s3_endpoint}/{private_bucket}/ids/passport.txt"
    signed_url = default_storage.url(name)

    assert signed_url.startswith(plain_url + "?")
    assert "Signature=" in signed_url
    assert fetch(signed_url) == b"private"
    with pytest.raises(urllib.error.HTTPError) as refused:
        fetch(plain_url)
    assert refused.value.code == 403


def test_media_urls_use_the_cdn_domain_when_set(settings, s3_endpoint, bucket):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            endpoint=s3_endpoint, bucket=bucket, custom_domain="cdn.example.com"
        ),
    }
    from django.core.files.storage import default_storage

    name = default_storage.save("avatars/a.png", ContentFile(b"png"))

    assert default_storage.url(name) == "https://cdn.example.com/avatars/a.png"


def test_s3_settings_come_from_the_environment(s3, s3_endpoint, bucket):
    # Given the production variables for S3 media (and nothing else)
    env = clean_env(
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME=REGION,
        AWS_ACCESS_KEY_ID=CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["aws_secret_access_key"],
    )

    # When a fresh process saves a file through default_storage
    result = python(
        "import django; django.setup()\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "name = default_storage.save('env/check.txt', ContentFile(b'from env'))\n"
        "print(name, default_storage.url(name))\n",
        env=env,
    )

    # Then it went to the bucket, with a plain (unsigned) URL
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "env/check.txt",
        f"{s3_endpoint}/{bucket}/env/check.txt",
    ]
    assert s3.get_object(Bucket=bucket, Key="env/check.txt")["Body"].read() == (
        b"from env"
    )
