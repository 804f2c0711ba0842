-- 绿色课堂: who has been counted as viewing a lesson today, so that a reload or a
-- return on the same day does not count again. `viewer` is `a:<account id>` for a
-- signed-in learner, otherwise `v:` and a hash of the visitor's browser token (never
-- the token itself); `day` the Shanghai date 'YYYY-MM-DD'. Rows of past days are
-- deleted as new views come in: the counts live in course_lessons.view_count.

CREATE TABLE lesson_views (
    lesson_id BIGINT NOT NULL REFERENCES course_lessons (id) ON DELETE CASCADE,
    viewer TEXT NOT NULL,
    day TEXT NOT NULL,
    PRIMARY KEY (lesson_id, viewer, day)
);
CREATE INDEX lesson_views_day ON lesson_views (day);
