//! The JSON API conventions: the list envelope, filters, page-size limits, errors
//! that name the field, and an OpenAPI document that lists every route.

use crate::support::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;

async fn get_json(app: &crate::support::TestApp, path: &str) -> (StatusCode, Value) {
    let response = app.get(path).await;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("").to_string());
    assert!(
        content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json")),
        "{path}: content type {content_type:?}"
    );
    (
        status,
        response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{path}: not JSON: {e}")),
    )
}

fn items(body: &Value) -> &Vec<Value> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array in {body}"))
}

fn codes(body: &Value) -> Vec<&str> {
    items(body)
        .iter()
        .map(|i| i["code"].as_str().expect("code"))
        .collect()
}

#[tokio::test]
async fn region_list_answers_in_the_envelope_of_total_items_and_facets() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/api/v1/regions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["total"].as_u64().is_some_and(|t| t >= 3), "{body}");
    assert!(body["facets"].is_object(), "{body}");
    let provinces = codes(&body);
    for province in ["310000", "320000", "330000"] {
        assert!(
            provinces.contains(&province),
            "{province} missing: {provinces:?}"
        );
    }
    assert!(
        items(&body).iter().all(|i| i["level"] == "province"),
        "{body}"
    );
}

#[tokio::test]
async fn regions_with_a_parent_are_its_children_only() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/api/v1/regions?parent=320500&page_size=100").await;
    assert_eq!(status, StatusCode::OK);
    assert!(codes(&body).contains(&"320509"), "{body}");
    assert!(
        items(&body).iter().all(|i| i["parent"] == "320500"),
        "{body}"
    );
    assert_eq!(body["total"].as_u64().unwrap() as usize, items(&body).len());
}

#[tokio::test]
async fn regions_within_a_city_can_be_narrowed_to_one_level() {
    let app = spawn_app().await;
    let (status, body) = get_json(
        &app,
        "/api/v1/regions?region=320500&level=district&page_size=100",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let found = codes(&body);
    assert!(found.contains(&"320509"), "{body}");
    assert!(
        found
            .iter()
            .all(|c| c.starts_with("3205") && *c != "320500"),
        "{found:?}"
    );
    assert!(
        items(&body).iter().all(|i| i["level"] == "district"),
        "{body}"
    );
}

#[tokio::test]
async fn page_size_over_100_is_refused_with_a_json_error_naming_the_field() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/api/v1/regions?page_size=101").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "page_size", "{body}");
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    let (status, _) = get_json(&app, "/api/v1/regions?page_size=100").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_query_parameter_is_refused_rather_than_ignored() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/api/v1/regions?colour=green").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "colour", "{body}");
}

#[tokio::test]
async fn waste_code_search_by_everyday_name_finds_waste_engine_oil() {
    let app = spawn_app().await;
    let (status, body) = get_json(
        &app,
        "/api/v1/waste-codes?q=%E5%BA%9F%E6%9C%BA%E6%B2%B9&page_size=100",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(codes(&body).contains(&"900-214-08"), "{body}");
    assert!(
        body["facets"]["hw"]
            .as_array()
            .is_some_and(|f| f.iter().any(|v| v["value"] == "HW08")),
        "{body}"
    );
}

#[tokio::test]
async fn waste_codes_of_an_unknown_hw_category_are_a_400_on_field_hw() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/api/v1/waste-codes?hw=HW99").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "hw", "{body}");
}

#[tokio::test]
async fn openapi_document_lists_every_api_v1_route() {
    let app = spawn_app().await;
    let (status, body) = get_json(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let paths = body["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths in {body}"));
    // Every route the API router declares, read from its source, must be documented.
    let source = include_str!("../../src/routes/api.rs");
    let routes: Vec<&str> = source
        .split(".route(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|route| *route != "/openapi.json")
        .collect();
    assert!(routes.len() >= 5, "found only {routes:?}");
    for route in routes {
        let documented = format!("/api/v1{route}");
        assert!(
            paths.contains_key(&documented),
            "{documented} is not in the OpenAPI document: {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
}
