//! The test helpers themselves: a wrong helper would make every other test lie.

use crate::support::{credit_code, csrf_from, html_tag, try_csrf_from, with_database};

#[test]
fn credit_code_gets_the_check_character_of_the_standards_example() {
    // GB 32100-2015's own example code.
    assert_eq!(credit_code("91350100M000100Y4"), "91350100M000100Y43");
    assert_eq!(credit_code("91320509MA5LDT2G9"), "91320509MA5LDT2G9R");
    assert_eq!(credit_code("91320509180523764"), "913205091805237644");
}

#[test]
fn database_name_is_replaced_in_a_postgres_url() {
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1:5432/postgres", "x"),
        "postgres://u:p@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/postgres?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://u:p@h:5432", "x"),
        "postgres://u:p@h:5432/x"
    );
}

#[test]
fn csrf_field_is_found_whatever_the_attribute_order() {
    let html = r#"<form><input name="x" value="y"><input type="hidden" name="_csrf" value="a&#x2f;b"></form>"#;
    assert_eq!(csrf_from(html), "a/b");
    assert_eq!(
        csrf_from(r#"<input value="tok" name="_csrf" type="hidden">"#),
        "tok"
    );
    assert_eq!(
        try_csrf_from(r#"<input name="_csrf_other" value="no">"#),
        None
    );
    let multipart = r#"<form method="post" action="/register/demand?_csrf=a%2Bb%3D&amp;x=1" enctype="multipart/form-data">"#;
    assert_eq!(csrf_from(multipart), "a+b=");
}

#[test]
fn html_tag_is_the_opening_tag_only() {
    assert_eq!(
        html_tag("<!doctype html>\n<html lang=\"zh-CN\" class=\"a\">\n<head>"),
        "<html lang=\"zh-CN\" class=\"a\">"
    );
}
