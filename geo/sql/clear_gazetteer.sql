-- build_gazetteer rebuilds the whole gazetteer: every entry goes, in the caller's transaction.
DELETE FROM gazetteer_entry
