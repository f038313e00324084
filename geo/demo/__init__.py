"""Demo data for the reference district: generated (示意) boundaries inside real outlines."""
