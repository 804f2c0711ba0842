-- 惠企服务 supplier directory: the profile columns an organisation lacked, its
-- qualifications (licences, certificates, credit records) and the runs of the list
-- importers. See crates/store/src/suppliers.rs for the types that read these rows.
-- Times are UTC unix seconds (BIGINT); calendar dates TEXT 'YYYY-MM-DD'
-- (Asia/Shanghai); flags BIGINT 0/1; lists as JSON arrays of strings in TEXT;
-- capacities as BIGINT kilograms per year (t/a × 1000: exact, never a float).

-- Profile. former_names / service_categories: JSON arrays of strings (service
-- category codes of reference/service_categories.csv). size_band: '' (未填) or one of
-- 微型 / 小型 / 中型 / 大型, declared by the supplier (the official lists do not give it).
-- listed: shown in the directory. An organisation from an official list is listed at
-- once; a self-registered one once its association approved it.
-- list_source: the list kind that created the organisation ('' = not from a list);
-- only a list of that kind may change its name, address and legal representative.
ALTER TABLE organisations ADD COLUMN former_names TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN size_band TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN service_categories TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN legal_representative TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN legal_form TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN contact_extension TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN website TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN listed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN list_source TEXT NOT NULL DEFAULT '';

-- Suppliers that exist already: imported ones are listed; self-registered ones once
-- their association has verified them.
UPDATE organisations SET listed = 1
WHERE side = 'supplier' AND (source <> 'registration' OR verified = 1);
CREATE INDEX organisations_listed ON organisations (listed, side);

-- One run of a list importer (committed runs only: a dry run leaves no row).
-- kind: hw-licence | monitoring | eia. file_id: the uploaded file when the run came
-- from the web. Counts as in the import report; not_in_latest = licences this run
-- (a full list) no longer carried and marked 不在最新名单; report = its JSON.
CREATE TABLE supplier_import_runs (
    id {id},
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_id BIGINT REFERENCES files (id),
    sha256 TEXT NOT NULL DEFAULT '',
    actor_account_id BIGINT REFERENCES accounts (id),
    sample BIGINT NOT NULL DEFAULT 0,
    read_rows BIGINT NOT NULL DEFAULT 0,
    created BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    not_in_latest BIGINT NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '{}',
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL
);
CREATE INDEX supplier_import_runs_kind ON supplier_import_runs (kind, id);

-- A qualification of an organisation.
-- kind: hw-licence (危险废物经营许可证) | cma (检验检测机构资质认定) | eia (环评信用平台
-- 编制单位记录) | other (uploaded certificate scans).
-- number: licence / certificate number; for eia the organisation's credit code (the
-- platform's record key). Imported ones are unique per (kind, number).
-- modes: JSON array from 收集 / 贮存 / 利用 / 处置; modes_text the list's wording
-- (e.g. 收集、贮存、处置（焚烧）).
-- capacity_kg: approved total capacity in kg/a (t/a × 1000), NULL when not given;
-- per-category capacities are in qualification_hw_categories.
-- service_area: JSON array of region codes the licence may serve ('[]' = no
-- restriction), from notes like 收集范围限本行政区域 (→ the facility's district).
-- scope: CMA capability fields joined with 、; scope_items: 能力参数（项）.
-- eia_*: the credit platform's record (信用状态, 当前周期失信记分, staff counts).
-- source: import | upload | self. import_run_id: the last run that carried it
-- (first_import_run_id: the run that created it). file_id: an uploaded scan.
-- verification: official (from an official list) | pending | verified | rejected.
-- not_in_latest: 1 when a newer full list of the same kind no longer carried it
-- (marked for the reviewers, never deleted); not_in_latest_since: when marked.
-- fingerprint: SHA-256 of the imported content, so a re-import can tell unchanged rows.
CREATE TABLE qualifications (
    id {id},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    issuer TEXT NOT NULL DEFAULT '',
    issued_on TEXT,
    valid_from TEXT,
    valid_to TEXT,
    modes TEXT NOT NULL DEFAULT '[]',
    modes_text TEXT NOT NULL DEFAULT '',
    capacity_kg BIGINT,
    facility_address TEXT NOT NULL DEFAULT '',
    service_area TEXT NOT NULL DEFAULT '[]',
    scope TEXT NOT NULL DEFAULT '',
    scope_items BIGINT,
    eia_credit_status TEXT NOT NULL DEFAULT '',
    eia_penalty_points BIGINT,
    eia_engineers BIGINT,
    eia_staff BIGINT,
    eia_reports BIGINT,
    eia_forms BIGINT,
    record_updated_on TEXT,
    note TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    import_run_id BIGINT REFERENCES supplier_import_runs (id),
    first_import_run_id BIGINT REFERENCES supplier_import_runs (id),
    file_id BIGINT REFERENCES files (id),
    verification TEXT NOT NULL,
    not_in_latest BIGINT NOT NULL DEFAULT 0,
    not_in_latest_since BIGINT,
    fingerprint TEXT NOT NULL DEFAULT '',
    sample BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX qualifications_org ON qualifications (organisation_id, kind);
CREATE INDEX qualifications_valid_to ON qualifications (kind, valid_to);
CREATE UNIQUE INDEX qualifications_list_key ON qualifications (kind, number)
    WHERE source = 'import';

-- The HW categories of a hazardous-waste licence, one row per category:
-- waste_codes / excluded_codes JSON arrays of 8-digit codes (NNN-NNN-NN; empty =
-- the whole category as far as the list says); capacity_kg per category when the
-- list gives one (NULL: the licence's total covers several categories).
CREATE TABLE qualification_hw_categories (
    qualification_id BIGINT NOT NULL REFERENCES qualifications (id),
    category TEXT NOT NULL,
    waste_codes TEXT NOT NULL DEFAULT '[]',
    excluded_codes TEXT NOT NULL DEFAULT '[]',
    capacity_kg BIGINT,
    PRIMARY KEY (qualification_id, category)
);
CREATE INDEX qualification_hw_categories_category ON qualification_hw_categories (category);
