"""The import report: every problem found in a boundary file, with its row and code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One finding; `row` is the 1-based feature number in the file (None: the whole file)."""

    severity: Severity
    kind: str
    message: str
    row: int | None = None
    code: str | None = None

    def format(self) -> str:
        """One line for a terminal or a log."""
        where = "file" if self.row is None else f"row {self.row}"
        if self.code:
            where += f" (code {self.code})"
        return f"{self.severity:7} {where}: [{self.kind}] {self.message}"


@dataclass
class ImportReport:
    """What an import found and did; nothing is written unless `ok`."""

    path: str
    level: str
    crs: str | None = None
    feature_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    generation_id: int | None = None
    activated: bool = False
    skipped_unchanged: bool = False

    @property
    def errors(self) -> list[Problem]:
        """Problems that block the import."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems reported but not blocking (repairs, slivers)."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no problem blocks the import."""
        return not self.errors

    def error(self, kind: str, message: str, row: int | None = None,
              code: str | None = None) -> None:
        """Record a blocking problem."""
        self.problems.append(Problem("error", kind, message, row, code))

    def warn(self, kind: str, message: str, row: int | None = None,
             code: str | None = None) -> None:
        """Record a non-blocking problem."""
        self.problems.append(Problem("warning", kind, message, row, code))

    def format(self) -> str:
        """The report as text: a headline, then one line per problem."""
        head = (f"{self.path}: level={self.level} crs={self.crs or '?'} "
                f"features={self.feature_count} errors={len(self.errors)} "
                f"warnings={len(self.warnings)}")
        lines = [head, *(p.format() for p in self.problems)]
        if not self.ok:
            lines.append("rejected: nothing was written")
        elif self.skipped_unchanged:
            lines.append("unchanged: the active generation was loaded from this same file")
        elif self.generation_id is not None:
            state = "active" if self.activated else "not active (run `gridmap boundaries activate`)"
            lines.append(f"written as generation {self.generation_id}, {state}")
        return "\n".join(lines)
