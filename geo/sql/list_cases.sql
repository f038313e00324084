-- Cases with their names resolved (category, grid, 社区, 街道, people), filtered and scoped;
-- NULL filters are ignored. The scope (scope_* parameters, see geo.access.scope) is applied
-- here, inside the query: a case outside it is never read, so it can't leak, not even as a count.
SELECT c.id, c.external_id, c.channel, c.received_at, c.category_code,
       cat.name AS category_name, c.content, c.persons_count, c.via_community_agent, c.address,
       ST_X(c.location) AS lon, ST_Y(c.location) AS lat,
       c.input_lon, c.input_lat, c.input_crs,
       c.location_status, c.geocode_level, c.geocode_confidence, c.geocode_source,
       c.geocode_match, c.assignment_flag,
       c.grid_code, gc.name AS grid_name, c.grid_generation_id,
       c.community_code, com.name AS community_name,
       c.street_code, st.name AS street_name,
       w.name AS grid_worker, l.name AS grid_leader, u.name AS responsible_unit,
       c.status, c.properties, c.created_at, c.updated_at, c.version,
       c.routed_unit_id, ru.name AS routed_unit_name, c.first_unit_id,
       fu.name AS first_unit_name, c.first_handler, c.responsible_unit_id, c.handlers, c.plan,
       c.target_close_date, c.leader_staff_id, c.leader, ls.name AS leader_staff_name,
       c.evaluation, c.evaluated_at, c.is_repeat, c.is_collective, c.assigned_at,
       c.accepted_at, c.replied_at, c.closed_at, c.merged_into_id, c.extension_days,
       count(*) OVER () AS matched
FROM petition_case c
JOIN category cat ON cat.code = c.category_code
LEFT JOIN grid_cell gc ON gc.code = c.grid_code AND gc.generation_id = c.grid_generation_id
LEFT JOIN LATERAL (SELECT a.name FROM area a WHERE a.level = 'community'
                   AND a.code = c.community_code ORDER BY a.generation_id DESC LIMIT 1) com
       ON true
LEFT JOIN LATERAL (SELECT a.name FROM area a WHERE a.level = 'street'
                   AND a.code = c.street_code ORDER BY a.generation_id DESC LIMIT 1) st ON true
LEFT JOIN staff w ON w.id = c.grid_worker_id
LEFT JOIN staff l ON l.id = c.grid_leader_id
LEFT JOIN unit u ON u.id = c.responsible_unit_id
LEFT JOIN unit ru ON ru.id = c.routed_unit_id
LEFT JOIN unit fu ON fu.id = c.first_unit_id
LEFT JOIN staff ls ON ls.id = c.leader_staff_id
WHERE {{case_scope}}
  AND (CAST(:ids AS bigint[]) IS NULL OR c.id = ANY(CAST(:ids AS bigint[])))
  AND (CAST(:grid_code AS text) IS NULL OR c.grid_code = :grid_code)
  AND (CAST(:community_code AS text) IS NULL OR c.community_code = :community_code)
  AND (CAST(:street_code AS text) IS NULL OR c.street_code = :street_code)
  AND (CAST(:status AS text) IS NULL OR c.status = :status)
  AND (CAST(:category AS text) IS NULL OR c.category_code = :category)
  AND (CAST(:location_status AS text) IS NULL OR c.location_status = :location_status)
  AND (CAST(:date_from AS timestamptz) IS NULL OR c.received_at >= :date_from)
  AND (CAST(:date_to AS timestamptz) IS NULL OR c.received_at < :date_to)
  AND (CAST(:leader AS text) IS NULL OR c.leader = :leader
       OR CAST(c.leader_staff_id AS text) = :leader)
  AND (CAST(:bbox_minx AS float8) IS NULL
       OR c.location && ST_MakeEnvelope(:bbox_minx, :bbox_miny, :bbox_maxx, :bbox_maxy, 4326))
ORDER BY c.received_at DESC, c.id DESC
LIMIT :limit OFFSET :offset
