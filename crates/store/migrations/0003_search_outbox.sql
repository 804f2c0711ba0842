-- The search outbox: every write that must reach a search index adds a row here in
-- the same transaction. Each instance applies the rows to its own index; see
-- crates/search/src/outbox.rs for how rows that commit out of order are not skipped.
CREATE TABLE search_outbox (
    id {id},
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX search_outbox_created ON search_outbox (created_at);
