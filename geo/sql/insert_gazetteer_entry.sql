-- One gazetteer entry; geometry arrives as WKB in EPSG:4326 (point, line or polygon).
INSERT INTO gazetteer_entry (kind, name, normalized, aliases, community_code, street_code,
                             number_from, number_to, approximate, source, properties, geom)
VALUES (:kind, :name, :normalized, :aliases, :community_code, :street_code,
        :number_from, :number_to, :approximate, :source, CAST(:properties AS jsonb),
        ST_GeomFromWKB(:wkb, 4326))
