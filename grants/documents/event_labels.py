"""Audit events in words for the printed record: a label for each tag and each data key.

The stored tag and keys stay the machine's (they are hashed and embedded in events.json); the
record prints them translated so a reader need not decode `manage:application:decide`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from grants.services.audit import AuditTag

TAG_LABELS: dict[str, Any] = {
    AuditTag.APPLICATION_START: _l("Application started"),
    AuditTag.APPLICATION_SUBMIT: _l("Application submitted"),
    AuditTag.ATTACHMENT_ADD: _l("File attached"),
    AuditTag.ATTACHMENT_REMOVE: _l("File removed"),
    AuditTag.APPLICATION_ACCEPT: _l("Accepted for review"),
    AuditTag.APPLICATION_RETURN: _l("Returned to the applicant"),
    AuditTag.ASSIGNMENT_CREATE: _l("Reviewer assigned"),
    AuditTag.ASSIGNMENT_DECLINE: _l("Assignment declined"),
    AuditTag.ASSIGNMENT_REACTIVATE: _l("Reviewer assigned again"),
    AuditTag.ASSIGNMENT_WITHDRAW: _l("Assignment ended for a conflict of interest"),
    AuditTag.CONFLICT_DECLARE: _l("Conflict of interest declared"),
    AuditTag.REVIEW_SUBMIT: _l("Review submitted"),
    AuditTag.REVIEW_REOPEN: _l("Review reopened"),
    AuditTag.SCORE_MODERATE: _l("Score moderated"),
    AuditTag.APPLICATION_DECIDE: _l("Decision recorded"),
    AuditTag.CONSENSUS_RAPPORTEUR: _l("Rapporteur named for the consensus report"),
    AuditTag.CONSENSUS_CIRCULATE: _l("Consensus report circulated"),
    AuditTag.CONSENSUS_AGREE: _l("Reviewer agreed with the consensus report"),
    AuditTag.CONSENSUS_DISSENT: _l("Reviewer dissented from the consensus report"),
    AuditTag.CONSENSUS_SEND_BACK: _l("Consensus report sent back to the rapporteur"),
    AuditTag.CONSENSUS_APPROVE: _l("Consensus report approved"),
    AuditTag.REDRESS_REQUEST: _l("Evaluation review requested"),
    AuditTag.REDRESS_UPHOLD: _l("Evaluation review upheld: evaluation set aside"),
    AuditTag.REDRESS_DISMISS: _l("Evaluation review dismissed"),
    AuditTag.GRANT_ISSUE: _l("Grant decision issued (交付決定)"),
    AuditTag.GRANT_ACCEPT: _l("Grant decision accepted"),
    AuditTag.GRANT_DECLINE: _l("Grant decision declined"),
    AuditTag.CHANGE_REQUEST: _l("Plan change requested"),
    AuditTag.CHANGE_WITHDRAW: _l("Plan change request withdrawn"),
    AuditTag.CHANGE_APPROVE: _l("Plan change approved"),
    AuditTag.CHANGE_REFUSE: _l("Plan change refused"),
    AuditTag.REPORT_SUBMIT: _l("Completion report filed"),
    AuditTag.REPORT_RETURN: _l("Completion report returned for correction"),
    AuditTag.REPORT_ACCEPT: _l("Completion report accepted"),
    AuditTag.AMOUNT_FIX: _l("Final amount fixed (額の確定)"),
    AuditTag.ASSET_REGISTER: _l("Asset entered in the register"),
    AuditTag.DISPOSAL_REQUEST: _l("Asset disposal requested"),
    AuditTag.DISPOSAL_APPROVE: _l("Asset disposal approved"),
    AuditTag.DISPOSAL_REFUSE: _l("Asset disposal refused"),
    AuditTag.DISPOSAL_RECORD: _l("Asset disposal recorded after its restriction period"),
    AuditTag.DISPOSAL_WITHDRAW: _l("Asset disposal request withdrawn"),
    AuditTag.FOLLOWUP_FILE: _l("Follow-up report filed"),
    AuditTag.FOLLOWUP_REMIND: _l("Follow-up reminder queued"),
    AuditTag.PURGE_REFUSE: _l("Purge refused: inside retention"),
    AuditTag.PURGE: _l("Records purged after retention"),
    AuditTag.RECORD_DOWNLOAD: _l("Audit record downloaded"),
    AuditTag.BATCH_REQUEST: _l("Batch download requested"),
    AuditTag.BATCH_DOWNLOAD: _l("Batch downloaded"),
    AuditTag.PACKET_DOWNLOAD: _l("Review packet downloaded"),
}

DATA_LABELS: dict[str, Any] = {
    "reference": _l("Reference"),
    "program": _l("Call"),
    "number": _l("Submission number"),
    "snapshot_sha256": _l("Snapshot SHA-256"),
    "sha256": _l("SHA-256"),
    "field": _l("Question"),
    "filename": _l("File name"),
    "size_bytes": _l("Size (bytes)"),
    "bytes": _l("Size (bytes)"),
    "reason": _l("Reason"),
    "note": _l("Note"),
    "reviewer_id": _l("Reviewer (user id)"),
    "review_id": _l("Review id"),
    "version": _l("Version"),
    "reasons": _l("Reasons"),
    "review_withdrawn": _l("Review withdrawn from the scores (id)"),
    "counted_reviews": _l("Reviews the decision counted (ids)"),
    "total": _l("Total (0–100)"),
    "knockouts": _l("Knockouts"),
    "criterion": _l("Criterion"),
    "score": _l("Score"),
    "rationale": _l("Stated rationale"),
    "outcome": _l("Outcome"),
    "amount_yen": _l("Amount (yen)"),
    "computation": _l("Computation"),
    "requested_yen": _l("Requested amount"),
    "cap_yen": _l("Cap for this application"),
    "rounding_yen": _l("Rounded down to"),
    "maximum_yen": _l("Most that could be awarded"),
    "awarded_yen": _l("Awarded"),
    "rank_band": _l("Rank band"),
    "application_ids": _l("Applications (ids)"),
    "criteria": _l("Search"),
    "report_id": _l("Consensus report id"),
    "rapporteur_id": _l("Rapporteur (user id)"),
    "rapporteur": _l("Rapporteur"),
    "scores": _l("Consensus scores"),
    "comments": _l("Consensus comments"),
    "overall_comment": _l("Overall comment"),
    "basis": _l("Reviews it rests on (id: version)"),
    "dissents": _l("Dissenting reviewers (user ids)"),
    "request_id": _l("Evaluation review id"),
    "ground": _l("Procedural point"),
    "description": _l("Description"),
    "finding": _l("Finding"),
    "set_aside_decision": _l("Decision set aside"),
    "assignments_ended": _l("Assignments ended (ids)"),
    "moderations_removed": _l("Moderated scores set aside"),
    "consensus_superseded": _l("Consensus report set aside (id)"),
    "window_closes_at": _l("Window closes at"),
}

# The procedural points an evaluation review may ask about (models.RedressGround values).
GROUND_LABELS: dict[str, Any] = {
    "conflict_of_interest": _l("A reviewer had a conflict of interest"),
    "criterion_not_applied": _l("A criterion of the call was not applied, or one not in the "
                                "call was"),
    "factual_error": _l("The evaluation rests on a factual error about the application"),
    "other": _l("Another failure of the procedure"),
}

HASH_KEYS = frozenset({"sha256", "snapshot_sha256"})


def tag_label(tag: str) -> str:
    """The event's name in the reader's language; an unlisted tag as stored."""
    label = TAG_LABELS.get(tag)
    return str(label) if label is not None else tag


def data_rows(data: dict[str, Any] | None) -> list[tuple[str, str, bool]]:
    """Each data item as (label, value in words, is a hash); empty values left out."""
    rows = []
    for key, value in (data or {}).items():
        if value in (None, "", [], {}):
            continue
        rows.append((_label(key), _words(key, value), key in HASH_KEYS))
    return rows


def _label(key: str) -> str:
    label = DATA_LABELS.get(key)
    return str(label) if label is not None else key


def _words(key: str, value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {_words(k, v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list | tuple):
        return ", ".join(_words(key, item) for item in value)
    if key.endswith("_yen") and isinstance(value, int):
        return f"¥{value:,}"
    return str(value)
