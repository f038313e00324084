-- One area (区/街道/社区) of a generation; geometry arrives as WKB in EPSG:4326.
INSERT INTO area (generation_id, level, code, name, short_name, parent_code, approximate,
                  households, properties, geom)
VALUES (:generation_id, :level, :code, :name, :short_name, :parent_code, :approximate,
        :households, CAST(:properties AS jsonb),
        ST_Multi(ST_CollectionExtract(ST_GeomFromWKB(:wkb, 4326), 3)))
