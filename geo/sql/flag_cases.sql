-- Repeat and collective flags of these cases, set at intake.
-- collective (集体访): at least :collective_min persons.
-- repeat (重复访, 同人+同事): a petitioner of the case shares the keyed hash of an ID number or of
-- a phone number (never the plain value) with a petitioner of an earlier case — received
-- before it, or at the same moment with a lower id — of the same category in the same 社区.
-- A case with no 社区 yet (needs_location) is not matched; placing it re-runs this.
--
-- In materialised steps (the cases, their petitioners' keys, the cases sharing a key), each a
-- join of two or three tables: as correlated EXISTS over five tables, a plan made on stale
-- statistics nested seq scans four deep and ran for many minutes on a few hundred cases.
WITH targets AS MATERIALIZED (
    SELECT c.id, c.category_code, c.community_code, c.received_at
    FROM petition_case c
    WHERE c.id = ANY(CAST(:ids AS bigint[]))
), keys AS MATERIALIZED (
    SELECT t.id AS case_id, p.id_number_hash AS id_hash, p.phone_hash
    FROM targets t
    JOIN case_petitioner cp ON cp.case_id = t.id
    JOIN petitioner p ON p.id = cp.petitioner_id
    WHERE p.id_number_hash IS NOT NULL OR p.phone_hash IS NOT NULL
), sharing AS MATERIALIZED (
    -- Petitioners (the same ones included) with one of those keys.
    SELECT k.case_id, q.id AS petitioner_id
    FROM keys k JOIN petitioner q ON q.id_number_hash = k.id_hash
    UNION
    SELECT k.case_id, q.id
    FROM keys k JOIN petitioner q ON q.phone_hash = k.phone_hash
), repeats AS (
    SELECT DISTINCT s.case_id
    FROM sharing s
    JOIN case_petitioner cq ON cq.petitioner_id = s.petitioner_id
    JOIN petition_case e ON e.id = cq.case_id
    JOIN targets t ON t.id = s.case_id
    WHERE e.id <> t.id
      AND e.category_code = t.category_code
      AND e.community_code = t.community_code
      AND (e.received_at, e.id) < (t.received_at, t.id)
)
UPDATE petition_case c
SET is_collective = c.persons_count >= :collective_min,
    is_repeat = c.community_code IS NOT NULL AND c.id IN (SELECT case_id FROM repeats)
WHERE c.id = ANY(CAST(:ids AS bigint[]))
