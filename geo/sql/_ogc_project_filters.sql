-- The filters of the OGC `projects` collection over a project `p`, included as
-- `AND {{ogc_project_filters}}` by ogc_project_items and tile_projects. NULL parameters are
-- ignored; `datetime` keeps the projects whose start_date–end_date (China days; an open end
-- is unbounded) overlaps the interval.
(CAST(:code AS text) IS NULL OR p.code = CAST(:code AS text))
  AND (CAST(:name AS text) IS NULL OR p.name = CAST(:name AS text))
  AND (CAST(:project_type AS text) IS NULL
       OR p.project_type = CAST(:project_type AS text))
  AND (CAST(:community_code AS text) IS NULL
       OR p.community_code = CAST(:community_code AS text))
  AND (CAST(:approximate AS boolean) IS NULL
       OR p.approximate = CAST(:approximate AS boolean))
  AND (CAST(:dt_start AS timestamptz) IS NULL OR p.end_date IS NULL
       OR p.end_date >= CAST(CAST(:dt_start AS timestamptz) AT TIME ZONE 'Asia/Shanghai'
                             AS date))
  AND (CAST(:dt_end AS timestamptz) IS NULL OR p.start_date IS NULL
       OR p.start_date <= CAST(CAST(:dt_end AS timestamptz) AT TIME ZONE 'Asia/Shanghai'
                               AS date))
