-- One grid cell of a generation; geometry arrives as WKB in EPSG:4326.
INSERT INTO grid_cell (generation_id, code, community_code, name, grid_type, households,
                       approximate, properties, geom)
VALUES (:generation_id, :code, :community_code, :name, :grid_type, :households, :approximate,
        CAST(:properties AS jsonb),
        ST_Multi(ST_CollectionExtract(ST_GeomFromWKB(:wkb, 4326), 3)))
