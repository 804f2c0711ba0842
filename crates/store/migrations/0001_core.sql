-- Platform core: settings, organisations, accounts, sessions, login throttling,
-- audit log, claims, invitations and password resets.
-- Tokens: {id} = auto-increment primary key, {blob} = binary column type.
-- Times are UTC unix seconds (BIGINT); calendar dates are TEXT 'YYYY-MM-DD' (Asia/Shanghai).
-- Flags are BIGINT 0/1: sqlx's Any driver cannot read SQLite's BOOLEAN columns.

CREATE TABLE app_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organisations (
    id {id},
    credit_code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    side TEXT NOT NULL,
    region_code TEXT NOT NULL,
    address TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL DEFAULT '',
    verified BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',
    source TEXT NOT NULL,
    sample BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX organisations_region ON organisations (region_code);

CREATE TABLE accounts (
    id {id},
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id BIGINT REFERENCES organisations (id),
    province_code TEXT,
    password_hash TEXT NOT NULL,
    totp_secret TEXT,
    totp_last_step BIGINT,
    status TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT
);
CREATE INDEX accounts_organisation ON accounts (organisation_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    second_factor_passed BIGINT NOT NULL DEFAULT 0,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE login_failures (
    id {id},
    login TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_login ON login_failures (login, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

CREATE TABLE audit_log (
    id {id},
    at BIGINT NOT NULL,
    actor_account_id BIGINT,
    actor_login TEXT,
    actor_role TEXT,
    ip TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action, at);

CREATE TABLE claims (
    id {id},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    province_code TEXT NOT NULL,
    licence_path TEXT NOT NULL,
    licence_type TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    reason TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES accounts (id),
    decided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX claims_status ON claims (status, province_code);

CREATE TABLE invitations (
    id {id},
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT NOT NULL REFERENCES accounts (id),
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_by BIGINT REFERENCES accounts (id),
    accepted_at BIGINT
);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    created_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
