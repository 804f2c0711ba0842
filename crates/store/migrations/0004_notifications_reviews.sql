-- Notifications (the site inbox and its e-mail) and the province-scoped review queue.
-- Times are UTC unix seconds (BIGINT); flags are BIGINT 0/1.

-- One row per message in an account's inbox. mail_pending = 1 while an e-mail of it
-- is still owed (mode immediately or daily when it was written); emailed_at says when
-- it went out (alone or in a digest).
CREATE TABLE notifications (
    id {id},
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    emailed_at BIGINT,
    mail_pending BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX notifications_account ON notifications (account_id, id);
CREATE INDEX notifications_unread ON notifications (account_id, read_at);
CREATE INDEX notifications_mail ON notifications (mail_pending, account_id);

-- E-mail preference per account; without a row the default applies (immediately for
-- e-mail logins, off for mobile-number logins, which have no address).
-- email_mode: immediately | daily | off.
CREATE TABLE notification_preferences (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    email_mode TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Items a reviewer of province_code approves or rejects.
-- kind: registration | claim | profile | demand | faq_answer;
-- subject_type/subject_id: the row reviewed (organisation, claim, …);
-- status: pending | approved | rejected.
CREATE TABLE review_items (
    id {id},
    kind TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    organisation_id BIGINT REFERENCES organisations (id),
    province_code TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    reason TEXT NOT NULL DEFAULT '',
    submitted_by BIGINT REFERENCES accounts (id),
    decided_by BIGINT REFERENCES accounts (id),
    decided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX review_items_queue ON review_items (status, province_code, kind, id);
CREATE INDEX review_items_subject_lookup ON review_items (subject_type, subject_id);
-- At most one pending item per subject and kind.
CREATE UNIQUE INDEX review_items_one_pending ON review_items (kind, subject_type, subject_id)
    WHERE status = 'pending';

-- Claims filed before the queue existed join it as they are.
INSERT INTO review_items (kind, subject_type, subject_id, organisation_id, province_code,
    status, reason, submitted_by, decided_by, decided_at, created_at)
SELECT 'claim', 'claim', id, organisation_id, province_code, status, reason, account_id,
    decided_by, decided_at, created_at
FROM claims;

-- Self-registered organisations not yet verified wait for verification, routed to
-- their province inside the zone and to 上海 (the default association) outside it.
INSERT INTO review_items (kind, subject_type, subject_id, organisation_id, province_code,
    submitted_by, created_at)
SELECT 'registration', 'organisation', o.id, o.id,
    CASE WHEN substr(o.region_code, 1, 2) IN ('31', '32', '33')
         THEN substr(o.region_code, 1, 2) || '0000' ELSE '310000' END,
    (SELECT MIN(a.id) FROM accounts a WHERE a.organisation_id = o.id),
    o.created_at
FROM organisations o
WHERE o.source = 'registration' AND o.verified = 0;
