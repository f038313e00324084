-- One materialised density cluster (refresh_hotspots replaces them all).
INSERT INTO hotspot_cluster (cluster_id, window_from, window_to, eps_m, min_points, cases,
                             dominant_category, geom, computed_at)
VALUES (:cluster_id, :window_from, :window_to, :eps_m, :min_points, :cases, :dominant_category,
        ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326), :computed_at)
