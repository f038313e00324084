"""Offline geocoding of Chinese addresses against a gazetteer kept in PostGIS."""
