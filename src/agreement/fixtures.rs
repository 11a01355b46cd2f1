//! Test support: the reference data of `shared/agreement/data`, copied to
//! `tests/fixtures/agreement`, and the tolerance the specification sets for `expected_exact`.

use serde_json::Value;

use super::coefficients::{ContingencyTable, ReliabilityData};
use super::types::Stat;

pub(crate) const TOLERANCE: f64 = 1e-9;

pub(crate) fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/agreement/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `expected` is a number (compare within [`TOLERANCE`]) or null (must be undefined).
pub(crate) fn assert_stat(actual: Stat, expected: &Value, what: &str) {
    match expected {
        Value::Null => assert!(
            actual.value().is_none(),
            "{what}: expected undefined, got {actual:?}"
        ),
        Value::Number(n) => {
            let expected = n.as_f64().expect("finite number");
            let value = actual
                .value()
                .unwrap_or_else(|| panic!("{what}: expected {expected}, got {actual:?}"));
            assert!(
                (value - expected).abs() <= TOLERANCE,
                "{what}: expected {expected}, got {value} (off by {:e})",
                (value - expected).abs()
            );
        }
        other => panic!("{what}: unexpected expectation {other}"),
    }
}

/// Index of a JSON category value in the case's category list.
pub(crate) fn category_index(categories: &[Value], value: &Value) -> u32 {
    let i = categories
        .iter()
        .position(|c| c == value)
        .unwrap_or_else(|| panic!("value {value} not among categories"));
    u32::try_from(i).expect("few categories")
}

fn u64_rows(rows: &Value) -> Vec<Vec<u64>> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("row")
                .iter()
                .map(|n| n.as_u64().expect("count"))
                .collect()
        })
        .collect()
}

/// The `data` block of a predefined-units case as reliability data, plus its table when
/// it is given as one.
pub(crate) fn reliability_data(data: &Value) -> (ReliabilityData, Option<ContingencyTable>) {
    let categories = data["categories"].as_array().expect("categories");
    let q = u32::try_from(categories.len()).expect("few categories");
    if let Some(stated) = data.get("q") {
        assert_eq!(
            stated.as_u64(),
            Some(u64::from(q)),
            "q disagrees with the category list"
        );
    }
    match data["format"].as_str().expect("format") {
        "ratings" => {
            let rows: Vec<Vec<Option<u32>>> = data["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|row| {
                    row.as_array()
                        .expect("row")
                        .iter()
                        .map(|v| (!v.is_null()).then(|| category_index(categories, v)))
                        .collect()
                })
                .collect();
            (
                ReliabilityData::from_coder_rows(q, &rows).expect("valid ratings"),
                None,
            )
        }
        "table" => {
            let table = ContingencyTable::from_rows(&u64_rows(&data["table"])).expect("square");
            (ReliabilityData::from_contingency(&table), Some(table))
        }
        "counts" => {
            let counts = u64_rows(&data["counts"]);
            (
                ReliabilityData::from_category_counts(q, &counts).expect("valid counts"),
                None,
            )
        }
        other => panic!("not a predefined-units format: {other}"),
    }
}
