-- One feature of a materialised hotspot layer (refresh_hotspots replaces them all).
INSERT INTO hotspot_stat (level, code, name, window_from, window_to, cases, submissions, persons,
                          open, overdue, repeat, collective, households, per_1000_households,
                          trend, change, gi_z, gi_p, gi_class, geom, computed_at)
VALUES (:level, :code, :name, :window_from, :window_to, :cases, :submissions, :persons,
        :open, :overdue, :repeat, :collective, :households, :per_1000_households,
        CAST(:trend AS integer[]), :change, :gi_z, :gi_p, :gi_class,
        ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326)), :computed_at)
