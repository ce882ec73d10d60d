"""Typed ORM models, a module per aggregate. Importing this package registers every table."""

from grants.models.accounts import (
    AccountToken,
    MembershipState,
    Organization,
    OrganizationKind,
    RateLimitHit,
    TokenPurpose,
    User,
    UserSession,
)
from grants.models.applications import Application, Attachment, KeptForm, Submission
from grants.models.audit import AuditEvent
from grants.models.batches import BatchJob, BatchState
from grants.models.decisions import Decision, OutboxMessage, Outcome
from grants.models.evaluation import (
    ConsensusReport,
    ConsensusResponse,
    ConsensusState,
    RedressGround,
    RedressRequest,
    RedressState,
)
from grants.models.programs import Program, ProgramVersion
from grants.models.reviews import (
    Assignment,
    AssignmentState,
    CallReviewer,
    ConflictDeclaration,
    Moderation,
    Review,
    ReviewState,
    ReviewVersion,
    Rubric,
    RubricVersion,
)

__all__ = [
    "AccountToken",
    "Application",
    "Assignment",
    "AssignmentState",
    "Attachment",
    "AuditEvent",
    "BatchJob",
    "BatchState",
    "CallReviewer",
    "ConflictDeclaration",
    "ConsensusReport",
    "ConsensusResponse",
    "ConsensusState",
    "Decision",
    "KeptForm",
    "MembershipState",
    "Moderation",
    "Organization",
    "OrganizationKind",
    "OutboxMessage",
    "Outcome",
    "Program",
    "ProgramVersion",
    "RateLimitHit",
    "RedressGround",
    "RedressRequest",
    "RedressState",
    "Review",
    "ReviewState",
    "ReviewVersion",
    "Rubric",
    "RubricVersion",
    "Submission",
    "TokenPurpose",
    "User",
    "UserSession",
]
