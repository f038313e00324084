"""Hotspots: per grid / 社区 / 街道 / project measures in one SQL pass per level (aggregates),
Getis-Ord Gi* classes over the grid cells (gistar), DBSCAN density clusters (clusters), the
layers as GeoJSON with small-count suppression (layer), and their materialisation (refresh)."""
