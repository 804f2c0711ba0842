-- 需求大厅: official notices (parsed from pages of procurement sites), enterprise
-- demands (reviewed before they are public), saved searches and the connectors that
-- fetch notice pages. Money is BIGINT fen; dates YYYY-MM-DD text (Asia/Shanghai);
-- instants BIGINT unix seconds.
CREATE TABLE notices (
    id {id},
    source_id TEXT,
    title TEXT NOT NULL,
    notice_type TEXT NOT NULL,
    procurement_method TEXT,
    project_code TEXT,
    project_name TEXT,
    purchaser TEXT,
    purchaser_address TEXT,
    agency TEXT,
    region_code TEXT,
    town_code TEXT,
    item_category TEXT,
    budget_fen BIGINT,
    max_price_fen BIGINT,
    publish_date TEXT,
    publish_at BIGINT,
    doc_from TEXT,
    doc_to TEXT,
    deadline TEXT,
    deadline_at BIGINT,
    opening TEXT,
    winner TEXT,
    award_fen BIGINT,
    packages TEXT,
    changes TEXT,
    categories TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL DEFAULT '',
    source_site TEXT NOT NULL,
    source_url TEXT NOT NULL,
    original_html TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    related_id BIGINT,
    state TEXT NOT NULL DEFAULT 'open',
    sample BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notices_project ON notices (project_code, purchaser);
CREATE INDEX notices_publish ON notices (publish_date);
CREATE INDEX notices_hash ON notices (content_hash);
CREATE INDEX notices_related ON notices (related_id);

-- Every place a notice was seen: one notice from two sites has two rows here.
CREATE TABLE notice_sources (
    id {id},
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    source_site TEXT NOT NULL,
    source_url TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX notice_sources_url ON notice_sources (source_url);
CREATE INDEX notice_sources_notice ON notice_sources (notice_id);

CREATE TABLE demands (
    id {id},
    source_id TEXT,
    organisation_id BIGINT,
    enterprise_name TEXT NOT NULL,
    enterprise_credit_code TEXT,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    service_category_code TEXT NOT NULL,
    service_category_label TEXT,
    region_code TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    budget_fen BIGINT,
    deadline TEXT,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_public BIGINT NOT NULL DEFAULT 0,
    -- pending (awaiting review), open, closed, awarded, withdrawn, rejected
    status TEXT NOT NULL,
    flagged_words TEXT NOT NULL DEFAULT '',
    review_reason TEXT,
    publish_date TEXT,
    sample BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX demands_source ON demands (source_id);
CREATE INDEX demands_org ON demands (organisation_id);

CREATE TABLE demand_files (
    demand_id BIGINT NOT NULL REFERENCES demands (id),
    file_id BIGINT NOT NULL,
    PRIMARY KEY (demand_id, file_id)
);

CREATE TABLE saved_searches (
    id {id},
    account_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    -- notices, demands or both
    scope TEXT NOT NULL,
    query TEXT NOT NULL,
    feed_token TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX saved_searches_account ON saved_searches (account_id);
CREATE UNIQUE INDEX saved_searches_feed ON saved_searches (feed_token);

-- Items a saved search has found (each notified once; the Atom feed lists them).
CREATE TABLE saved_search_hits (
    saved_search_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    item_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    found_at BIGINT NOT NULL,
    PRIMARY KEY (saved_search_id, kind, item_id)
);

CREATE TABLE connector_sources (
    id {id},
    name TEXT NOT NULL,
    site TEXT NOT NULL,
    list_url TEXT NOT NULL,
    link_pattern TEXT NOT NULL,
    max_pages BIGINT NOT NULL DEFAULT 3,
    schedule TEXT NOT NULL DEFAULT 'daily',
    delay_ms BIGINT NOT NULL DEFAULT 1000,
    enabled BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX connector_sources_name ON connector_sources (name);

CREATE TABLE connector_pages (
    source_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    content_hash TEXT,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (source_id, url)
);

CREATE TABLE connector_runs (
    id {id},
    source_id BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    fetched BIGINT NOT NULL DEFAULT 0,
    new_count BIGINT NOT NULL DEFAULT 0,
    updated_count BIGINT NOT NULL DEFAULT 0,
    unchanged_count BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    failures TEXT NOT NULL DEFAULT ''
);
CREATE INDEX connector_runs_source ON connector_runs (source_id, started_at);
