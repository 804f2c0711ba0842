//! 绿色课堂 courses: the collection behind the catalogue's keyword search. A course's
//! document holds its title, tags, speaker, description and the titles and
//! transcripts of its lessons, so that a word said in a lesson finds its course.

use super::{CollectionSource, SourcePage};
use crate::{CollectionSpec, Doc, TextField};
use greenbridge_store::courses::{COURSES_COLLECTION, Course};
use greenbridge_store::{Store, StoreError};

pub static COURSES: CollectionSpec = CollectionSpec {
    name: COURSES_COLLECTION,
    version: 1,
    text_fields: &[
        TextField {
            name: "title",
            boost: 3.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "tags",
            boost: 2.0,
            stored_for_snippet: false,
        },
        TextField {
            name: "speaker",
            boost: 1.5,
            stored_for_snippet: false,
        },
        TextField {
            name: "description",
            boost: 1.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "lessons",
            boost: 1.0,
            stored_for_snippet: false,
        },
    ],
    keyword_fields: &["category", "tag", "level", "sample"],
    number_fields: &["published"],
};

/// `2026-09-15` → 20260915, a number that sorts like the date.
fn date_number(date: &str) -> i64 {
    date.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}

/// The search document of a course; `lesson_texts` are its lessons' titles,
/// descriptions and transcripts.
pub fn course_doc(course: &Course, lesson_texts: &[String]) -> Doc {
    Doc::new(course.id.to_string())
        .text("title", course.title.clone())
        .text("tags", course.tags.join("，"))
        .text(
            "speaker",
            format!(
                "{} {} {}",
                course.speaker, course.speaker_title, course.speaker_org
            ),
        )
        .text("description", course.description.clone())
        .text("lessons", lesson_texts.join("\n"))
        .keyword("category", course.category.clone())
        .keywords("tag", course.tags.clone())
        .keyword("level", course.level.clone())
        .keyword("sample", if course.sample { "yes" } else { "no" })
        .number("published", date_number(&course.published_at))
}

async fn docs_of(store: &Store, courses: &[Course]) -> Result<Vec<Doc>, StoreError> {
    let mut docs = Vec::with_capacity(courses.len());
    for course in courses {
        let texts: Vec<String> = store
            .lessons(course.id)
            .await?
            .into_iter()
            .map(|l| format!("{}\n{}\n{}", l.title, l.description, l.transcript))
            .collect();
        docs.push(course_doc(course, &texts));
    }
    Ok(docs)
}

/// Reads courses from the store for the indexer.
pub struct CourseSource;

#[async_trait::async_trait]
impl CollectionSource for CourseSource {
    fn spec(&self) -> &'static CollectionSpec {
        &COURSES
    }

    async fn count(&self, store: &Store) -> Result<i64, StoreError> {
        store.course_count().await
    }

    async fn page_after(
        &self,
        store: &Store,
        after: i64,
        limit: i64,
    ) -> Result<SourcePage, StoreError> {
        let ids = store.course_ids_after(after, limit).await?;
        let mut courses = store.courses_by_ids(&ids).await?;
        courses.sort_by_key(|c| c.id);
        Ok(SourcePage {
            last_id: ids.last().copied(),
            docs: docs_of(store, &courses).await?,
        })
    }

    async fn docs(&self, store: &Store, ids: &[i64]) -> Result<Vec<Doc>, StoreError> {
        let courses = store.courses_by_ids(ids).await?;
        docs_of(store, &courses).await
    }
}

#[cfg(test)]
mod tests {
    use super::date_number;

    #[test]
    fn the_spec_opens_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::SearchIndex::open(dir.path(), &super::COURSES).unwrap();
        assert_eq!(index.count(), 0);
    }

    #[test]
    fn dates_become_sortable_numbers() {
        assert_eq!(date_number("2026-09-15"), 20260915);
        assert!(date_number("2025-12-31") < date_number("2026-01-01"));
    }
}
