"""A real S3-compatible server for the tests: moto's server mode on 127.0.0.1, a fresh bucket
per test, and the settings that point the app at it.

Without moto (``pip install 'moto[server]'``, in the test extras) the S3 tests skip, saying so.
The server runs in a thread of the test process, so a subprocess (``grants doctor``) reaches it
too. Credentials are fixed test values in the environment, read by boto3 as in production;
nothing from a developer's own AWS configuration is used.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

REGION = "ap-northeast-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "grants-test",
    "AWS_SECRET_ACCESS_KEY": "grants-test-secret",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The server's http:// address, for the whole test session."""
    server_module = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed: the S3 variants need it "
                              "(pip install -e '.[test]')", exc_type=ImportError)
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The app's settings for a new empty bucket (created here, as an operator would), with
    the credentials in the environment."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"grants-test-{uuid.uuid4().hex[:12]}"
    settings = {"STORAGE_URL": f"s3://{bucket}/install/one", "S3_ENDPOINT_URL": s3_endpoint,
                "S3_REGION": REGION, "S3_ADDRESSING_STYLE": "path"}
    admin_client(settings).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return settings


def admin_client(settings: dict[str, str]) -> Any:
    """A client of the test's own, to look at and tamper with the bucket behind the app."""
    from grants.storage_s3 import s3_client

    return s3_client(settings)
