"""The petition workflow: time limits on the holiday calendar, states and their transitions."""
