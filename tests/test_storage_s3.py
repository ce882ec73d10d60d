"""S3-compatible storage against a real server (moto's server mode, tests/s3_server.py).

The settings (a bad one stops the app with one line), where files and batches go in the bucket,
errors of an unusable bucket, a large file in parts; then the app with GRANTS_STORAGE_URL set:
an attachment uploaded and downloaded back through it, a batch ZIP and a single document built
into the bucket and pruned from it, a batch built by RQ workers that share nothing but the
bucket, and ``grants doctor`` checking the bucket. The interface itself runs on both backends
in tests/test_storage.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import zipfile

import pytest
import sqlalchemy as sa

from grants import jobs
from grants.config import ConfigError, load_settings
from grants.domain.workflow import Role
from grants.models import BatchJob, BatchState, Program
from grants.services import apply, batches
from grants.storage import StorageError, stores_from
from grants.storage_s3 import Location, S3Folder, parse_storage_url
from tests import s3_server, test_cli_doctor
from tests.conftest import NOW, ROOT
from tests.s3_server import admin_client
from tests.services.test_batches import _request, _stand_in
from tests.test_cli_doctor import _closed_port, doctor, findings
from tests.web import test_audit_batches, test_batch_recovery
from tests.web.journey import TINY_PDF, lock_version, step_url
from tests.web.reviewflow import KEY, submit_application
from tests.web.test_audit_batches import app_on_file, check_done, run_batch_on_rq
from tests.web.test_audit_search import fund
from tests.web.test_batch_recovery import (
    RETENTION,
    STUB_PDF,
    _some_record,
    _too_slow_then,
)

# The fixtures of other modules used here.
s3_endpoint, s3_settings = s3_server.s3_endpoint, s3_server.s3_settings
migrated = test_cli_doctor.migrated
file_database, redis_url = test_audit_batches.file_database, test_audit_batches.redis_url
rq_queue = test_audit_batches.rq_queue
auditor, stub_records = test_batch_recovery.auditor, test_batch_recovery.stub_records

LETTER = b"%PDF-1.7\n% a stand-in grant decision letter\n%%EOF\n"
needs_boto3 = pytest.mark.skipif(importlib.util.find_spec("boto3") is None,
                                 reason="boto3 is not installed (pip install -e '.[test]')")


@pytest.fixture
def app_config(app_config, s3_settings):
    """Every app of this module keeps its files and batches in the test's bucket."""
    return {**app_config, **s3_settings}


def keys(settings: dict[str, str]) -> list[str]:
    """Every object in the settings' bucket."""
    bucket = parse_storage_url(settings["STORAGE_URL"]).bucket
    found = admin_client(settings).list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(item["Key"] for item in found)


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "location"), [
    ("s3://grants-files", Location("grants-files", "")),
    ("s3://grants-files/", Location("grants-files", "")),
    ("  s3://grants.example.jp/prod/grants/  ", Location("grants.example.jp", "prod/grants/")),
    ("s3://g01/a_b-c.d", Location("g01", "a_b-c.d/")),
])
@needs_boto3
def test_a_storage_url_names_a_bucket_and_a_prefix(url, location):
    assert parse_storage_url(url) == location
    assert load_settings({"STORAGE_URL": url}, environ={})["STORAGE_URL"] == url.strip()


@pytest.mark.parametrize(("settings", "problem"), [
    ({"STORAGE_URL": "/var/lib/grants/files"}, "GRANTS_STORAGE_URL must be s3://bucket/prefix"),
    ({"STORAGE_URL": "https://grants-files/x"}, "GRANTS_STORAGE_URL must be s3://bucket/prefix"),
    ({"STORAGE_URL": "s3:///x"}, "GRANTS_STORAGE_URL must be s3://bucket/prefix"),
    ({"STORAGE_URL": "s3://key:secret@grants-files"}, "without a user, password, port or query"),
    ({"STORAGE_URL": "s3://grants-files:9000"}, "without a user, password, port or query"),
    ({"STORAGE_URL": "s3://grants-files?region=x"}, "without a user, password, port or query"),
    ({"STORAGE_URL": "s3://Grants_Files"}, "names no valid bucket"),
    ({"STORAGE_URL": "s3://ab"}, "names no valid bucket"),
    ({"STORAGE_URL": "s3://grants..files"}, "names no valid bucket"),
    ({"STORAGE_URL": "s3://grants-files/../other"}, "prefix may hold only"),
    ({"STORAGE_URL": "s3://grants-files/申請"}, "prefix may hold only"),
    ({"STORAGE_URL": "s3://grants-files", "S3_ENDPOINT_URL": "minio:9000"},
     "GRANTS_S3_ENDPOINT_URL must be the http(s):// address"),
    ({"STORAGE_URL": "s3://grants-files", "S3_ENDPOINT_URL": "https://u:p@s3.example.jp"},
     "without a user or password"),
    ({"STORAGE_URL": "s3://grants-files", "S3_REGION": "Tokyo"},
     "GRANTS_S3_REGION must be a region name"),
    ({"STORAGE_URL": "s3://grants-files", "S3_ADDRESSING_STYLE": "dns"},
     "GRANTS_S3_ADDRESSING_STYLE must be one of auto, path, virtual"),
])
def test_a_bad_s3_setting_stops_the_app_naming_it(settings, problem):
    with pytest.raises(ConfigError, match=r"^GRANTS_") as refused:
        load_settings(settings, environ={})
    assert problem in str(refused.value)
    assert "secret" not in str(refused.value)  # the URL is not repeated


@needs_boto3
def test_s3_settings_are_tidied_and_ignored_without_a_storage_url():
    settings = load_settings({"STORAGE_URL": "s3://grants-files/p", "S3_ENDPOINT_URL":
                              " http://127.0.0.1:9000/ ", "S3_REGION": " ", "S3_ADDRESSING_STYLE":
                              "PATH"}, environ={})
    assert (settings["S3_ENDPOINT_URL"], settings["S3_REGION"],
            settings["S3_ADDRESSING_STYLE"]) == ("http://127.0.0.1:9000", None, "path")
    local = load_settings({"STORAGE_URL": "  ", "S3_REGION": "Tokyo"}, environ={})
    assert local["STORAGE_URL"] is None  # the local folder; the S3 settings are not used


def test_without_boto3_an_s3_url_says_what_to_install(monkeypatch):
    from grants import storage_s3

    real = storage_s3.importlib.util.find_spec
    monkeypatch.setattr(storage_s3.importlib.util, "find_spec",
                        lambda name, *args: None if name == "boto3" else real(name, *args))
    with pytest.raises(ConfigError, match=r"boto3 is not installed: pip install 'grants\[s3\]'"):
        load_settings({"STORAGE_URL": "s3://grants-files"}, environ={})


def test_a_bad_storage_url_stops_a_command_with_one_line(tmp_path):
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("GRANTS_")}
    environment.update(GRANTS_INSTANCE_DIR=str(tmp_path), GRANTS_STORAGE_URL="s3://Grants")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "grants", "version"],
                            cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "configuration error: GRANTS_STORAGE_URL names no valid bucket: 3 to 63 lowercase "
        "letters, digits, dots and hyphens, starting and ending with a letter or digit"]


# --- the bucket -------------------------------------------------------------------------------


def test_files_and_batches_live_under_their_prefixes(s3_settings):
    stores = stores_from(s3_settings)
    sha256 = stores.files.put(TINY_PDF)
    stores.batches.write("batch-1.zip", b"PK")
    assert keys(s3_settings) == ["install/one/batches/batch-1.zip",
                                 f"install/one/files/{sha256[:2]}/{sha256[2:4]}/{sha256}"]
    assert str(stores.files.folder) == f"{s3_settings['STORAGE_URL']}/files/"


def test_a_missing_bucket_is_a_storage_error_never_a_missing_file(s3_settings):
    stores = stores_from({**s3_settings, "STORAGE_URL": "s3://grants-no-such-bucket/x"})
    for attempt in (lambda: stores.files.put(TINY_PDF), lambda: stores.batches.read("a.zip"),
                    lambda: stores.batches.entries(), lambda: stores.batches.remove("a.zip")):
        with pytest.raises(StorageError, match=r"s3://grants-no-such-bucket/x/.*NoSuchBucket"):
            attempt()
    with pytest.raises(StorageError, match="NoSuchBucket"), stores.batches.writer("z.zip") as z:
        z.write(b"PK")


def test_an_unreachable_server_is_a_storage_error(s3_settings):
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    stores = stores_from({**s3_settings, "S3_ENDPOINT_URL": nowhere})
    with pytest.raises(StorageError, match=f"Could not connect to the endpoint URL: \"{nowhere}"):
        stores.files.read("a" * 64)


def test_a_large_file_goes_up_in_parts_and_streams_back(s3_settings):
    folder = stores_from(s3_settings).batches
    assert isinstance(folder, S3Folder)
    chunk = hashlib.sha256(b"seed").digest() * 32_768  # 1 MiB that does not compress
    with folder.writer("batch-1.zip") as handle:
        for _ in range(20):  # 20 MiB: above boto3's 8 MiB multipart threshold
            handle.write(chunk)
    assert folder.size("batch-1.zip") == 20 * len(chunk)
    digest, parts = hashlib.sha256(), 0
    with folder.open("batch-1.zip") as stream:
        while piece := stream.read(1024 * 1024):
            digest.update(piece)
            parts += 1
    assert digest.digest() == hashlib.sha256(chunk * 20).digest() and parts >= 20


# --- the app ----------------------------------------------------------------------------------


def test_an_attachment_uploaded_through_the_app_is_kept_in_s3_and_downloaded_back(
        app, client, auth, session, make_user, s3_settings, tmp_path):
    user = make_user(Role.APPLICANT, lg_code="011002")
    application = apply.start(session, session.get(Program, "ict-kizuna-2010"), actor=user,
                              now=NOW)
    session.commit()
    auth.sign_in(user)
    page = client.get(step_url(application, "attachments"))
    response = client.post(step_url(application, "attachments"), data={
        "lock_version": lock_version(page.text), "action": "upload",
        "upload_project_plan": (io.BytesIO(TINY_PDF), "事業計画書.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    session.refresh(application)
    [attachment] = application.attachments
    sha256 = hashlib.sha256(TINY_PDF).hexdigest()
    assert attachment.sha256 == sha256
    assert keys(s3_settings) == [f"install/one/files/{sha256[:2]}/{sha256[2:4]}/{sha256}"]
    assert not (tmp_path / "files").exists()  # nothing on the local disk

    with client.get(f"/applications/{application.id}/attachments/{attachment.id}") as download:
        assert download.status_code == 200 and download.data == TINY_PDF
        assert download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Cache-Control"] == "no-store"
    auth.sign_out()
    auth.sign_in(make_user(Role.APPLICANT, lg_code="131016"))  # another organization
    assert client.get(f"/applications/{application.id}/attachments/"
                      f"{attachment.id}").status_code in (403, 404)


def test_a_batch_zip_is_built_into_s3_downloaded_and_pruned(
        app, client, session, auditor, s3_settings, monkeypatch, tmp_path):
    monkeypatch.setattr(jobs, "render_letters",
                        lambda _session, _application: {"grant-decision": LETTER})
    assert client.post("/audit/batches", data={"call": KEY}).status_code == 303
    job = session.scalar(sa.select(BatchJob).filter_by(requested_by_id=auditor.id))
    session.refresh(job)
    assert job.state is BatchState.DONE, job.error
    assert keys(s3_settings) == sorted([f"install/one/batches/batch-{job.id}.zip", *(
        key for key in keys(s3_settings) if key.startswith("install/one/files/"))])
    assert not (tmp_path / "instance" / "batches").exists()  # nothing on the local disk

    download = client.get(f"/audit/batches/{job.id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.content_length == job.result_size
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="audit-records-{job.id}.zip"')
    data = download.get_data()
    download.close()
    assert hashlib.sha256(data).hexdigest() == job.result_sha256
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("letters.csv").decode().count("grant-decision") == job.total
    assert all(archive.read(name) == STUB_PDF for name in archive.namelist()
               if name.endswith(".pdf") and "-grant-decision" not in name)

    folder = stores_from(s3_settings).batches
    folder.write(".batch-987654.parts/1.pdf", b"%PDF left by a job the database does not know")
    later = dt.datetime.now(dt.UTC) + RETENTION + dt.timedelta(days=1)  # the bucket's clock
    pruned = batches.prune(session, folder, now=later, retention=RETENTION,
                           deadline=dt.timedelta(hours=12))
    assert (pruned.expired, pruned.removed) == (1, 1)
    assert folder.entries() == {}
    assert client.get(f"/audit/batches/{job.id}/download").status_code == 404


def test_a_slow_document_is_kept_in_s3_and_served_from_it(app, client, session, auditor,
                                                          monkeypatch, s3_settings):
    _too_slow_then(monkeypatch, lambda _session, _application: STUB_PDF)
    response = client.get(_some_record(client))
    assert response.status_code == 303
    job = session.scalar(sa.select(BatchJob).filter_by(requested_by_id=auditor.id))
    session.refresh(job)
    assert job.state is BatchState.DONE
    assert f"install/one/batches/document-{job.id}.pdf" in keys(s3_settings)
    kept = client.get(f"{response.headers['Location']}.pdf")
    assert kept.status_code == 200 and kept.data == STUB_PDF


def test_parts_staged_in_s3_by_two_machines_are_zipped_by_a_third(
        client, auth, session, make_user, s3_settings, monkeypatch):
    machines = [stores_from(s3_settings).batches for _ in range(3)]  # a client each
    assert len({id(folder.client) for folder in machines}) == 3
    template = submit_application(client, auth, session, make_user)
    officer = make_user(Role.OFFICER)
    for n in range(3):
        fund(session, template, officer, reference=f"AUD-M{n}", amount=1_000_000)
    session.commit()
    job = _request(session, make_user)
    first, second = batches.chunks(job.application_ids, 2)
    for folder, part in ((machines[0], first), (machines[1], second)):
        assert batches.render_records(session, job.id, part, directory=folder,
                                      render=_stand_in, now=lambda: NOW) is None

    def refused(name):
        raise StorageError(f"s3://…/{name}: AccessDenied: Access Denied")

    monkeypatch.setattr(machines[2], "remove", refused)  # the bucket refuses to delete
    finished = batches.finish_batch(session, job.id, directory=machines[2], now=lambda: NOW)
    assert finished.state is BatchState.DONE and finished.done == 3
    archive = zipfile.ZipFile(io.BytesIO(machines[0].read(f"batch-{job.id}.zip")))
    assert sorted(archive.namelist()) == sorted(
        ["manifest.csv", *(f"AUD-M{n}.pdf" for n in range(3))])
    staged = f"install/one/batches/{batches.staging_name(job.id)}/"
    assert any(key.startswith(staged) for key in keys(s3_settings))  # left for prune

    pruned = batches.prune(session, machines[0], now=NOW, retention=RETENTION,
                           deadline=dt.timedelta(hours=12))
    assert (pruned.expired, pruned.removed) == (0, 1)
    assert keys(s3_settings) == sorted([f"install/one/batches/batch-{job.id}.zip", *(
        key for key in keys(s3_settings) if key.startswith("install/one/files/"))])


def test_rq_workers_build_a_batch_sharing_only_the_bucket(
        rq_queue, file_database, tmp_path, monkeypatch, redis_url, s3_settings):
    with app_on_file(file_database, tmp_path, monkeypatch, RQ_QUEUE=rq_queue.name,
                     REDIS_URL=redis_url, **s3_settings) as (client, session, funded, _app):
        job, _parts, _finisher = run_batch_on_rq(client, session, rq_queue, monkeypatch,
                                                 tmp_path)
        check_done(client, session, job, funded)
        assert f"install/one/batches/batch-{job.id}.zip" in keys(s3_settings)
        assert not any("/batches/.batch-" in key for key in keys(s3_settings))
        assert not (tmp_path / "batches").exists() and not (tmp_path / "files").exists()


# --- doctor -----------------------------------------------------------------------------------


def test_doctor_writes_reads_and_removes_a_test_file_in_the_bucket(migrated, s3_settings):
    result = doctor(migrated, **s3_settings)
    found = findings(result)
    url = s3_settings["STORAGE_URL"]
    assert found["storage"] == [f"ok   storage: {url}/files/ is reachable and writable (a test "
                                "file written, read back and removed)"]
    assert found["batches"] == [f"ok   batches: {url}/batches/ is reachable and writable (a test "
                                "file written, read back and removed)"]
    assert keys(s3_settings) == []

    missing = doctor(migrated, **{**s3_settings, "STORAGE_URL": "s3://grants-no-such-bucket/p"})
    assert missing.returncode == 1
    [line] = findings(missing)["storage"]
    assert line.startswith("FAIL storage: s3://grants-no-such-bucket/p/files/ cannot be used: "
                           "s3://grants-no-such-bucket/p/files/.doctor-")
    assert "NoSuchBucket" in line
