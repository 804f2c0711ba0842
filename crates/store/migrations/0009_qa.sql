-- 智能问答: the FAQ base, the questions asked, feedback, the queue of questions for
-- association staff and experts, expert profiles, 办事流程 and 活动.
-- Times are UTC unix seconds (BIGINT); flags are BIGINT 0/1; lists are JSON text.

-- One entry of the FAQ base. keywords and refs are JSON arrays of strings (refs:
-- document titles as the entry names them; the link to a 标准政策 record is made
-- when the base is loaded, by normalised title or number).
-- origin: import | staff | queue (an answered question published) | expert.
-- status: published | hidden.
CREATE TABLE faq_entries (
    id {id},
    source_id TEXT UNIQUE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    category TEXT NOT NULL,
    subcategory TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL,
    keywords TEXT NOT NULL DEFAULT '[]',
    refs TEXT NOT NULL DEFAULT '[]',
    origin TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'published',
    hits BIGINT NOT NULL DEFAULT 0,
    sample BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES accounts (id),
    updated_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX faq_entries_category ON faq_entries (category, region);
CREATE INDEX faq_entries_hits ON faq_entries (hits);

-- Every question asked on the page or the API (for the share without an answer and
-- the most asked questions). entry_id: the first answer given when confident.
CREATE TABLE qa_asked (
    id {id},
    question TEXT NOT NULL,
    region_code TEXT,
    category TEXT,
    confident BIGINT NOT NULL,
    entry_id BIGINT REFERENCES faq_entries (id),
    score BIGINT NOT NULL,
    account_id BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX qa_asked_created ON qa_asked (created_at);

-- 有帮助 / 没帮助 on an answer. reason (when unhelpful): inaccurate | outdated |
-- off_topic | other.
CREATE TABLE qa_feedback (
    id {id},
    entry_id BIGINT NOT NULL REFERENCES faq_entries (id),
    question TEXT NOT NULL,
    helpful BIGINT NOT NULL,
    reason TEXT,
    comment TEXT NOT NULL DEFAULT '',
    account_id BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX qa_feedback_entry ON qa_feedback (entry_id);

-- Questions for people: asked without a confident answer (unanswered), answers
-- marked unhelpful (unhelpful), and questions an enterprise put to an expert or a
-- field's panel (expert). status: open | answered | published | closed.
-- consent: the asker agrees that the exchange is published (expert questions).
CREATE TABLE qa_tickets (
    id {id},
    kind TEXT NOT NULL,
    question TEXT NOT NULL,
    region_code TEXT,
    category TEXT,
    entry_id BIGINT REFERENCES faq_entries (id),
    feedback_reason TEXT,
    asker_account_id BIGINT REFERENCES accounts (id),
    expert_account_id BIGINT REFERENCES accounts (id),
    field TEXT,
    consent BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open',
    answer TEXT NOT NULL DEFAULT '',
    answered_by BIGINT REFERENCES accounts (id),
    answered_at BIGINT,
    published_entry_id BIGINT REFERENCES faq_entries (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX qa_tickets_queue ON qa_tickets (status, kind, id);
CREATE INDEX qa_tickets_asker ON qa_tickets (asker_account_id);
CREATE INDEX qa_tickets_expert ON qa_tickets (expert_account_id);

-- Expert profiles: one per expert account. field: one of the FAQ categories.
CREATE TABLE qa_experts (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    field TEXT NOT NULL,
    organisation TEXT NOT NULL,
    title TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    active BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
CREATE INDEX qa_experts_field ON qa_experts (field);

-- 办事流程 guides. steps: JSON [{"step", "what_to_prepare": [..], "where"}];
-- legal_basis: JSON array of titles.
CREATE TABLE qa_procedures (
    id {id},
    source_id TEXT UNIQUE,
    title TEXT NOT NULL,
    applies_to TEXT NOT NULL,
    steps TEXT NOT NULL,
    time_limit TEXT,
    legal_basis TEXT NOT NULL,
    region TEXT NOT NULL,
    notes TEXT NOT NULL,
    sample BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- 活动 (trainings, briefings). registration: JSON {"required", "method", "deadline",
-- "capacity", "fee"}. sample = 1 for the fictional starting set.
CREATE TABLE qa_events (
    id {id},
    source_id TEXT UNIQUE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_date TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    place TEXT NOT NULL,
    organiser TEXT NOT NULL,
    region_code TEXT NOT NULL,
    registration TEXT NOT NULL,
    description TEXT NOT NULL,
    sample BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX qa_events_date ON qa_events (event_date);
