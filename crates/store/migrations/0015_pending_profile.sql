-- 惠企服务: a listed supplier's edits to its profile wait here (JSON) until its
-- association approves them; the directory keeps showing the approved profile.
-- NULL: no edit waiting.
ALTER TABLE organisations ADD COLUMN pending_profile TEXT;
