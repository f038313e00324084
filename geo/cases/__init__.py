"""Petition cases: reference data, validation, intake, assignment to grids, bulk import."""
