"""SQLAlchemy models, one module per part of the domain; importing this registers them all."""

from geo.models.access import ROLES, AppUser, AuditLog
from geo.models.base import Base
from geo.models.boundaries import (
    LEVELS,
    Area,
    BoundaryGeneration,
    GridCell,
    GridCellPart,
    GridCodeRegistry,
)
from geo.models.cases import (
    CaseAssignment,
    CasePetitioner,
    Category,
    GridAssignment,
    PetitionCase,
    Petitioner,
    Staff,
    Submission,
    Unit,
)
from geo.models.gazetteer import GazetteerEntry
from geo.models.workflow import CaseDeadline, CaseTransition, Supervision

__all__ = [
    "ROLES", "AppUser", "AuditLog", "LEVELS", "Area", "Base", "BoundaryGeneration",
    "CaseAssignment", "CaseDeadline", "CasePetitioner", "CaseTransition", "Category",
    "GazetteerEntry", "GridAssignment", "GridCell", "GridCellPart", "GridCodeRegistry",
    "PetitionCase", "Petitioner", "Staff", "Submission", "Supervision", "Unit",
]
