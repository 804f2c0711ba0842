//! Which entries a region code may see: 全国, the code's province and, inside the
//! demonstration zone (青浦区, 吴江区, 嘉善县), the zone's own entries (示范区).

use greenbridge_domain::RegionTree;

/// The districts of the demonstration zone (两区一县).
pub const ZONE_DISTRICTS: [&str; 3] = ["310118", "320509", "330421"];

/// The entry regions answering for `code`, or `None` for an unknown code.
///
/// A code outside 上海, 江苏 and 浙江 sees the national entries only.
pub fn allowed_regions(code: &str) -> Option<Vec<&'static str>> {
    let tree = RegionTree::embedded();
    let code = code.trim();
    tree.get(code)?;
    let mut out = vec!["全国"];
    for (prefix, name) in [
        ("310000", "上海市"),
        ("320000", "江苏省"),
        ("330000", "浙江省"),
    ] {
        if tree.is_within(code, prefix) {
            out.push(name);
        }
    }
    // A province or city containing the zone is not inside it; only the district
    // itself and the towns below it are.
    if ZONE_DISTRICTS.iter().any(|d| tree.is_within(code, d)) {
        out.push("示范区");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_district_sees_the_nation_its_province_and_the_zone() {
        assert_eq!(
            allowed_regions("320509").unwrap(),
            ["全国", "江苏省", "示范区"]
        );
        assert_eq!(allowed_regions("310000").unwrap(), ["全国", "上海市"]);
        assert_eq!(allowed_regions("110101").unwrap(), ["全国"]);
        assert!(allowed_regions("999999").is_none());
    }
}
