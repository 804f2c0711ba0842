-- 惠企服务 supplier directory, the parts beside the profiles and qualifications:
-- the guide to government online systems (admin-maintained), error reports (纠错)
-- on a profile, and reviewers' spot checks (抽查).
-- Times are UTC unix seconds (BIGINT); flags are BIGINT 0/1.

-- Government online systems an enterprise uses, grouped by topic. Seeded once from
-- reference/gov_systems.csv (the setting 'gov_systems.seeded' records that it was, so
-- that a list an admin emptied is not refilled). url = '' means nobody has verified
-- an address yet; tasks = what one does there; steps = how (one step per line).
CREATE TABLE gov_systems (
    id {id},
    name TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    who_needs_it TEXT NOT NULL DEFAULT '',
    tasks TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL DEFAULT '',
    topic TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '全国',
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX gov_systems_topic ON gov_systems (topic, position);

-- 纠错: anyone reports wrong or outdated data on an organisation's profile. The report
-- waits in the review queue of the organisation's province (review kind 'correction',
-- subject 'supplier_correction'); status follows that item: pending | accepted |
-- dismissed, with the reviewer's words in outcome.
CREATE TABLE supplier_corrections (
    id {id},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    what TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    reporter_account_id BIGINT REFERENCES accounts (id),
    ip TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    outcome TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES accounts (id),
    decided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX supplier_corrections_org ON supplier_corrections (organisation_id, id);
CREATE INDEX supplier_corrections_ip ON supplier_corrections (ip, created_at);

-- 抽查: a reviewer of the organisation's province marks a profile for a spot check and
-- later records the outcome. status: open | passed | failed.
CREATE TABLE supplier_spot_checks (
    id {id},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    province_code TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    marked_by BIGINT NOT NULL REFERENCES accounts (id),
    marked_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    outcome TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES accounts (id),
    decided_at BIGINT
);
CREATE INDEX supplier_spot_checks_org ON supplier_spot_checks (organisation_id, id);
CREATE INDEX supplier_spot_checks_open ON supplier_spot_checks (status, province_code);
