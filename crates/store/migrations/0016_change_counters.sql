-- Counters raised in the same transaction as every write to a table whose
-- readers keep something derived in memory (the assistant's links to 标准政策
-- documents): comparing one number tells them whether to rebuild, however
-- close together the writes and whatever they changed.
CREATE TABLE change_counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO change_counters (name, value) VALUES ('regulations', 0);
