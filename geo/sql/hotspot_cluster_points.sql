-- The points DBSCAN clusters (geo.hotspots.clusters): the caller's located cases in a window,
-- as one row of parallel arrays (300k points cross the wire as four values): ids, per case the
-- position of its category in `codes`, and the WGS84 lon / lat (the caller projects them).
-- The arrays come in no particular order, but all in the same one (one aggregate pass feeds
-- them row by row); the caller sorts by id. codes / names: every category, ordered by code
-- (the order the dominant category's ties go by). The arrays are NULL when no case qualifies.
WITH cats AS (
    SELECT code, name, CAST(row_number() OVER (ORDER BY code) - 1 AS integer) AS k
    FROM category
), pts AS (
    SELECT array_agg(c.id) AS ids, array_agg(k.k) AS cats,
           array_agg(ST_X(c.location)) AS lons, array_agg(ST_Y(c.location)) AS lats
    FROM petition_case c
    JOIN category cat ON cat.code = c.category_code
    JOIN cats k ON k.code = c.category_code
    WHERE {{case_scope}}
      AND c.location IS NOT NULL
      AND c.received_at >= CAST(:date_from AS timestamptz)
      AND c.received_at < CAST(:date_to AS timestamptz)
      AND (CAST(:category AS text[]) IS NULL OR c.category_code = ANY(CAST(:category AS text[])))
      AND (CAST(:status AS text[]) IS NULL OR c.status = ANY(CAST(:status AS text[])))
)
SELECT pts.ids, pts.cats, pts.lons, pts.lats,
       (SELECT array_agg(code ORDER BY k) FROM cats) AS codes,
       (SELECT array_agg(name ORDER BY k) FROM cats) AS names
FROM pts
