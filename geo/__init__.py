"""gridmap spatial core: boundaries, grids, CRS, and the SQL that serves them (no HTTP here)."""
