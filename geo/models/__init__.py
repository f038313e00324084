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
from geo.models.coordination import (
    BacklogItem,
    BacklogList,
    JointReception,
    JointReceptionPart,
    Mediation,
)
from geo.models.gazetteer import GazetteerEntry
from geo.models.hotspots import CaseProject, HotspotCluster, HotspotStat, Project
from geo.models.workflow import CaseDeadline, CaseTransition, Supervision

__all__ = [
    "ROLES", "AppUser", "AuditLog", "LEVELS", "Area", "BacklogItem", "BacklogList", "Base",
    "BoundaryGeneration", "JointReception", "JointReceptionPart", "Mediation",
    "CaseAssignment", "CaseDeadline", "CasePetitioner", "CaseTransition", "Category",
    "GazetteerEntry", "GridAssignment", "GridCell", "GridCellPart", "GridCodeRegistry",
    "PetitionCase", "Petitioner", "Staff", "Submission", "Supervision", "Unit",
    "CaseProject", "HotspotCluster", "HotspotStat", "Project",
]
