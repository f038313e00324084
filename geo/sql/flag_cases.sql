-- Repeat and collective flags of these cases, set at intake.
-- collective (集体访): at least :collective_min persons.
-- repeat (重复访, 同人+同事): a petitioner of the case shares the keyed hash of an ID number or of
-- a phone number (never the plain value) with a petitioner of an earlier case — received
-- before it, or at the same moment with a lower id — of the same category in the same 社区.
-- A case with no 社区 yet (needs_location) is not matched; placing it re-runs this.
UPDATE petition_case c
SET is_collective = c.persons_count >= :collective_min,
    is_repeat = c.community_code IS NOT NULL AND (
        EXISTS (SELECT 1
                FROM case_petitioner cp
                JOIN petitioner p ON p.id = cp.petitioner_id
                JOIN petitioner q ON q.id_number_hash = p.id_number_hash
                JOIN case_petitioner cq ON cq.petitioner_id = q.id
                JOIN petition_case e ON e.id = cq.case_id
                WHERE cp.case_id = c.id AND e.id <> c.id
                  AND e.category_code = c.category_code
                  AND e.community_code = c.community_code
                  AND (e.received_at, e.id) < (c.received_at, c.id))
        OR EXISTS (SELECT 1
                   FROM case_petitioner cp
                   JOIN petitioner p ON p.id = cp.petitioner_id
                   JOIN petitioner q ON q.phone_hash = p.phone_hash
                   JOIN case_petitioner cq ON cq.petitioner_id = q.id
                   JOIN petition_case e ON e.id = cq.case_id
                   WHERE cp.case_id = c.id AND e.id <> c.id
                     AND e.category_code = c.category_code
                     AND e.community_code = c.community_code
                     AND (e.received_at, e.id) < (c.received_at, c.id)))
WHERE c.id = ANY(CAST(:ids AS bigint[]))
