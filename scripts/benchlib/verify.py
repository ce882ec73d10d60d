"""After the run: compare what the applicants were told with what the database holds."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchlib.measure import Recorder, SaveRecord


@dataclass
class Verdict:
    submitted: int = 0
    acked_saves: int = 0
    refused_saves: Counter[str] = field(default_factory=Counter)
    lost_saves: list[str] = field(default_factory=list)
    version_collisions: list[str] = field(default_factory=list)
    refused_but_stored: list[str] = field(default_factory=list)
    duplicate_submissions: list[str] = field(default_factory=list)
    acked_not_submitted: list[str] = field(default_factory=list)
    changed_after_submit: list[str] = field(default_factory=list)


def _stored_value(answers: dict[str, Any], target: str, field_id: str) -> str:
    value = answers.get(field_id)
    if target == "partner_role":
        rows = value or []
        return str(rows[0].get("role", "")) if rows else ""
    return "" if value is None else str(value)


def verify(url: str, recorder: Recorder, file_fields: set[str]) -> Verdict:
    """Compare what the applicants were told with what the database holds."""
    import sqlalchemy as sa

    from grants.db import create_engine
    from grants.models import Application, Attachment, AuditEvent, Submission

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            apps = {
                row.id: row
                for row in connection.execute(
                    sa.select(
                        Application.id,
                        Application.answers,
                        Application.lock_version,
                        Application.state,
                    )
                )
            }
            attachments = {
                (row.application_id, row.filename)
                for row in connection.execute(
                    sa.select(Attachment.application_id, Attachment.filename)
                )
            }
            submissions: dict[int, list[Any]] = defaultdict(list)
            for row in connection.execute(
                sa.select(Submission.application_id, Submission.number, Submission.snapshot)
            ):
                submissions[row.application_id].append(row)
            submit_events = Counter(
                connection.execute(
                    sa.select(AuditEvent.subject_id).where(
                        AuditEvent.tag == "apply:application:submit"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()

    verdict = Verdict()
    verdict.submitted = sum(1 for a in apps.values() if str(a.state) == "submitted")

    acked = [s for s in recorder.saves if s.outcome == "stored"]
    verdict.acked_saves = len(acked)
    for save in recorder.saves:
        if save.outcome != "stored":
            verdict.refused_saves[save.outcome] += 1

    # Every successful save bumps lock_version, so acknowledged saves of one application are
    # ordered by the version they were based on; two acks on the same version mean the optimistic
    # lock let a stale save through.
    by_version: dict[tuple[int, int], list[SaveRecord]] = defaultdict(list)
    for save in acked:
        by_version[(save.application_id, save.expected_version)].append(save)
    for (app_id, version), same in sorted(by_version.items()):
        if len(same) > 1:
            steps = ", ".join(f"{s.step_id} by {s.user} ({s.marker})" for s in same)
            verdict.version_collisions.append(f"application {app_id} v{version}: {steps}")

    groups: dict[tuple[int, str, str], list[SaveRecord]] = defaultdict(list)
    for save in acked:
        groups[(save.application_id, save.target, save.field_id)].append(save)
    for (app_id, target, field_id), saves in sorted(groups.items()):
        app = apps.get(app_id)
        if target == "attachment":
            for save in saves:  # uploads add files: every acknowledged one must be there
                if (app_id, f"{save.marker}.pdf") not in attachments:
                    verdict.lost_saves.append(
                        f"application {app_id} upload {save.marker}.pdf by {save.user} "
                        f"(v{save.expected_version}, 303) has no attachment row"
                    )
            continue
        stored = _stored_value(app.answers if app else {}, target, field_id)
        top = max(s.expected_version for s in saves)
        winners = [s for s in saves if s.expected_version == top]
        for save in (s for s in winners if s.marker not in stored):
            verdict.lost_saves.append(
                f"application {app_id} {field_id}: {save.marker} by {save.user} "
                f"(v{save.expected_version}, 303) is not stored; stored: {stored[-40:]!r}"
            )
        for version, count in Counter(s.expected_version for s in saves).items():
            if version != top and count > 1:
                verdict.lost_saves.append(
                    f"application {app_id} {field_id}: {count} saves acknowledged on v{version}"
                )

    for save in recorder.saves:
        if save.outcome != "stored" and save.status != "ERR":  # ERR: nobody knows
            app = apps.get(save.application_id)
            if save.target == "attachment":
                found = (save.application_id, f"{save.marker}.pdf") in attachments
            else:
                found = save.marker in _stored_value(
                    app.answers if app else {}, save.target, save.field_id
                )
            if found:
                verdict.refused_but_stored.append(
                    f"application {save.application_id} {save.field_id}: {save.marker} "
                    f"answered {save.status} but is stored"
                )

    for app_id in sorted(set(submissions) | set(submit_events)):
        rows, events = len(submissions.get(app_id, [])), submit_events.get(app_id, 0)
        if rows > 1 or events > 1:
            verdict.duplicate_submissions.append(
                f"application {app_id}: {rows} submission rows, {events} submit audit events"
            )
    receipted = {s.application_id for s in recorder.submits if s.status == 303}
    for app_id in sorted(receipted):
        if not submissions.get(app_id):
            verdict.acked_not_submitted.append(f"application {app_id}: 303 but no submission")
    for app_id, rows in submissions.items():
        latest = max(rows, key=lambda r: r.number)
        frozen = json.loads(latest.snapshot).get("answers", {})
        current = apps[app_id].answers if app_id in apps else {}
        keys = (set(frozen) | set(current)) - file_fields  # files are in the snapshot apart
        changed = sorted(k for k in keys if frozen.get(k) != current.get(k))
        if changed:
            verdict.changed_after_submit.append(f"application {app_id}: {', '.join(changed)}")
    return verdict
