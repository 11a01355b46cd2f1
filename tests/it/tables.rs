//! The tables for the write-up: numbers checked against hand-computed values,
//! and each CSV and XLSX download against the JSON.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use concord::projects::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, html, select_texts};
use crate::saturation::{Three, expect, three};

async fn tables(t: &Three<'_>, query: &str) -> Value {
    expect(
        t.s.project
            .owner
            .get(&t.s.project.api(&format!("/tables?{query}")))
            .await,
        StatusCode::OK,
    )
    .await
}

async fn download(t: &Three<'_>, query: &str) -> (String, Vec<u8>) {
    let response =
        t.s.project
            .owner
            .get(&t.s.project.path(&format!("/tables/download?{query}")))
            .await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (kind, response.bytes().await.unwrap().to_vec())
}

/// The CSV's rows as text, and the XLSX's first sheet as the same text (its
/// numbers printed as the CSV prints them).
fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
        .records()
        .map(|r| {
            let mut cells: Vec<String> = r.unwrap().iter().map(str::to_owned).collect();
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            cells
        })
        .collect()
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("an xlsx");
    let name = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&name).expect("the sheet");
    range
        .rows()
        .map(|row| {
            let mut cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) => concord::participants::model::format_number(*f),
                    Data::Int(i) => i.to_string(),
                    other => other.to_string(),
                })
                .collect();
            while cells.last().is_some_and(String::is_empty) {
                cells.pop();
            }
            cells
        })
        .collect()
}

/// Rows after the notes and the empty row: the heading, then the data.
fn body(rows: &[Vec<String>]) -> (&[Vec<String>], &[Vec<String>]) {
    let blank = rows
        .iter()
        .position(|r| r.iter().all(String::is_empty))
        .expect("an empty row after the notes");
    (&rows[..blank], &rows[blank + 1..])
}

fn number(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(n) => concord::participants::model::format_number(n.as_f64().unwrap()),
        other => other.as_str().unwrap().to_owned(),
    }
}

/// (kind, name, depth, overall, per group)
type Row = (String, String, u64, Frac, Vec<Frac>);
type Frac = (u64, u64, Option<f64>);

fn fraction(f: &Value) -> (u64, u64, Option<f64>) {
    (
        f["n"].as_u64().unwrap(),
        f["of"].as_u64().unwrap(),
        f["percent"].as_f64(),
    )
}

#[tokio::test]
async fn n_of_n_by_attribute_co_occurrence_and_code_by_transcript_match_the_hand_counts() {
    let app = TestApp::spawn().await;
    let t = three(&app).await;
    let v = tables(&t, "by=role").await;

    // P01 Nurse {Infection, Cost, Training}, P02 Oncologist {Infection, Cost,
    // Guidelines}, P03 Nurse {Infection, Unused}: N = 3; Nurse 2, Oncologist 1.
    let p = &v["participants"];
    assert_eq!(p["participants_total"], 3);
    assert_eq!(p["by"], "Role");
    assert_eq!(
        p["groups"],
        json!([{ "value": "Nurse", "participants": 2 }, { "value": "Oncologist", "participants": 1 }])
    );
    let rows: Vec<Row> = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["name"].as_str().unwrap().to_owned(),
                r["depth"].as_u64().unwrap(),
                fraction(&r["overall"]),
                r["groups"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(fraction)
                    .collect(),
            )
        })
        .collect();
    let all = |n| (n, 3, Some((n as f64 * 1000.0 / 3.0).round() / 10.0));
    let nurse = |n| (n, 2, Some(n as f64 * 50.0));
    let onc = |n| (n, 1, Some(n as f64 * 100.0));
    let expected = [
        // Risks: Infection (everyone) or Cost.
        ("theme", "Risks", 0, all(3), vec![nurse(2), onc(1)]),
        ("code", "Infection", 1, all(3), vec![nurse(2), onc(1)]),
        // Costs: Cost, P01 and P02: 2 of 3 = 66.7 %; Nurse 1 of 2 = 50 %.
        ("theme", "Costs", 1, all(2), vec![nurse(1), onc(1)]),
        ("code", "Cost", 2, all(2), vec![nurse(1), onc(1)]),
        // Unplaced, by name.
        ("code", "Guidelines", 0, all(1), vec![nurse(0), onc(1)]),
        ("code", "Training", 0, all(1), vec![nurse(1), onc(0)]),
        ("code", "Unused", 0, all(1), vec![nurse(1), onc(0)]),
    ];
    let expected: Vec<_> = expected
        .into_iter()
        .map(|(k, n, d, o, g)| (k.to_owned(), n.to_owned(), d, o, g))
        .collect();
    assert_eq!(rows, expected);
    assert_eq!(all(2).2, Some(66.7));

    // Overlaps: Infection × Training in P01 (the second Training coding lies in
    // the Infection coding), Infection × Unused in P03; nothing else.
    let co = &v["cooccurrence"];
    let names: Vec<&str> = co["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Infection", "Training", "Unused"]);
    assert_eq!(
        co["cells"],
        json!([[null, 1, 1], [1, null, null], [1, null, null]])
    );
    let codings: Vec<i64> = co["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["codings"].as_i64().unwrap())
        .collect();
    assert_eq!(codings, [3, 2, 1]);
    let filtered = tables(&t, "min=2").await;
    assert_eq!(filtered["cooccurrence"]["codes"], json!([]));
    assert_eq!(filtered["cooccurrence"]["min"], 2);

    // Consensus codings per code (by name) and transcript (P01, P02, P03).
    let m = &v["transcripts"];
    let counts: Vec<(&str, Value, i64)> = m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["counts"].clone(),
                r["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("Cost", json!([1, 1, 0]), 2),
            ("Guidelines", json!([0, 1, 0]), 1),
            ("Infection", json!([1, 1, 1]), 3),
            ("Training", json!([2, 0, 0]), 2),
            ("Unused", json!([0, 0, 1]), 1),
        ]
    );
    assert_eq!(m["totals"], json!([4, 3, 2]));
    assert_eq!(m["total"], 9);

    // Bad input: 422, naming the parameter.
    for (query, field) in [("by=Nope", "by"), ("min=0", "min"), ("min=x", "min")] {
        let body = expect(
            t.s.project
                .owner
                .get(&t.s.project.api(&format!("/tables?{query}")))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(body["errors"][field].is_array(), "{query}: {body}");
    }
    for query in ["table=nope", "format=pdf"] {
        let response =
            t.s.project
                .owner
                .get(&t.s.project.path(&format!("/tables/download?{query}")))
                .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
    }
}

#[tokio::test]
async fn every_download_holds_the_numbers_of_the_json_and_states_its_filter() {
    let app = TestApp::spawn().await;
    let t = three(&app).await;
    let v = tables(&t, "by=Role&min=1").await;

    for table in ["participants", "cooccurrence", "transcripts"] {
        let (kind, csv) = download(&t, &format!("table={table}&format=csv&by=Role&min=1")).await;
        assert_eq!(kind, "text/csv; charset=utf-8");
        let (kind, xlsx) = download(&t, &format!("table={table}&format=xlsx&by=Role&min=1")).await;
        assert!(kind.contains("spreadsheetml"), "{kind}");
        let csv = csv_rows(&csv);
        let xlsx = xlsx_rows(xlsx);
        assert_eq!(csv, xlsx, "{table}: the CSV and the XLSX differ");
        let (notes, rows) = body(&csv);
        let (header, data) = (&rows[0], &rows[1..]);
        match table {
            "participants" => {
                assert!(notes.iter().any(|n| n[0] == "Split by: Role"), "{notes:?}");
                assert!(notes.iter().any(|n| n[0].contains("(N = 3)")), "{notes:?}");
                assert_eq!(
                    header[3..9],
                    [
                        "All: n",
                        "All: N",
                        "All: %",
                        "Role = Nurse: n",
                        "Role = Nurse: N",
                        "Role = Nurse: %"
                    ]
                );
                let json_rows = v["participants"]["rows"].as_array().unwrap();
                assert_eq!(data.len(), json_rows.len());
                for (row, r) in data.iter().zip(json_rows) {
                    let mut expected = vec![
                        match (
                            r["kind"].as_str().unwrap(),
                            r["unplaced"].as_bool().unwrap(),
                        ) {
                            ("theme", _) => "theme".to_owned(),
                            (_, false) => "code".to_owned(),
                            _ => "unplaced code".to_owned(),
                        },
                        r["name"].as_str().unwrap().to_owned(),
                        number(&r["depth"]),
                    ];
                    for f in std::iter::once(&r["overall"]).chain(r["groups"].as_array().unwrap()) {
                        expected.extend([number(&f["n"]), number(&f["of"]), number(&f["percent"])]);
                    }
                    assert_eq!(row, &expected);
                }
            }
            "cooccurrence" => {
                assert!(
                    notes
                        .iter()
                        .any(|n| n[0].starts_with("Filter: cells of at least 1 pair")),
                    "{notes:?}"
                );
                let co = &v["cooccurrence"];
                let codes = co["codes"].as_array().unwrap();
                assert_eq!(
                    header[2..],
                    codes
                        .iter()
                        .map(|c| c["name"].as_str().unwrap().to_owned())
                        .collect::<Vec<_>>()[..]
                );
                for ((row, c), cells) in data.iter().zip(codes).zip(co["cells"].as_array().unwrap())
                {
                    let mut expected = vec![
                        c["name"].as_str().unwrap().to_owned(),
                        number(&c["codings"]),
                    ];
                    expected.extend(cells.as_array().unwrap().iter().map(number));
                    while expected.last().is_some_and(String::is_empty) {
                        expected.pop();
                    }
                    let mut row = row.clone();
                    while row.last().is_some_and(String::is_empty) {
                        row.pop();
                    }
                    assert_eq!(row, expected);
                }
            }
            _ => {
                let m = &v["transcripts"];
                assert_eq!(header[1..4], ["P01 (P01)", "P02 (P02)", "P03 (P03)"]);
                for (row, r) in data.iter().zip(m["rows"].as_array().unwrap()) {
                    let mut expected = vec![r["name"].as_str().unwrap().to_owned()];
                    expected.extend(r["counts"].as_array().unwrap().iter().map(number));
                    expected.push(number(&r["total"]));
                    assert_eq!(row, &expected);
                }
                assert_eq!(data.last().unwrap(), &["Total", "4", "3", "2", "9"]);
            }
        }
    }
}

#[tokio::test]
async fn the_page_shows_n_of_n_and_the_heat_map_and_blind_members_get_the_notice() {
    let app = TestApp::spawn().await;
    let t = three(&app).await;
    let reviewer = t.s.project.member(Role::Reviewer).await;
    let page = html(reviewer.get(&t.s.project.path("/tables?by=Role")).await).await;
    let first = select_texts(&page, "#participants-table tbody tr:first-child td");
    assert_eq!(
        first[1..],
        ["3 of 3 (100.0%)", "2 of 2 (100.0%)", "1 of 1 (100.0%)"]
    );
    assert_eq!(
        select_texts(&page, "#participants-table thead th")[1..],
        ["All", "Role: Nurse", "Role: Oncologist"]
    );
    assert_eq!(
        select_texts(&page, "#cooccurrence-table td.heat-5"),
        ["1", "1", "1", "1"]
    );
    assert_eq!(
        select_texts(&page, "#transcripts-table td.total"),
        ["2", "1", "3", "2", "1", "9"]
    );

    let carl = t.s.project.member(Role::Coder).await;
    expect(
        t.s.project
            .owner
            .post_json(
                &t.s.project.api("/assignments"),
                &json!({ "transcript_ids": [t.p03], "user_ids": [carl.id] }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let page = html(carl.get(&t.s.project.path("/tables")).await).await;
    assert_eq!(select_texts(&page, "#tables-closed").len(), 1);
    assert!(select_texts(&page, "#participants-table").is_empty());
    for path in ["/tables/download", "/tables/download?format=xlsx"] {
        let refused = carl.get(&t.s.project.path(path)).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT, "{path}");
    }
    let refused = carl.get(&t.s.project.api("/tables")).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
}
