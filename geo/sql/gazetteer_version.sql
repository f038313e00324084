-- The gazetteer's version for the in-process geocoder cache (geo.geocode.matcher.GazetteerCache):
-- a rebuild replaces every row with new ids, deleting rows lowers the count, editing a row gives
-- it a newer xmin. One scan of the table, no geometry read.
SELECT count(*) AS entries,
       coalesce(max(id), 0) AS last_id,
       coalesce(max(xmin::text::bigint), 0) AS last_change
FROM gazetteer_entry
