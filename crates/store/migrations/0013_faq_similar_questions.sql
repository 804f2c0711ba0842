-- 智能问答: 相似问法, other ways users ask what an entry answers, matched like the
-- entry's own question. A JSON array of strings.
ALTER TABLE faq_entries ADD COLUMN similar_questions TEXT NOT NULL DEFAULT '[]';
