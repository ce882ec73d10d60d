"""What every simulated applicant does, from signing in to submitting, over HTTP."""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from typing import Any

from benchlib.applicants import Applicant, Pair
from benchlib.client import (
    Client,
    JourneyFailed,
    Response,
    TimeUp,
    csrf_token,
    lock_version,
    sign_in,
)
from benchlib.common import KEPT_OK, PROGRAM_KEY, REQUEST_TIMEOUT
from benchlib.forms import step_form
from benchlib.measure import Recorder, SaveRecord, SubmitRecord

PAIR_WAIT = 30.0  # seconds a pair member waits for the other one at most
APPLICATION_ID_RE = re.compile(r"/applications/(\d+)/")


class Journey:
    """What every simulated applicant does, with the program's definition to fill the forms."""

    def __init__(self, definition: Any, port: int, recorder: Recorder, deadline: float) -> None:
        self.definition = definition
        self.port = port
        self.recorder = recorder
        self.deadline = deadline
        self._markers = iter(range(1, 10**6))
        self._marker_lock = threading.Lock()

    def marker(self) -> str:
        with self._marker_lock:
            return f"BM{next(self._markers):06d}Z"

    def new_client(self) -> Client:
        """The applicant's browser (the in-process profile gives it another transport)."""
        return Client(self.port, self.recorder, self.deadline)

    def run(self, applicant: Applicant) -> None:
        client = self.new_client()
        try:
            self._run(client, applicant)
        except TimeUp:
            self.recorder.fail("time cap reached")
        except JourneyFailed as exc:
            self.recorder.fail(str(exc)[:120])
        finally:
            client.close()
            if applicant.pair is not None:
                applicant.pair.barrier.abort()  # never leave the other one waiting
                applicant.pair.started.set()

    def _run(self, client: Client, applicant: Applicant) -> None:
        self.sign_in(client, applicant)
        pair = applicant.pair
        if applicant.role == "follower":
            assert pair is not None
            if not pair.started.wait(self._wait()) or pair.application_id is None:
                raise JourneyFailed("follower: the leader did not start a draft")
            application_id = pair.application_id
        else:
            application_id = self.start(client)
            if pair is not None:
                pair.application_id = application_id
                pair.started.set()
        for index, step in enumerate(self.definition.steps):
            stale = applicant.stale_form and index == 1
            self.save_step(client, applicant, application_id, step, stale_first=stale)
        if applicant.role == "follower":
            # One more save of the first step, sent at the moment the leader submits: it must
            # either be stored (and be in the submission) or be refused, never half of each.
            self.save_step(client, applicant, application_id, self.definition.steps[0], late=True)
            return
        self.submit(client, application_id, applicant.double_submit, pair)

    def _wait(self) -> float:
        return max(0.1, min(PAIR_WAIT, self.deadline - time.monotonic()))

    def sign_in(self, client: Client, applicant: Applicant) -> None:
        sign_in(client, applicant.email, applicant.password)

    def start(self, client: Client) -> int:
        url = f"/calls/{PROGRAM_KEY}/eligibility"
        page = client.get(url)
        answers = {
            f"q_{q.id}": "yes" if q.required_answer else "no"
            for q in self.definition.eligibility_questions
        }
        checked = client.post(url, {"csrf_token": csrf_token(page.text), **answers})
        if checked.status != 200:
            raise JourneyFailed(f"eligibility check answered {checked.status}")
        started = client.post(
            f"/calls/{PROGRAM_KEY}/start", {"csrf_token": csrf_token(checked.text)}, kind="other"
        )
        match = APPLICATION_ID_RE.search(started.location)
        if started.status != 303 or not match:
            raise JourneyFailed(f"start answered {started.status}")
        return int(match.group(1))

    def save_step(
        self,
        client: Client,
        applicant: Applicant,
        application_id: int,
        step: Any,
        *,
        late: bool = False,
        stale_first: bool = False,
    ) -> None:
        """GET the step, POST it with the page's lock_version; after a 409, reload and retry.

        A ``late`` save (against the leader's submit) is tried once, whatever the answer.
        With ``stale_first`` the first POST carries a form token the session no longer knows
        (as after signing in again in another tab): the app keeps those answers, sends the
        applicant back to the step and shows them again there; then the applicant saves.
        """
        url = f"/applications/{application_id}/steps/{step.id}"
        kept_marker = None
        if stale_first:
            kept_marker = self._post_stale(client, applicant, application_id, step)
        for attempt in range(1 if late else 4):
            page = client.get(url, kind="step")
            if page.status != 200:
                if kept_marker and attempt == 0:
                    self.recorder.restore(f"restoring page answered {page.status}")
                raise JourneyFailed(f"step page {step.id} answered {page.status}")
            if kept_marker and attempt == 0:
                shown = KEPT_OK if kept_marker in page.text else "kept answers NOT shown again"
                self.recorder.restore(shown)
            version = lock_version(page.text)
            if applicant.pair is not None and attempt == 0:
                # Both colleagues have loaded their page: now both press the button.
                self._meet(applicant.pair)
            response, _marker = self._post_step(
                client, applicant, application_id, step, version, csrf_token(page.text)
            )
            if response.status == 303 or late:
                return
            if response.status != 409:
                raise JourneyFailed(f"save {step.id} answered {response.status}")
        raise JourneyFailed(f"save {step.id}: still in conflict after 4 tries")

    def _post_stale(
        self, client: Client, applicant: Applicant, application_id: int, step: Any
    ) -> str | None:
        page = client.get(f"/applications/{application_id}/steps/{step.id}", kind="step")
        if page.status != 200:
            raise JourneyFailed(f"step page {step.id} answered {page.status}")
        stale_token = "stale-" + secrets.token_hex(8)
        response, marker = self._post_step(
            client, applicant, application_id, step, lock_version(page.text), stale_token, "kept"
        )
        if response.status == 303:
            return marker
        self.recorder.restore(f"save answered {response.status}: neither saved nor kept")
        return None

    def _post_step(
        self,
        client: Client,
        applicant: Applicant,
        application_id: int,
        step: Any,
        version: int,
        token: str,
        kind: str = "save",
    ) -> tuple[Response, str]:
        marker = self.marker()
        target, field_id, data, files = step_form(self.definition, step, version, marker)
        data["csrf_token"] = token
        url = f"/applications/{application_id}/steps/{step.id}"
        response = client.post_multipart(url, data, files, kind=kind)
        with self.recorder.lock:
            self.recorder.saves.append(
                SaveRecord(
                    application_id=application_id,
                    step_id=step.id,
                    target=target,
                    field_id=field_id,
                    marker=marker,
                    expected_version=version,
                    status=response.status,
                    location=response.location,
                    user=applicant.email,
                )
            )
        return response, marker

    def _meet(self, pair: Pair) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            pair.barrier.wait(self._wait())

    def submit(self, client: Client, application_id: int, double: bool, pair: Pair | None) -> None:
        check = client.get(f"/applications/{application_id}/check")
        if check.status != 200:
            raise JourneyFailed(f"check page answered {check.status}")
        data = {"csrf_token": csrf_token(check.text), "confirm": "y"}
        if pair is not None:
            self._meet(pair)  # the colleague's late save leaves now too
        url = f"/applications/{application_id}/submit"
        if not double:
            self._submit_once(client, url, data, application_id)
            return
        # A double click: two POSTs of the same form leave together on two connections.
        twin = client.clone()
        go = threading.Barrier(2)

        def second() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                go.wait(5)
            with contextlib.suppress(TimeUp, JourneyFailed):
                self._submit_once(twin, url, data, application_id)

        thread = threading.Thread(target=second, name="double-submit")
        thread.start()
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                go.wait(5)
            self._submit_once(client, url, data, application_id)
        finally:
            thread.join(REQUEST_TIMEOUT + 5)
            twin.close()

    def _submit_once(
        self, client: Client, url: str, data: dict[str, str], application_id: int
    ) -> None:
        try:
            response = client.post(url, data, kind="submit")
        except JourneyFailed:
            with self.recorder.lock:
                self.recorder.submits.append(SubmitRecord(application_id, "ERR"))
            raise
        with self.recorder.lock:
            self.recorder.submits.append(SubmitRecord(application_id, response.status))
        if response.status != 303:
            raise JourneyFailed(f"submit answered {response.status}")
