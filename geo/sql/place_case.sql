-- A case placed by hand: the point is trusted; the geocode is kept for the record.
UPDATE petition_case
SET location = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
    input_lon = :input_lon, input_lat = :input_lat, input_crs = :input_crs,
    location_status = 'located', geocode_level = 'manual', geocode_confidence = 1.0,
    geocode_source = 'manual', updated_at = now(), version = version + 1
WHERE id = :id
