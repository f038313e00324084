-- The caller's scope over a case `c` joined to its category `cat` (see geo.access.scope), included
-- by every scoped case query as {{case_scope}}, so the rule lives in one place.
(:scope_restricted OR NOT cat.restricted)
  AND (:scope_all
       OR c.grid_code = ANY(CAST(:scope_grids AS text[]))
       OR c.community_code = CAST(:scope_community AS text)
       OR c.street_code = CAST(:scope_street AS text)
       OR c.routed_unit_id = CAST(:scope_unit AS integer)
       OR c.first_unit_id = CAST(:scope_unit AS integer)  -- 首接首办: stays accountable
       OR c.responsible_unit_id = CAST(:scope_unit AS integer))
