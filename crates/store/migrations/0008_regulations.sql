-- 标准政策: laws, regulations, rules and standards, their links, attachments,
-- interpretations and knowledge-base articles, and the feeds they are synced from.
--
-- `status` is the status as recorded, kept current by the daily job
-- `regulations.status` (尚未生效 → 现行有效 on the effective date, replaced → 已废止 on
-- the replacement's effective date); pages compute it from the dates as well, so they
-- are right even before the job has run. Dates are `YYYY-MM-DD` (Asia/Shanghai).
CREATE TABLE regulations (
    id {id},
    -- The data file's id (reg-0001), a feed entry's id, or NULL for documents added
    -- on the site.
    source_id TEXT UNIQUE,
    title TEXT NOT NULL,
    -- The number as written (主席令第九号, GB 3838-2002), or NULL.
    doc_number TEXT,
    -- The number normalised (standards: GB 3838-2002; others: NFKC, no spaces): one
    -- document per number.
    number_key TEXT UNIQUE,
    issuer TEXT NOT NULL,
    level TEXT NOT NULL,
    -- Standards: 1 mandatory, 0 recommended; NULL for other levels.
    mandatory BIGINT,
    -- Labels joined by ',' (水,气).
    domains TEXT NOT NULL,
    -- greenbridge_domain::regulation::Scope::key: national, zone, zone:310000, a code.
    scope TEXT NOT NULL,
    published TEXT,
    effective TEXT,
    -- Revision dates joined by ','.
    revised TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    full_text TEXT NOT NULL,
    -- import, admin or feed
    origin TEXT NOT NULL,
    sample BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX regulations_effective ON regulations (effective);
CREATE INDEX regulations_status ON regulations (status);

-- from_id amends / replaces to_id.
CREATE TABLE regulation_links (
    from_id BIGINT NOT NULL REFERENCES regulations (id),
    to_id BIGINT NOT NULL REFERENCES regulations (id),
    kind TEXT NOT NULL,
    PRIMARY KEY (from_id, to_id, kind)
);
CREATE INDEX regulation_links_to ON regulation_links (to_id);

-- Uploaded files of a document: the source its full text was extracted from (or
-- could not be), and further attachments.
CREATE TABLE regulation_files (
    regulation_id BIGINT NOT NULL REFERENCES regulations (id),
    file_id BIGINT NOT NULL REFERENCES files (id),
    -- 1 when the document's full text was taken from this file.
    text_extracted BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (regulation_id, file_id)
);

-- 政策解读 (interpretation) and 业务知识库 (knowledge) articles; body_html is sanitised
-- on the way in.
CREATE TABLE regulation_articles (
    id {id},
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body_html TEXT NOT NULL,
    author_account_id BIGINT REFERENCES accounts (id),
    author_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE regulation_article_links (
    article_id BIGINT NOT NULL REFERENCES regulation_articles (id),
    regulation_id BIGINT NOT NULL REFERENCES regulations (id),
    PRIMARY KEY (article_id, regulation_id)
);
CREATE INDEX regulation_article_links_regulation ON regulation_article_links (regulation_id);

-- Feeds of the provinces' platforms (Atom, RSS or JSON) and each sync run.
CREATE TABLE regulation_feeds (
    id {id},
    name TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    -- Used for entries that do not state them.
    default_level TEXT NOT NULL,
    default_scope TEXT NOT NULL,
    default_issuer TEXT NOT NULL,
    interval_hours BIGINT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    last_run_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE regulation_feed_runs (
    id {id},
    feed_id BIGINT NOT NULL REFERENCES regulation_feeds (id),
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    -- ok or failed
    outcome TEXT NOT NULL,
    entries BIGINT NOT NULL,
    created BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX regulation_feed_runs_feed ON regulation_feed_runs (feed_id, started_at);
