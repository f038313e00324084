-- The caller's scope over a joint reception `r` (its case `c` and category `cat` LEFT JOINed):
-- district-wide roles all; a unit handler those with a part for their unit; others through the
-- linked case's scope.
(:scope_all
 OR EXISTS (SELECT 1 FROM joint_reception_part sp
            WHERE sp.reception_id = r.id AND sp.unit_id = CAST(:scope_unit AS integer))
 OR (c.id IS NOT NULL AND {{case_scope}}))
