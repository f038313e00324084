-- The petitioners of a page of cases in one query (never one per case), in the order named.
-- ID and phone numbers leave the database only encrypted; geo.cases.read decrypts to mask.
SELECT cp.case_id, p.id, p.name, p.id_number_enc, p.phone_enc
FROM case_petitioner cp
JOIN petitioner p ON p.id = cp.petitioner_id
WHERE cp.case_id = ANY(CAST(:ids AS bigint[]))
ORDER BY cp.case_id, p.id
