//! The collections the platform indexes, each a spec and a way to turn a database row
//! into a document. Registered organisations are the first; the modules add theirs.

use crate::{CollectionSpec, Doc, TextField};
use greenbridge_domain::region::RegionTree;
use greenbridge_store::Organisation;

pub static ORGANISATIONS: CollectionSpec = CollectionSpec {
    name: greenbridge_store::collections::ORGANISATIONS,
    version: 1,
    text_fields: &[
        TextField {
            name: "name",
            boost: 3.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "credit_code",
            boost: 2.0,
            stored_for_snippet: false,
        },
        TextField {
            name: "address",
            boost: 1.0,
            stored_for_snippet: true,
        },
        TextField {
            name: "region_name",
            boost: 1.0,
            stored_for_snippet: false,
        },
    ],
    keyword_fields: &["region", "side", "verified", "status", "sample"],
    number_fields: &["created_at"],
};

/// The search document of an organisation. `region` holds the code of its region and
/// of every region above, so that a filter on a city finds its districts and towns.
pub fn organisation_doc(organisation: &Organisation) -> Doc {
    let tree = RegionTree::embedded();
    let ancestors: Vec<String> = tree
        .ancestors(&organisation.region_code)
        .iter()
        .map(|r| r.code.as_str().to_string())
        .collect();
    Doc::new(organisation.id.to_string())
        .text("name", organisation.name.clone())
        .text("credit_code", organisation.credit_code.as_str())
        .text("address", organisation.address.clone())
        .text("region_name", tree.full_name(&organisation.region_code))
        .keywords("region", ancestors)
        .keyword("side", organisation.side.as_str())
        .keyword("verified", if organisation.verified { "yes" } else { "no" })
        .keyword("status", organisation.status.clone())
        .keyword("sample", if organisation.sample { "yes" } else { "no" })
        .number("created_at", organisation.created_at)
}
