-- 智能问答: a per-entry revision, raised by every write that changes what is matched
-- (not by hit counts). The engine is rebuilt when the sum changes, so two edits
-- within one second, or an edit that keeps every text's length, are not missed.
ALTER TABLE faq_entries ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
