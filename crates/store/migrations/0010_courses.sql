-- 绿色课堂: courses, their lessons (video and/or courseware, poster, WebVTT captions,
-- transcript), tags, links to the regulations they treat, view counts and each
-- learner's progress. Files are rows of `files` (the bytes in the file store).
-- Times are UTC unix seconds; `published_at` a calendar date 'YYYY-MM-DD'.

CREATE TABLE courses (
    id {id},
    -- The data file's id (`course-0001`); NULL for a course made on the site.
    source_id TEXT UNIQUE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    speaker TEXT NOT NULL DEFAULT '',
    speaker_title TEXT NOT NULL DEFAULT '',
    speaker_org TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    -- 入门 / 进阶 / 高级, or empty.
    level TEXT NOT NULL DEFAULT '',
    duration_minutes BIGINT NOT NULL DEFAULT 0,
    published_at TEXT NOT NULL,
    poster_file_id BIGINT REFERENCES files (id),
    sample BIGINT NOT NULL DEFAULT 0,
    -- SHA-256 of the imported record, so that importing the same file twice is a no-op.
    content_hash TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX courses_category ON courses (category);
CREATE INDEX courses_published ON courses (published_at);

CREATE TABLE course_tags (
    course_id BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (course_id, tag)
);
CREATE INDEX course_tags_tag ON course_tags (tag);

-- A loose link to a regulation: by the regulation data file's id (`reg-0107`) or by
-- its title, resolved when shown, so that courses do not depend on the regulations
-- being imported first (or at all).
CREATE TABLE course_regulations (
    course_id BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (course_id, reference)
);

CREATE TABLE course_lessons (
    id {id},
    course_id BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Empty: the course's speaker.
    speaker TEXT NOT NULL DEFAULT '',
    duration_seconds BIGINT NOT NULL DEFAULT 0,
    video_file_id BIGINT REFERENCES files (id),
    courseware_file_id BIGINT REFERENCES files (id),
    poster_file_id BIGINT REFERENCES files (id),
    captions_file_id BIGINT REFERENCES files (id),
    transcript TEXT NOT NULL DEFAULT '',
    view_count BIGINT NOT NULL DEFAULT 0,
    -- Set for lessons the platform itself attaches (the demo's sample video), so that
    -- attaching twice is a no-op.
    source_key TEXT UNIQUE,
    created_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX course_lessons_course ON course_lessons (course_id, position);

CREATE TABLE lesson_progress (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    lesson_id BIGINT NOT NULL REFERENCES course_lessons (id) ON DELETE CASCADE,
    course_id BIGINT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position_seconds BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (account_id, lesson_id)
);
CREATE INDEX lesson_progress_course ON lesson_progress (account_id, course_id);
