"""S3-compatible object storage for several machines (boto3, loaded on first use).

``GRANTS_STORAGE_URL=s3://bucket/prefix`` puts the attachments under ``prefix/files/``, named as
in the local folder (``ab/cd/<sha256>``: ``aws s3 sync`` of STORAGE_DIR to ``prefix/files/``
moves an installation over), and the batch ZIPs, kept PDFs and the records staged for a ZIP
under ``prefix/batches/``, so every web server and worker shares them. Another server than AWS
(MinIO, Ceph, a cloud's S3 API) is named by GRANTS_S3_ENDPOINT_URL. Credentials come from
boto3's own chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a machine's role),
never from the Grants settings, so no secret sits beside them.

Requests send no checksum unless the API requires one: several S3-compatible servers refuse
the checksums boto3 adds by default. Storage.verify hashes the bytes itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import importlib.util
import re
import tempfile
import threading
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from grants.storage import Folder, Storage, StorageError, Stores, checked_name

ADDRESSING_STYLES = ("auto", "path", "virtual")  # path: MinIO and most servers on one host name
CONNECT_TIMEOUT_SECONDS = 5  # an unreachable endpoint fails a request (and doctor) quickly
READ_TIMEOUT_SECONDS = 60
DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's limit
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
_REGION = re.compile(r"[a-z0-9-]+")
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
URL_FORM = "s3://bucket/prefix (the prefix is optional)"


class StorageSettingError(ValueError):
    """An S3 setting is malformed; the message names it and says what it must be."""


@dataclass(frozen=True)
class Location:
    """A bucket and a key prefix within it ("" or ending in "/")."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def below(self, folder: str) -> Location:
        return Location(self.bucket, f"{self.prefix}{folder}/")


def parse_storage_url(url: str) -> Location:
    """``s3://bucket/prefix`` as a location (the message does not repeat the URL)."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageSettingError(f"GRANTS_STORAGE_URL must be {URL_FORM}")
    if parts.query or parts.fragment or "@" in parts.netloc or ":" in parts.netloc:
        raise StorageSettingError(
            f"GRANTS_STORAGE_URL must be {URL_FORM}, without a user, password, port or query: "
            "credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the server from "
            "GRANTS_S3_ENDPOINT_URL")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise StorageSettingError(
            "GRANTS_STORAGE_URL names no valid bucket: 3 to 63 lowercase letters, digits, dots "
            "and hyphens, starting and ending with a letter or digit")
    segments = [segment for segment in parts.path.split("/") if segment]
    if not all(segment.strip(".") and _SEGMENT.fullmatch(segment) for segment in segments):
        raise StorageSettingError(
            "GRANTS_STORAGE_URL's prefix may hold only letters, digits, '.', '_' and '-' "
            "between slashes (no '.' or '..' alone)")
    return Location(parts.netloc, "".join(f"{segment}/" for segment in segments))


def check_settings(settings: MutableMapping[str, Any]) -> None:
    """Check the S3 settings of a STORAGE_URL that is set, and tidy them in place.

    Raises:
        StorageSettingError: a setting is malformed, or boto3 is not installed.
    """
    parse_storage_url(settings["STORAGE_URL"])
    endpoint = str(settings.get("S3_ENDPOINT_URL") or "").strip()
    if endpoint:
        parts = urlsplit(endpoint)
        if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username
                or parts.password or parts.query or parts.fragment):
            raise StorageSettingError(
                "GRANTS_S3_ENDPOINT_URL must be the http(s):// address of the S3-compatible "
                "server, without a user or password (e.g. https://s3.example.jp or "
                "http://127.0.0.1:9000)")
    settings["S3_ENDPOINT_URL"] = endpoint.rstrip("/") or None
    region = str(settings.get("S3_REGION") or "").strip()
    if region and not _REGION.fullmatch(region):
        raise StorageSettingError("GRANTS_S3_REGION must be a region name such as ap-northeast-1")
    settings["S3_REGION"] = region or None
    style = str(settings.get("S3_ADDRESSING_STYLE") or "").strip().lower()
    if style not in ADDRESSING_STYLES:
        raise StorageSettingError(f"GRANTS_S3_ADDRESSING_STYLE must be one of "
                                  f"{', '.join(ADDRESSING_STYLES)}")
    settings["S3_ADDRESSING_STYLE"] = style
    if importlib.util.find_spec("boto3") is None:
        raise StorageSettingError("GRANTS_STORAGE_URL is an s3:// URL but boto3 is not "
                                  "installed: pip install 'grants[s3]'")


def s3_stores(config: Any) -> Stores:
    """The files and the batches under STORAGE_URL, sharing one client."""
    location = parse_storage_url(config["STORAGE_URL"])
    client = s3_client(config)
    return Stores(Storage(S3Folder(client, location.below("files"))),
                  S3Folder(client, location.below("batches")))


def s3_client(config: Any) -> Any:
    """A boto3 S3 client for the settings (thread-safe: one serves the whole app)."""
    from botocore.config import Config

    session, lock = _boto3_session()
    with lock:  # a boto3 session is not thread-safe; the clients it makes are
        return session.client(
            "s3", endpoint_url=config["S3_ENDPOINT_URL"], region_name=config["S3_REGION"],
            config=Config(s3={"addressing_style": config["S3_ADDRESSING_STYLE"]},
                          connect_timeout=CONNECT_TIMEOUT_SECONDS,
                          read_timeout=READ_TIMEOUT_SECONDS, retries={"mode": "standard"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))


@functools.cache
def _boto3_session() -> tuple[Any, threading.Lock]:
    """One boto3 session per process: it keeps the S3 API's description loaded, so a client
    takes milliseconds instead of a tenth of a second (each RQ job builds an app)."""
    import boto3

    return boto3.session.Session(), threading.Lock()


class S3Folder(Folder):
    """The objects under a bucket's prefix, as a folder: a name's object is prefix + name.

    A PUT replaces an object whole, so a reader never sees half of one; a file built in a
    ``writer`` waits in a private temporary file (TMPDIR) until the block ends, then goes up
    in parts when large.
    """

    def __init__(self, client: Any, location: Location) -> None:
        self.client = client
        self.location = location

    def __str__(self) -> str:
        return str(self.location)

    def open(self, name: str) -> BinaryIO:
        key = self._key(name)
        with self._errors(key):
            return self.client.get_object(Bucket=self.location.bucket, Key=key)["Body"]

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[BinaryIO]:
        key = self._key(name)
        with tempfile.TemporaryFile() as spool:
            yield spool
            spool.flush()
            spool.seek(0)
            with self._errors(key):
                self.client.upload_fileobj(spool, self.location.bucket, key)

    def write(self, name: str, data: bytes) -> None:
        key = self._key(name)
        with self._errors(key):
            self.client.put_object(Bucket=self.location.bucket, Key=key, Body=data)

    def exists(self, name: str) -> bool:
        try:
            self.size(name)
        except FileNotFoundError:
            return False
        return True

    def size(self, name: str) -> int:
        key = self._key(name)
        with self._errors(key):
            return int(self.client.head_object(Bucket=self.location.bucket,
                                               Key=key)["ContentLength"])

    def remove(self, name: str) -> None:
        key = self._key(name)
        doomed = [found for found, _changed in self._listing(key)
                  if found == key or found.startswith(f"{key}/")]
        for start in range(0, len(doomed), DELETE_BATCH):
            batch = [{"Key": found} for found in doomed[start:start + DELETE_BATCH]]
            with self._errors(key):
                answer = self.client.delete_objects(
                    Bucket=self.location.bucket, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(f"{self._where(first.get('Key', key))}: "
                                   f"{first.get('Code')}: {first.get('Message')}")

    def entries(self) -> dict[str, dt.datetime]:
        found: dict[str, dt.datetime] = {}
        for key, changed in self._listing(self.location.prefix):
            top = key[len(self.location.prefix):].split("/", 1)[0]
            found[top] = max(found.get(top, changed), changed)
        return found

    def _listing(self, prefix: str) -> Iterator[tuple[str, dt.datetime]]:
        with self._errors(prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    yield item["Key"], item["LastModified"].astimezone(dt.UTC)

    def _key(self, name: str) -> str:
        return self.location.prefix + checked_name(name)

    def _where(self, key: str) -> str:
        return f"s3://{self.location.bucket}/{key}"

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        """boto3's errors as the folder's: FileNotFoundError for a missing object,
        StorageError (an OSError) for the rest, saying where and why."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        where = self._where(key)
        try:
            yield
        except ClientError as error:
            details = error.response.get("Error", {})
            code = str(details.get("Code") or "")
            if code in _MISSING:
                raise FileNotFoundError(errno.ENOENT, "not stored", where) from None
            raise StorageError(f"{where}: {code or 'error'}: "
                               f"{details.get('Message') or error}") from error
        except NoCredentialsError as error:
            raise StorageError(f"{where}: no credentials: set AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the machine a "
                               "role)") from error
        except (BotoCoreError, Boto3Error) as error:
            raise StorageError(f"{where}: {error}") from error
