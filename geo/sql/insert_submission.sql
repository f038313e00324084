-- One submission (件次) of a case.
INSERT INTO submission (case_id, channel, received_at, persons_count, via_community_agent)
VALUES (:case_id, :channel, :received_at, :persons_count, :via_community_agent)
