use greenbridge_domain::RegionTree;
use tempfile::TempDir;

use super::*;

static FIXTURE: CollectionSpec = CollectionSpec {
    name: "fixture",
    version: 1,
    text_fields: &[
        TextField {
            name: "name",
            boost: 3.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "summary",
            boost: 1.0,
            stored_for_snippet: true,
        },
    ],
    keyword_fields: &["region", "kind"],
    number_fields: &["founded"],
};

static FIXTURE_V2: CollectionSpec = CollectionSpec {
    version: 2,
    ..FIXTURE
};

/// A document of the fixture; `region` is the finest code, stored with its ancestors.
fn doc(id: &str, kind: &str, region: Option<&str>, founded: i64, name: &str, summary: &str) -> Doc {
    let mut d = Doc::new(id)
        .text("name", name)
        .text("summary", summary)
        .keyword("kind", kind)
        .number("founded", founded);
    if let Some(code) = region {
        let tree = RegionTree::embedded();
        let path = tree.ancestors(code);
        assert!(!path.is_empty(), "unknown region {code}");
        d = d.keywords("region", path.iter().map(|r| r.code.as_str()));
    }
    d
}

fn fixture_docs() -> Vec<Doc> {
    vec![
        doc(
            "org-1",
            "supplier",
            Some("320509"),
            2015,
            "苏州某某环保科技有限公司",
            "持有危险废物经营许可证，经营类别HW08 废矿物油与含矿物油废物，废物代码900-214-08，从事收集、贮存。",
        ),
        doc(
            "law-eia",
            "regulation",
            None,
            2021,
            "建设项目环境影响评价分类管理名录",
            "生态环境部令第16号。根据建设项目对环境的影响程度，对建设项目环境影响评价文件审批实行分类管理。",
        ),
        doc(
            "law-permit",
            "regulation",
            None,
            2021,
            "排污许可管理条例",
            "国务院令第736号。排污单位应当依照本条例申请取得排污许可证，未取得的不得排放污染物。",
        ),
        doc(
            "org-2",
            "supplier",
            Some("330421"),
            2018,
            "嘉兴某某环境检测有限公司",
            "环境监测、第三方检测：噪声、废水、废气检测，出具监测报告。",
        ),
        doc(
            "org-3",
            "supplier",
            Some("310118"),
            2012,
            "上海青浦某某固废处置有限公司",
            "一般工业固体废物综合利用，焚烧处置；HW49 其他废物 900-041-49 废包装桶。",
        ),
        doc(
            "org-4",
            "supplier",
            Some("320509"),
            2019,
            "吴江某某污水处理有限公司",
            "工业废水与生活污水处理，污水处理厂委托运营，环境污染第三方治理。",
        ),
        doc(
            "law-solid",
            "law",
            None,
            2020,
            "中华人民共和国固体废物污染环境防治法",
            "规定工业固体废物、生活垃圾、危险废物的污染环境防治制度。",
        ),
        doc(
            "org-5",
            "supplier",
            Some("320506"),
            2010,
            "苏州某某环境咨询有限公司",
            "环评报告书编制、环保管家、清洁生产审核服务。",
        ),
        doc(
            "notice-1",
            "notice",
            Some("320500"),
            2023,
            "小微企业危险废物集中收集试点通知",
            "<script>alert(1)</script> 试点单位开展危险废物集中收集、贮存和转运。",
        ),
        doc(
            "org-6",
            "supplier",
            Some("330421"),
            2016,
            "嘉善某某再生资源有限公司",
            "废铅蓄电池收集，废电路板回收利用。",
        ),
    ]
}

fn fixture() -> (TempDir, SearchIndex) {
    let dir = TempDir::new().unwrap();
    let index = SearchIndex::open(dir.path(), &FIXTURE).unwrap();
    index.upsert(&fixture_docs()).unwrap();
    index.commit().unwrap();
    (dir, index)
}

fn query(q: &str) -> SearchRequest {
    SearchRequest {
        q: Some(q.to_string()),
        ..SearchRequest::default()
    }
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.id.as_str()).collect()
}

fn search(index: &SearchIndex, request: &SearchRequest) -> SearchResults {
    index.search(request).unwrap()
}

#[test]
fn an_abbreviation_with_another_word_finds_the_licence_holder() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("危废许可"));
    assert_eq!(ids(&found), ["org-1"], "{found:?}");
    assert!(!found.relaxed);
}

#[test]
fn the_eia_abbreviation_finds_the_document_that_spells_it_out() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("环评审批"));
    assert_eq!(ids(&found), ["law-eia"], "{found:?}");
}

#[test]
fn the_permit_abbreviation_finds_the_permit_regulation() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("排污证"));
    assert_eq!(ids(&found).first(), Some(&"law-permit"), "{found:?}");
}

#[test]
fn the_colloquial_waste_oil_name_finds_the_hw08_holder() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("废机油"));
    assert_eq!(ids(&found), ["org-1"], "{found:?}");
}

#[test]
fn waste_codes_and_categories_are_found_whole_in_any_width_and_case() {
    let (_dir, index) = fixture();
    for q in [
        "900-214-08",
        "HW08",
        "hw08",
        "ＨＷ０８",
        "９００－２１４－０８",
        "HW 08",
        "hw-08",
    ] {
        let found = search(&index, &query(q));
        assert_eq!(ids(&found), ["org-1"], "{q}: {found:?}");
    }
    assert_eq!(ids(&search(&index, &query("900-041-49"))), ["org-3"]);
}

#[test]
fn every_word_must_match_and_the_name_weighs_more_than_the_summary() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("危险废物"));
    let found_ids = ids(&found);
    for want in ["org-1", "law-solid", "notice-1"] {
        assert!(found_ids.contains(&want), "{want} missing: {found:?}");
    }
    // 危险废物 is in the name of notice-1 only.
    assert_eq!(found_ids[0], "notice-1", "{found:?}");
    let found = search(&index, &query("危险废物 集中收集"));
    assert_eq!(ids(&found), ["notice-1"]);
}

#[test]
fn a_query_no_document_matches_in_full_falls_back_to_any_word() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("噪声 焚烧"));
    assert!(found.relaxed);
    let mut got = ids(&found);
    got.sort_unstable();
    assert_eq!(got, ["org-2", "org-3"]);
    let found = search(&index, &query("量子 计算"));
    assert_eq!((found.total, found.relaxed), (0, false));
}

#[test]
fn a_region_filter_matches_documents_of_the_regions_below_it() {
    let (_dir, index) = fixture();
    let mut request = SearchRequest {
        filters: vec![Filter::AnyOf {
            field: "region".to_string(),
            values: vec!["320500".to_string()],
        }],
        ..SearchRequest::default()
    };
    let mut got = ids(&search(&index, &request))
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    got.sort_unstable();
    assert_eq!(got, ["notice-1", "org-1", "org-4", "org-5"]);

    // A repeated parameter means any of them, and it combines with the query.
    request.filters = vec![Filter::AnyOf {
        field: "region".to_string(),
        values: vec!["320509".to_string(), "330400".to_string()],
    }];
    request.q = Some("有限公司".to_string());
    let found = search(&index, &request);
    let mut got = ids(&found);
    got.sort_unstable();
    assert_eq!(got, ["org-1", "org-2", "org-4", "org-6"]);
}

#[test]
fn a_range_filter_is_inclusive_and_may_be_open_on_one_side() {
    let (_dir, index) = fixture();
    let range = |min, max| SearchRequest {
        filters: vec![Filter::Range {
            field: "founded".to_string(),
            min,
            max,
        }],
        sort: Sort::Number {
            field: "founded".to_string(),
            descending: false,
        },
        ..SearchRequest::default()
    };
    assert_eq!(
        ids(&search(&index, &range(Some(2015), Some(2018)))),
        ["org-1", "org-6", "org-2"]
    );
    assert_eq!(
        ids(&search(&index, &range(None, Some(2012)))),
        ["org-5", "org-3"]
    );
    assert_eq!(search(&index, &range(Some(2021), None)).total, 3);
    assert_eq!(search(&index, &range(None, None)).total, 10);
}

#[test]
fn sorting_by_a_number_field_and_paging_work() {
    let (_dir, index) = fixture();
    let request = SearchRequest {
        sort: Sort::Number {
            field: "founded".to_string(),
            descending: true,
        },
        offset: 1,
        limit: 3,
        ..SearchRequest::default()
    };
    let found = search(&index, &request);
    assert_eq!(found.total, 10);
    assert_eq!(found.hits.len(), 3);
    let founded: Vec<&str> = ids(&found);
    // 2023 notice-1 is skipped; then the 2021 pair (either order) and 2020.
    assert_eq!(founded[2], "law-solid", "{found:?}");
    let none = SearchRequest {
        limit: 0,
        ..SearchRequest::default()
    };
    let found = search(&index, &none);
    assert_eq!((found.total, found.hits.len()), (10, 0));
}

#[test]
fn facets_count_the_whole_filtered_result_set() {
    let (_dir, index) = fixture();
    let request = SearchRequest {
        q: Some("有限公司".to_string()),
        limit: 1,
        facet_fields: vec!["kind".to_string(), "region".to_string()],
        ..SearchRequest::default()
    };
    let found = search(&index, &request);
    assert_eq!(found.total, 6);
    assert_eq!(found.hits.len(), 1);
    assert_eq!(found.facets["kind"], [("supplier".to_string(), 6)]);
    let region: BTreeMap<&str, usize> = found.facets["region"]
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(region["320000"], 3);
    assert_eq!(region["320500"], 3);
    assert_eq!(region["320509"], 2);
    assert_eq!(region["330421"], 2);
    assert_eq!(region["310000"], 1);
    assert_eq!(found.facets["region"][0].1, 3, "sorted by count first");

    let filtered = SearchRequest {
        filters: vec![Filter::AnyOf {
            field: "kind".to_string(),
            values: vec!["regulation".to_string(), "law".to_string()],
        }],
        facet_fields: vec!["kind".to_string()],
        ..SearchRequest::default()
    };
    let found = search(&index, &filtered);
    assert_eq!(
        found.facets["kind"],
        [("regulation".to_string(), 2), ("law".to_string(), 1)]
    );
}

#[test]
fn snippets_escape_markup_and_mark_the_matched_words() {
    let (_dir, index) = fixture();
    let found = search(&index, &query("危废集中收集"));
    assert_eq!(ids(&found), ["notice-1"]);
    let hit = &found.hits[0];
    let summary = &hit.snippets["summary"];
    assert!(
        summary.starts_with("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{summary}"
    );
    assert!(!summary.contains("<script"), "{summary}");
    // Adjacent matched words make one mark.
    assert!(
        summary.contains("开展<mark>危险废物集中收集</mark>、贮存"),
        "{summary}"
    );
    assert_eq!(
        hit.snippets["name"],
        "小微企业<mark>危险废物集中收集</mark>试点通知"
    );
}

#[test]
fn upsert_replaces_a_document_and_delete_removes_it() {
    let (_dir, index) = fixture();
    assert_eq!(index.count(), 10);
    index
        .upsert(&[doc(
            "org-1",
            "supplier",
            Some("320509"),
            2015,
            "苏州某某再生资源有限公司",
            "废塑料回收。",
        )])
        .unwrap();
    index.commit().unwrap();
    assert_eq!(index.count(), 10);
    assert_eq!(search(&index, &query("废机油")).total, 0);
    assert_eq!(ids(&search(&index, &query("废塑料"))), ["org-1"]);

    index.delete(&["org-1", "no-such-id"]).unwrap();
    assert_eq!(index.count(), 10, "not visible before commit");
    index.commit().unwrap();
    assert_eq!(index.count(), 9);
    assert_eq!(search(&index, &query("废塑料")).total, 0);

    index.clear().unwrap();
    index.commit().unwrap();
    assert_eq!(index.count(), 0);
}

#[test]
fn an_index_survives_reopening_and_another_spec_version_wipes_it() {
    let dir = TempDir::new().unwrap();
    {
        let index = SearchIndex::open(dir.path(), &FIXTURE).unwrap();
        assert_eq!(index.state(), &OpenState::Created);
        assert!(index.state().needs_rebuild());
        index.upsert(&fixture_docs()).unwrap();
        index.commit().unwrap();
        assert_eq!(index.dir(), dir.path().join("search").join("fixture"));
    }
    {
        let index = SearchIndex::open(dir.path(), &FIXTURE).unwrap();
        assert_eq!(index.state(), &OpenState::Existing);
        assert_eq!(index.count(), 10);
    }
    let index = SearchIndex::open(dir.path(), &FIXTURE_V2).unwrap();
    assert!(
        matches!(index.state(), OpenState::Wiped { .. }),
        "{:?}",
        index.state()
    );
    assert!(index.state().needs_rebuild());
    assert_eq!(index.count(), 0);
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused() {
    let (dir, _index) = fixture();
    let err = SearchIndex::open(dir.path(), &FIXTURE).unwrap_err();
    assert!(matches!(err, SearchError::Locked(_)), "{err:?}");
}

#[test]
fn unknown_fields_and_bad_specs_are_errors() {
    let (_dir, index) = fixture();
    let err = index
        .upsert(&[Doc::new("x").text("nope", "文字")])
        .unwrap_err();
    assert!(matches!(err, SearchError::UnknownField { .. }), "{err:?}");
    let bad_filter = SearchRequest {
        filters: vec![Filter::AnyOf {
            field: "founded".to_string(),
            values: vec!["1".to_string()],
        }],
        ..SearchRequest::default()
    };
    assert!(index.search(&bad_filter).is_err());
    let bad_facet = SearchRequest {
        facet_fields: vec!["name".to_string()],
        ..SearchRequest::default()
    };
    assert!(index.search(&bad_facet).is_err());

    static BAD: CollectionSpec = CollectionSpec {
        name: "bad",
        version: 1,
        text_fields: &[TextField {
            name: "id",
            boost: 1.0,
            stored_for_snippet: false,
        }],
        keyword_fields: &[],
        number_fields: &[],
    };
    let dir = TempDir::new().unwrap();
    assert!(matches!(
        SearchIndex::open(dir.path(), &BAD).unwrap_err(),
        SearchError::Spec { .. }
    ));
}

#[test]
fn a_district_name_with_or_without_its_suffix_finds_the_organisation() {
    let (_dir, index) = fixture();
    assert_eq!(ids(&search(&index, &query("青浦区固废"))), ["org-3"]);
    assert_eq!(ids(&search(&index, &query("青浦 固体废物"))), ["org-3"]);
}

#[test]
fn a_filter_that_lets_everything_through_changes_neither_hits_nor_scores() {
    // With a filter the words (one or two) are unions that seek (`SumUnionQuery`);
    // without one they are tantivy's buffered unions. Both must give the same page,
    // scores and counts, over several segments (three words keep tantivy's union).
    let dir = TempDir::new().unwrap();
    let index = SearchIndex::open(dir.path(), &FIXTURE).unwrap();
    let words = [
        "危险废物",
        "环保",
        "管家",
        "监测",
        "服务",
        "运维",
        "污水",
        "环评",
        "土壤",
        "调查",
        "应急预案",
        "走航",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for batch in 0..3 {
        let mut docs = Vec::new();
        for n in 0..3000 {
            let name: String = (0..1 + next(3)).map(|_| words[next(words.len())]).collect();
            let summary: String = (0..2 + next(6))
                .map(|_| words[next(words.len())])
                .collect::<Vec<_>>()
                .join("，");
            let kind = if next(2) == 0 {
                "supplier"
            } else {
                "regulation"
            };
            docs.push(doc(
                &format!("d{batch}-{n}"),
                kind,
                Some("320509"),
                2000 + next(20) as i64,
                &name,
                &summary,
            ));
        }
        index.upsert(&docs).unwrap();
        index.commit().unwrap();
    }
    for q in [
        "环保管家",
        "监测服务",
        "污水 运维",
        "环评",
        "危险废物 监测 服务",
        "土壤调查 走航",
    ] {
        for sort in [
            Sort::Relevance,
            Sort::Number {
                field: "founded".into(),
                descending: true,
            },
        ] {
            let plain = SearchRequest {
                q: Some(q.to_string()),
                sort: sort.clone(),
                limit: 50,
                facet_fields: vec!["kind".into()],
                ..SearchRequest::default()
            };
            let filtered = SearchRequest {
                filters: vec![Filter::Range {
                    field: "founded".into(),
                    min: Some(0),
                    max: None,
                }],
                ..plain.clone()
            };
            let a = search(&index, &plain);
            let b = search(&index, &filtered);
            assert!(a.total > 0, "{q}: nothing found");
            assert_eq!(a, b, "{q}");
        }
    }
}
