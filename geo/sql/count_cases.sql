-- Every case, located or not.
SELECT count(*) FROM petition_case
