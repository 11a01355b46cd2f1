//! Exports: every file is opened and read back (CSV parsed, XLSX with
//! calamine) and compared with what the API says; roles and members still
//! coding are refused; a layer someone is blind to never appears.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use concord::demo::{self, DemoSummary};
use concord::state::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use concord::docx::read::ReadBlock;

use crate::harness::browser::wait_for_file;
use crate::harness::{TestApp, TestClient, html, select_texts};

const CANARY_CODE: &str = "canary-code-of-ben";
const CANARY_MEMO: &str = "canary-memo-of-ben";

const EXPORTS: [&str; 10] = [
    "segments.csv",
    "segments.xlsx",
    "codebook.csv",
    "codebook.xlsx",
    "codebook.docx",
    "ledger.csv",
    "ledger.docx",
    "agreement.xlsx",
    "agreement.docx",
    "audit.csv",
];

struct Demo {
    summary: DemoSummary,
    owner: TestClient,
    lead: TestClient,
    ada: TestClient,
    ben: TestClient,
    rita: TestClient,
}

impl Demo {
    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.summary.path)
    }

    fn api(&self, rest: &str) -> String {
        format!("/api/v1/projects/{}{rest}", self.summary.project_id)
    }
}

async fn signed_in_as(app: &TestApp, email: &str) -> TestClient {
    let client = app.client();
    let response = client.sign_in(email, demo::PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-in of {email}"
    );
    client
}

async fn demo_study(app: &TestApp) -> Demo {
    let state = AppState::new(app.pool.clone(), app.config.clone());
    let summary = demo::create(&state).await.expect("demo study");
    Demo {
        summary,
        owner: signed_in_as(app, "owner@demo.concord").await,
        lead: signed_in_as(app, "lead@demo.concord").await,
        ada: signed_in_as(app, "ada@demo.concord").await,
        ben: signed_in_as(app, "ben@demo.concord").await,
        rita: signed_in_as(app, "rita@demo.concord").await,
    }
}

async fn get_json(client: &TestClient, path: &str) -> Value {
    let response = client.get(path).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

struct File {
    status: StatusCode,
    disposition: String,
    content_type: String,
    bytes: Vec<u8>,
}

async fn download(client: &TestClient, path: &str) -> File {
    let response = client.get(path).await;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (disposition, content_type) = (header("content-disposition"), header("content-type"));
    File {
        status: response.status(),
        disposition,
        content_type,
        bytes: response.bytes().await.expect("body").to_vec(),
    }
}

/// Downloads an export that must succeed.
async fn export(client: &TestClient, path: &str) -> File {
    let file = download(client, path).await;
    assert_eq!(
        file.status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&file.bytes)
    );
    file
}

/// The CSV's rows, each by column name, and the column names in order.
fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (headers, rows)
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

fn xlsx_sheets(bytes: &[u8]) -> Vec<String> {
    let workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX");
    workbook.sheet_names()
}

/// Every row of a sheet, heading row first, as text.
fn xlsx_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX");
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect()
}

fn xlsx_numbers(bytes: &[u8], sheet: &str) -> Vec<Vec<Data>> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an XLSX");
    let range = workbook.worksheet_range(sheet).expect("the sheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// The CSV's rows as lists in column order, to compare with a sheet.
fn csv_lists(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// Places the agreed code `code` under "Burden of care" > "Money" (the theme
/// hierarchy's tables, as its service in main writes them).
async fn place(app: &TestApp, demo: &Demo, code: &str) {
    let project = demo.summary.project_id.0;
    let by: Uuid = sqlx::query_scalar("select id from users where email = 'lead@demo.concord'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let (top, sub) = (Uuid::now_v7(), Uuid::now_v7());
    for (id, parent, name) in [(top, None, "Burden of care"), (sub, Some(top), "Money")] {
        sqlx::query(
            "insert into theme_nodes (id, project_id, parent_id, name, color, created_by) values ($1, $2, $3, $4, '#888888', $5)",
        )
        .bind(id)
        .bind(project)
        .bind(parent)
        .bind(name)
        .bind(by)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    // A deleted node is not on any path.
    sqlx::query(
        "insert into theme_nodes (id, project_id, name, color, created_by, deleted_at) values ($1, $2, 'Gone', '#888888', $3, now())",
    )
    .bind(Uuid::now_v7())
    .bind(project)
    .bind(by)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into theme_placements (agreed_code_id, project_id, node_id, placed_by) values ($1, $2, $3, $4)
         on conflict (agreed_code_id) do update set node_id = excluded.node_id",
    )
    .bind(code.parse::<Uuid>().unwrap())
    .bind(project)
    .bind(sub)
    .bind(by)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Each placed agreed code's theme path ("Theme > Subcategory"), by code id,
/// as the themes API gives the hierarchy.
async fn theme_paths(demo: &Demo) -> HashMap<String, String> {
    let h: Value = demo
        .owner
        .get(&demo.api("/themes"))
        .await
        .json()
        .await
        .unwrap();
    let nodes: HashMap<String, (Option<String>, String)> = h["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_owned(),
                (
                    n["parent_id"].as_str().map(str::to_owned),
                    n["name"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    let mut paths = HashMap::new();
    for c in h["codes"].as_array().unwrap() {
        let mut at = c["node_id"].as_str().map(str::to_owned);
        let mut names = Vec::new();
        while let Some((parent, name)) = at.as_ref().and_then(|id| nodes.get(id)) {
            names.push(name.clone());
            at = parent.clone();
        }
        names.reverse();
        paths.insert(c["id"].as_str().unwrap().to_owned(), names.join(" > "));
    }
    paths
}

/// The demo's consensus codebook, as its API gives it.
async fn codebook(demo: &Demo) -> Vec<Value> {
    get_json(&demo.owner, &demo.api("/consensus/codebook"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

#[tokio::test]
async fn coded_segments_hold_every_consensus_coding_with_its_transcript_participant_and_theme() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let codes = codebook(&demo).await;
    let placed = codes
        .iter()
        .find(|c| c["codings"].as_i64() > Some(0))
        .expect("a code in use");
    let placed_id = placed["id"].as_str().unwrap().to_owned();
    place(&app, &demo, &placed_id).await;
    let paths = theme_paths(&demo).await;
    let code_names: HashMap<String, String> = codes
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    let file = export(&demo.owner, &demo.path("/exports/segments.csv")).await;
    assert!(
        file.content_type.starts_with("text/csv"),
        "{}",
        file.content_type
    );
    assert_eq!(
        file.disposition,
        format!(
            "attachment; filename=\"{}-coded-segments-{}.csv\"",
            concord::exports::model::slug(&demo.summary.project_name),
            today()
        )
    );
    let (headers, rows) = csv_rows(&file.bytes);

    // Every participant attribute is a column, between participant and speaker.
    let variables = get_json(&demo.owner, &demo.api("/variables")).await;
    let variables = variables.as_array().unwrap();
    assert!(variables.len() >= 3, "the demo has attributes");
    let participant_at = headers.iter().position(|h| h == "participant").unwrap();
    let speaker_at = headers.iter().position(|h| h == "speaker").unwrap();
    let mut attribute_columns: Vec<&str> = headers[participant_at + 1..speaker_at]
        .iter()
        .map(String::as_str)
        .collect();
    let mut names: Vec<&str> = variables
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    attribute_columns.sort_unstable();
    names.sort_unstable();
    assert_eq!(attribute_columns, names);
    let participants = get_json(&demo.owner, &demo.api("/participants")).await;
    let participants: HashMap<&str, &Value> = participants["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["label"].as_str().unwrap(), p))
        .collect();

    // The rows are exactly the consensus layers, as the API lists them.
    let mut expected = Vec::new();
    let mut texts = HashMap::new();
    for t in &demo.summary.transcripts {
        let transcript = get_json(&demo.owner, &demo.api(&format!("/transcripts/{t}"))).await;
        let layer = get_json(
            &demo.owner,
            &demo.api(&format!("/consensus/transcripts/{t}/codings")),
        )
        .await;
        for c in layer.as_array().unwrap() {
            expected.push((
                t.to_string(),
                code_names[c["code_id"].as_str().unwrap()].clone(),
                c["start"].as_i64().unwrap(),
                c["end"].as_i64().unwrap(),
                c["id"].as_str().unwrap().to_owned(),
            ));
        }
        texts.insert(t.to_string(), transcript);
    }
    assert!(expected.len() > 5, "the demo has a consensus layer");
    let mut got: Vec<_> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["layer"], "consensus");
            (
                r["transcript_id"].clone(),
                r["agreed_code"].clone(),
                r["start"].parse::<i64>().unwrap(),
                r["end"].parse::<i64>().unwrap(),
                r["coding_id"].clone(),
            )
        })
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);

    for r in &rows {
        let t = &texts[&r["transcript_id"]];
        assert_eq!(r["transcript"], t["title"].as_str().unwrap());
        let text: Vec<char> = t["text"].as_str().unwrap().chars().collect();
        let (start, end): (usize, usize) = (r["start"].parse().unwrap(), r["end"].parse().unwrap());
        assert_eq!(r["text"], text[start..end].iter().collect::<String>());
        // The line holding the start, as the API numbers lines.
        let line = t["lines"]
            .as_array()
            .unwrap()
            .iter()
            .position(|l| {
                l["start"].as_u64().unwrap() as usize <= start
                    && start <= l["end"].as_u64().unwrap() as usize
            })
            .unwrap()
            + 1;
        assert_eq!(r["line"], line.to_string());
        let turn = t["turns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|turn| {
                turn["start"].as_u64().unwrap() as usize <= start
                    && start < turn["end"].as_u64().unwrap() as usize
            })
            .expect("a turn");
        assert_eq!(r["speaker"], turn["speaker"].as_str().unwrap_or_default());
        let label = t["participant_label"].as_str().unwrap();
        assert_eq!(r["participant"], label);
        for v in variables {
            let name = v["name"].as_str().unwrap();
            let value = participants[label]["values"][name]
                .as_str()
                .unwrap_or_default();
            assert_eq!(r[name], value, "{name} of {label}");
        }
        let id = code_names
            .iter()
            .find(|(_, name)| **name == r["agreed_code"])
            .map(|(id, _)| id.clone())
            .expect("an agreed code");
        assert_eq!(r["theme_path"], paths[&id], "{}", r["agreed_code"]);
        assert_eq!(r["coder_code"], "");
    }

    // The workbook holds the same rows, numbers as numbers.
    let xlsx = export(&demo.owner, &demo.path("/exports/segments.xlsx")).await;
    assert!(
        xlsx.disposition
            .ends_with(&format!("-coded-segments-{}.xlsx\"", today()))
    );
    assert_eq!(xlsx_sheets(&xlsx.bytes), ["Coded segments"]);
    assert_eq!(
        xlsx_rows(&xlsx.bytes, "Coded segments"),
        csv_lists(&file.bytes)
    );
    let numbers = xlsx_numbers(&xlsx.bytes, "Coded segments");
    let start = headers.iter().position(|h| h == "start").unwrap();
    assert!(matches!(numbers[1][start], Data::Float(_) | Data::Int(_)));

    // With every coder layer: each coder's codings too, under their names,
    // with their own code and the agreed code it is aligned to.
    let with = export(&demo.owner, &demo.path("/exports/segments.csv?coders=1")).await;
    let (_, all) = csv_rows(&with.bytes);
    let coder_rows: Vec<_> = all.iter().filter(|r| r["layer"] != "consensus").collect();
    let in_db: i64 = sqlx::query_scalar(
        "select count(*) from codings c join codes k on k.id = c.code_id where c.project_id = $1 and c.deleted_at is null and k.deleted_at is null",
    )
    .bind(demo.summary.project_id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(coder_rows.len() as i64, in_db);
    assert_eq!(all.len() - coder_rows.len(), rows.len());
    let mut layers: Vec<&str> = coder_rows.iter().map(|r| r["layer"].as_str()).collect();
    layers.sort_unstable();
    layers.dedup();
    assert_eq!(layers.len(), 2, "{layers:?}");
    assert!(coder_rows.iter().all(|r| !r["coder_code"].is_empty()));
    assert!(coder_rows.iter().any(|r| !r["agreed_code"].is_empty()));
    // A bad option is refused and records nothing.
    let before = app.audit_count(Some(demo.summary.project_id)).await;
    let bad = download(
        &demo.owner,
        &demo.path("/exports/segments.csv?coders=maybe"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.audit_count(Some(demo.summary.project_id)).await, before);
}

#[tokio::test]
async fn the_codebook_has_the_counts_of_the_consensus_codebook_and_n_of_n_participants() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let codes = codebook(&demo).await;
    let placed = codes[0]["id"].as_str().unwrap().to_owned();
    place(&app, &demo, &placed).await;
    let paths = theme_paths(&demo).await;
    let reconciled: i64 = sqlx::query_scalar(
        "select count(distinct t.participant_id) from transcripts t where t.project_id = $1 and t.participant_id is not null
           and (exists (select 1 from decisions d where d.transcript_id = t.id)
                or exists (select 1 from consensus_codings c where c.transcript_id = t.id and c.deleted_at is null))",
    )
    .bind(demo.summary.project_id.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(reconciled >= 1);

    for client in [&demo.owner, &demo.rita, &demo.ada] {
        let file = export(client, &demo.path("/exports/codebook.csv")).await;
        assert!(
            file.disposition
                .contains(&format!("-codebook-{}.csv", today()))
        );
        let (_, rows) = csv_rows(&file.bytes);
        assert_eq!(rows.len(), codes.len());
        assert!(!rows[0]["theme_path"].is_empty(), "placed codes come first");
        let row = rows.iter().find(|r| r["agreed_code_id"] == placed).unwrap();
        assert_eq!(row["theme_path"], "Burden of care > Money");
        for r in &rows {
            assert_eq!(r["theme_path"], paths[&r["agreed_code_id"]]);
        }
        for code in &codes {
            let id = code["id"].as_str().unwrap();
            let row = rows
                .iter()
                .find(|r| r["agreed_code_id"] == id)
                .expect("every agreed code");
            for field in ["name", "definition", "inclusion", "exclusion", "example"] {
                let column = if field == "name" {
                    "agreed_code"
                } else {
                    field
                };
                assert_eq!(row[column], code[field].as_str().unwrap(), "{field}");
            }
            for field in ["codings", "transcripts", "participants"] {
                assert_eq!(row[field], code[field].to_string(), "{field} of {id}");
            }
            assert_eq!(
                row["participants_of"],
                format!("{} of {reconciled}", code["participants"])
            );
            let aligned: Vec<String> = code["coder_codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{}: {}",
                        c["coder"].as_str().unwrap(),
                        c["name"].as_str().unwrap()
                    )
                })
                .collect();
            assert_eq!(row["coder_codes"], aligned.join("; "));
        }
        let xlsx = export(client, &demo.path("/exports/codebook.xlsx")).await;
        assert_eq!(xlsx_rows(&xlsx.bytes, "Codebook"), csv_lists(&file.bytes));
    }
}

#[tokio::test]
async fn the_ledger_lists_every_decision_with_its_sides_and_superseded_history() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let first = demo.summary.transcripts[0];
    let rec = get_json(
        &demo.lead,
        &demo.api(&format!("/transcripts/{first}/reconciliation")),
    )
    .await;
    // Change of mind on one decided discrepancy: the old decision stays as history.
    let decided = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| !i["current"].is_null() && i["discrepancy"]["kind"] == "only_a")
        .expect("a decided discrepancy");
    let key = decided["key"].as_str().unwrap();
    let old = decided["current"]["id"].as_str().unwrap().to_owned();
    let response = demo
        .lead
        .post_json(
            &demo.api(&format!("/transcripts/{first}/decisions")),
            &json!({ "key": key, "kind": "reject", "supersedes": old, "rationale": "Background only, on second reading" }),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );

    let file = export(&demo.owner, &demo.path("/exports/ledger.csv")).await;
    assert!(
        file.disposition
            .contains(&format!("-decision-ledger-{}.csv", today()))
    );
    let (_, rows) = csv_rows(&file.bytes);
    let decisions: Vec<(Uuid, String, String, bool)> =
        sqlx::query_as("select id, kind, rationale, auto from decisions where project_id = $1")
            .bind(demo.summary.project_id.0)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), decisions.len());
    for (id, kind, rationale, auto) in &decisions {
        let row = rows
            .iter()
            .find(|r| r["decision_id"] == id.to_string())
            .expect("every decision");
        assert_eq!(&row["decision"], kind);
        assert_eq!(&row["rationale"], rationale);
        assert_eq!(row["automatic"], if *auto { "yes" } else { "no" });
    }
    let chain: Vec<_> = rows
        .iter()
        .filter(|r| r["discrepancy_key"] == key)
        .collect();
    assert_eq!(chain.len(), 2, "{chain:?}");
    assert_eq!(chain[0]["decision_id"], old);
    assert_eq!(chain[0]["status"], "superseded");
    assert_eq!(chain[1]["status"], "in force");
    assert_eq!(chain[1]["supersedes"], old);
    assert_eq!(chain[1]["decision"], "reject");
    assert_eq!(chain[1]["discrepancy"], "only_a");
    let side = &decided["discrepancy"]["a"];
    assert_eq!(chain[1]["a_code"], side["code_name"].as_str().unwrap());
    assert_eq!(chain[1]["a_start"], side["start"].to_string());
    assert_eq!(chain[1]["a_end"], side["end"].to_string());
    assert_eq!(chain[1]["b_code"], "");
    assert_eq!(chain[1]["line"], decided["line"].to_string());
    let coders: Vec<String> = rec["coders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(chain[1]["coder_a"], coders[0]);
    assert_eq!(chain[1]["coder_b"], coders[1]);
    let lead_name: String =
        sqlx::query_scalar("select display_name from users where email = 'lead@demo.concord'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(chain[1]["decided_by"], lead_name);
    // Rows of one discrepancy stay together.
    let at: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r["discrepancy_key"] == key)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at[1], at[0] + 1);
}

/// A statistic of the agreement JSON as the sheet holds it.
fn stat_cell(stat: &Value) -> String {
    match stat["value"].as_f64() {
        Some(v) => format!("{v}"),
        None => format!(
            "undefined: {}",
            stat["undefined_reason"].as_str().unwrap().replace('_', " ")
        ),
    }
}

#[tokio::test]
async fn the_agreement_workbook_has_a_sheet_per_level_with_the_reports_figures() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let file = export(&demo.lead, &demo.path("/exports/agreement.xlsx")).await;
    assert!(
        file.disposition
            .contains(&format!("-agreement-{}.xlsx", today()))
    );
    assert_eq!(
        xlsx_sheets(&file.bytes),
        [
            "About",
            "Line",
            "Sentence",
            "Paragraph",
            "Speaker turn",
            "Character"
        ]
    );
    let about = xlsx_rows(&file.bytes, "About");
    let line = get_json(&demo.lead, &demo.api("/agreement?level=line")).await;
    let compared = line["included"].as_array().unwrap().len();
    assert!(
        about
            .iter()
            .any(|r| r[0] == "transcripts compared" && r[1] == compared.to_string())
    );
    for (level, sheet) in [
        ("line", "Line"),
        ("sentence", "Sentence"),
        ("paragraph", "Paragraph"),
        ("turn", "Speaker turn"),
        ("character", "Character"),
    ] {
        let json = get_json(&demo.lead, &demo.api(&format!("/agreement?level={level}"))).await;
        let rows = xlsx_rows(&file.bytes, sheet);
        let headings = &rows[0];
        let col = |name: &str| {
            headings
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{name} in {headings:?}"))
        };
        let table = &json["report"]["units"]["overall"];
        let per_code = table["per_code"].as_array().unwrap();
        assert_eq!(rows.len(), 2 + per_code.len(), "{sheet}");
        let same = |cell: &str, stat: &Value, what: &str| match stat["value"].as_f64() {
            Some(v) => {
                let got: f64 = cell.parse().unwrap_or_else(|_| panic!("{what}: {cell}"));
                assert!((got - v).abs() < 1e-12, "{sheet} {what}: {got} vs {v}");
            }
            None => assert_eq!(cell, stat_cell(stat), "{sheet} {what}"),
        };
        let check = |row: &Vec<String>, entry: &Value| {
            let counts = &entry["counts"];
            let co = &entry["coefficients"];
            assert_eq!(
                row[col("units_compared")],
                counts["pairable_units"].to_string()
            );
            assert_eq!(row[col("both")], counts["table"]["both"].to_string());
            assert_eq!(row[col("only_a")], counts["table"]["only_a"].to_string());
            same(
                &row[col("percent_agreement")],
                &co["percent_agreement"],
                "percent_agreement",
            );
            same(&row[col("cohen_kappa")], &co["cohen_kappa"], "cohen_kappa");
            same(
                &row[col("krippendorff_alpha")],
                &co["krippendorff_alpha_nominal"],
                "krippendorff_alpha",
            );
            same(&row[col("gwet_ac1")], &co["gwet_ac1"], "gwet_ac1");
            same(
                &row[col("brennan_prediger")],
                &co["brennan_prediger"],
                "brennan_prediger",
            );
        };
        assert_eq!(rows[1][0], "(pooled)");
        check(&rows[1], &table["pooled"]);
        let warning = table["warning"]["reason"].as_str().unwrap_or_default();
        assert_eq!(rows[1][col("unit_warning")], warning);
        for (i, entry) in per_code.iter().enumerate() {
            let name = json["codes"][entry["code"].as_u64().unwrap() as usize]["name"]
                .as_str()
                .unwrap();
            let row = &rows[2 + i];
            assert_eq!(row[0], name);
            check(row, entry);
            let u = json["report"]["unitized"]["overall"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["code"] == entry["code"])
                .unwrap();
            same(
                &row[col("binary_u_alpha")],
                &u["binary_u_alpha"],
                "binary_u_alpha",
            );
        }
    }
}

/// Ben codes a new transcript with the canary and submits; Ada and the lead
/// are assigned too and have not submitted, so both are blind to his layer.
async fn blind_transcript(app: &TestApp, demo: &Demo) -> String {
    let response = demo
        .owner
        .upload(
            &demo.api("/transcripts"),
            "files",
            &[(
                "late.txt",
                b"P09: A late interview about money.\nP09: And waiting.".to_vec(),
            )],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let transcript = body["files"][0]["transcript_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from users where email in ('ada@demo.concord', 'ben@demo.concord', 'lead@demo.concord') order by email",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let response = demo
        .owner
        .post_json(
            &demo.api("/assignments"),
            &json!({ "transcript_ids": [transcript], "user_ids": ids }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let code = Uuid::new_v4();
    let response = demo
        .ben
        .post_json(
            &demo.api("/codes"),
            &json!({ "id": code, "name": CANARY_CODE }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = demo
        .ben
        .post_json(
            &demo.api(&format!("/transcripts/{transcript}/codings")),
            &json!({ "id": Uuid::new_v4(), "code_id": code, "start": 5, "end": 20, "memo": CANARY_MEMO }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = demo
        .ben
        .post_json(
            &demo.api(&format!("/transcripts/{transcript}/submit")),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    transcript
}

#[tokio::test]
async fn each_role_gets_the_exports_it_may_read_and_no_one_blind_gets_any() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    // Before anyone is blind: (export, owner, lead, coder, reviewer).
    let ok = StatusCode::OK;
    let no = StatusCode::FORBIDDEN;
    let table: [(&str, [StatusCode; 4]); 10] = [
        ("segments.csv", [ok, ok, no, no]),
        ("segments.xlsx", [ok, ok, no, no]),
        ("codebook.csv", [ok, ok, ok, ok]),
        ("codebook.xlsx", [ok, ok, ok, ok]),
        ("codebook.docx", [ok, ok, ok, ok]),
        ("ledger.csv", [ok, ok, no, no]),
        ("ledger.docx", [ok, ok, no, no]),
        ("agreement.xlsx", [ok, ok, no, no]),
        ("agreement.docx", [ok, ok, no, no]),
        ("audit.csv", [ok, no, no, no]),
    ];
    for (name, statuses) in table {
        for (who, client, status) in [
            ("owner", &demo.owner, statuses[0]),
            ("lead", &demo.lead, statuses[1]),
            ("coder", &demo.ada, statuses[2]),
            ("reviewer", &demo.rita, statuses[3]),
        ] {
            let before = app.audit_count(Some(demo.summary.project_id)).await;
            let file = download(client, &demo.path(&format!("/exports/{name}"))).await;
            assert_eq!(file.status, status, "{who}: {name}");
            let after = app.audit_count(Some(demo.summary.project_id)).await;
            assert_eq!(
                after - before,
                i64::from(status == ok),
                "{who}: {name} audited"
            );
        }
    }

    let transcript = blind_transcript(&app, &demo).await;
    // Ada and the lead are still coding: no export at all, and never the canary.
    for (who, client) in [
        ("coder still coding", &demo.ada),
        ("lead still coding", &demo.lead),
    ] {
        for name in EXPORTS {
            for query in ["", "?coders=1"] {
                let file = download(client, &demo.path(&format!("/exports/{name}{query}"))).await;
                assert!(
                    matches!(file.status, StatusCode::FORBIDDEN | StatusCode::CONFLICT),
                    "{who}: {name}: {}",
                    file.status
                );
                let body = String::from_utf8_lossy(&file.bytes);
                assert!(
                    !body.contains(CANARY_CODE) && !body.contains(CANARY_MEMO),
                    "{who}: {name}"
                );
            }
        }
        let page = html(client.get(&demo.path("/exports")).await).await;
        assert_eq!(
            select_texts(
                &page,
                "#exports tr:not([data-export^='own-codebook']) a.download, #exports button.download"
            )
            .len(),
            0,
            "{who} is offered no download but their own codebook"
        );
        assert!(
            select_texts(&page, "#exports .unavailable")
                .iter()
                .any(|r| r.contains("submitted every transcript")),
            "{who} is told why"
        );
    }
    // The printable codebook is refused them too.
    for client in [&demo.ada, &demo.lead] {
        let response = client.get(&demo.path("/exports/codebook.html")).await;
        assert!(matches!(
            response.status(),
            StatusCode::FORBIDDEN | StatusCode::CONFLICT
        ));
        assert!(!response.text().await.unwrap().contains(CANARY_CODE));
    }
    // Ben has submitted everything: he reads the codebook, which holds no coder layer.
    let file = export(&demo.ben, &demo.path("/exports/codebook.csv")).await;
    assert!(!String::from_utf8_lossy(&file.bytes).contains(CANARY_MEMO));
    let file = export(&demo.ben, &demo.path("/exports/codebook.docx")).await;
    let text = docx_text(&file.bytes);
    assert!(!text.contains(CANARY_MEMO) && !text.contains(CANARY_CODE));
    // The owner is blind to nothing, yet no Word document holds a coder's memo.
    for name in ["ledger.docx", "agreement.docx", "codebook.docx"] {
        let file = export(&demo.owner, &demo.path(&format!("/exports/{name}"))).await;
        assert!(!docx_text(&file.bytes).contains(CANARY_MEMO), "{name}");
    }
    // The owner is blind to nothing: his layer is there with every coder layer.
    let file = export(&demo.owner, &demo.path("/exports/segments.csv?coders=1")).await;
    let (_, rows) = csv_rows(&file.bytes);
    let canary: Vec<_> = rows.iter().filter(|r| r["memo"] == CANARY_MEMO).collect();
    assert_eq!(canary.len(), 1, "the check can fail");
    assert_eq!(canary[0]["transcript_id"], transcript);
    assert_eq!(canary[0]["coder_code"], CANARY_CODE);
    // Without the option, only the consensus layer.
    let file = export(&demo.owner, &demo.path("/exports/segments.csv")).await;
    assert!(!String::from_utf8_lossy(&file.bytes).contains(CANARY_MEMO));
}

#[tokio::test]
async fn the_exports_page_lists_what_each_member_may_make_and_owners_see_who_made_what() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let home = html(demo.rita.get(&demo.summary.path).await).await;
    let selector = scraper::Selector::parse(".tabs a").unwrap();
    assert!(
        home.select(&selector)
            .any(|a| a.value().attr("href") == Some(demo.path("/exports").as_str())),
        "the project page links to the Exports page"
    );
    let page = html(demo.owner.get(&demo.path("/exports")).await).await;
    assert_eq!(
        select_texts(&page, "#exports tr.export").len(),
        EXPORTS.len() + 3,
        "and the three files of one's own codebook"
    );
    assert_eq!(
        select_texts(
            &page,
            "#exports tr:not([data-export^='own-codebook']) .unavailable"
        )
        .len(),
        0
    );
    assert_eq!(
        select_texts(&page, "#recent-exports td"),
        ["No export has been made yet."]
    );
    export(&demo.lead, &demo.path("/exports/ledger.csv")).await;
    export(&demo.owner, &demo.path("/exports/codebook.xlsx")).await;
    let page = html(demo.owner.get(&demo.path("/exports")).await).await;
    assert_eq!(
        select_texts(&page, "#recent-exports td.what"),
        ["Codebook", "Decision ledger"]
    );
    let names: Vec<String> = sqlx::query_scalar(
        "select display_name from users where email in ('owner@demo.concord', 'lead@demo.concord') order by email desc",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(select_texts(&page, "#recent-exports td.who"), names);
    let files = select_texts(&page, "#recent-exports td.file");
    assert!(
        files[0].ends_with(&format!("-codebook-{}.xlsx", today())),
        "{files:?}"
    );

    // Reviewers see only the codebook offered, and no list of who exported.
    let page = html(demo.rita.get(&demo.path("/exports")).await).await;
    assert_eq!(select_texts(&page, "#recent-exports").len(), 0);
    let json = get_json(&demo.rita, &demo.api("/exports")).await;
    assert!(json["recent"].is_null());
    let available: Vec<&str> = json["exports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["available"] == true)
        .map(|e| e["export"].as_str().unwrap())
        .collect();
    assert_eq!(
        available,
        ["codebook-csv", "codebook-xlsx", "codebook-docx"]
    );
    assert!(json["ledger_summary"].is_null(), "reviewers see no ledger");

    // The audit log says so, in words.
    let log = get_json(&demo.owner, &demo.api("/audit?kind=export")).await;
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["action_label"], "Made an export");
    assert_eq!(events[0]["after"]["export"], "codebook-xlsx");
}

#[tokio::test]
async fn concord_export_writes_the_same_file_as_the_page_as_the_projects_owner() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let dir = std::env::temp_dir().join(format!("concord-export-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |format: &str, out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .env("DATABASE_URL", &app.database_url)
            .args(["--log", "warn", "export", "--project"])
            .arg(demo.summary.project_id.to_string())
            .args(["--format", format, "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    let mut by_format = BTreeMap::new();
    for (format, path) in [
        ("segments-csv", "segments.csv"),
        ("codebook-xlsx", "codebook.xlsx"),
        ("codebook-docx", "codebook.docx"),
        ("ledger-csv", "ledger.csv"),
        ("ledger-docx", "ledger.docx"),
        ("agreement-docx", "agreement.docx"),
        ("audit-csv", "audit.csv"),
    ] {
        let out = dir.join(path);
        let output = run(format, &out);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{format}: {stderr}");
        assert!(stderr.contains("rows"), "{stderr}");
        by_format.insert(format, (std::fs::read(&out).unwrap(), path));
    }
    let (segments, _) = &by_format["segments-csv"];
    let page = export(&demo.owner, &demo.path("/exports/segments.csv")).await;
    assert_eq!(segments, &page.bytes);
    let (codebook, _) = &by_format["codebook-xlsx"];
    let page = export(&demo.owner, &demo.path("/exports/codebook.csv")).await;
    assert_eq!(xlsx_rows(codebook, "Codebook"), csv_lists(&page.bytes));
    for (format, page) in [
        ("codebook-docx", "codebook.docx"),
        ("ledger-docx", "ledger.docx"),
        ("agreement-docx", "agreement.docx"),
    ] {
        let (file, _) = &by_format[format];
        let from_page = export(&demo.owner, &demo.path(&format!("/exports/{page}"))).await;
        assert_eq!(docx_blocks(file), docx_blocks(&from_page.bytes), "{format}");
    }
    let (audit, _) = &by_format["audit-csv"];
    let (_, rows) = csv_rows(audit);
    assert!(
        rows.iter()
            .any(|r| r["action"] == "export.made" && r["who"] == "Olivia Owner")
    );

    let output = run("segments", &dir.join("bad.csv"));
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("segments-xlsx"),
        "the error lists the formats"
    );
    assert!(!dir.join("bad.csv").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Export events recorded for the project so far: (export, with coder layers).
async fn exports_made(app: &TestApp, demo: &Demo) -> Vec<(String, bool)> {
    sqlx::query_as(
        "select after->>'export', (after->>'coder_layers')::boolean from audit_events where project_id = $1 and action = 'export.made' order by id",
    )
    .bind(demo.summary.project_id.0)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// Waits (a few seconds at most) until `n` exports are recorded.
async fn wait_for_exports(app: &TestApp, demo: &Demo, n: usize) -> Vec<(String, bool)> {
    for _ in 0..100 {
        let made = exports_made(app, demo).await;
        if made.len() >= n {
            return made;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{n} exports were not recorded: {:?}",
        exports_made(app, demo).await
    )
}

/// The file once the browser has finished saving it (a few seconds at most).
const FETCH: &str = r#"
const [url, done] = arguments;
fetch(url).then(r => r.text().then(t => done([r.status, r.headers.get('content-disposition'), t])));
"#;

#[tokio::test]
async fn the_exports_page_downloads_in_the_browser() {
    use crate::harness::browser::Browser;
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let browser = Browser::open(&app).await;
    browser.sign_in("owner@demo.concord", demo::PASSWORD).await;
    browser.visit(&demo.summary.path).await;
    browser
        .element(".tabs a[href$=\"/exports\"]")
        .await
        .click()
        .await
        .unwrap();
    browser.element("#exports").await;
    assert_eq!(browser.path().await, demo.path("/exports"));

    // The codebook link downloads the file and the page stays as it is.
    let link = "tr[data-export=\"codebook-csv\"] a.download";
    browser.element(link).await.click().await.unwrap();
    assert_eq!(
        wait_for_exports(&app, &demo, 1).await,
        [("codebook-csv".to_owned(), false)]
    );
    assert_eq!(browser.path().await, demo.path("/exports"));
    assert!(
        browser
            .element("#exports")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    let name = format!(
        "{}-codebook-{}.csv",
        concord::exports::model::slug(&demo.summary.project_name),
        today()
    );
    let saved = wait_for_file(&browser.downloads().join(&name)).await;
    let (headers, rows) = csv_rows(&saved);
    assert_eq!(headers[0], "agreed_code");
    assert_eq!(rows.len(), codebook(&demo).await.len());
    // The page shows the download's progress, then that it is finished.
    browser
        .element("#export-status[data-state=\"finished\"] progress")
        .await;
    let said = browser.texts("#export-message").await;
    assert!(
        said[0].starts_with(&format!("Finished: {name} (")),
        "{said:?}"
    );

    // The coded segments with every coder layer: tick, then download.
    let form = "tr[data-export=\"segments-csv\"] form";
    browser
        .element(&format!("{form} input[name=coders]"))
        .await
        .click()
        .await
        .unwrap();
    browser
        .element(&format!("{form} button.download"))
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_for_exports(&app, &demo, 2).await[1],
        ("segments-csv".to_owned(), true)
    );
    let name = name.replace("-codebook-", "-coded-segments-");
    let saved = wait_for_file(&browser.downloads().join(&name)).await;
    let (_, rows) = csv_rows(&saved);
    assert!(rows.iter().any(|r| r["layer"] == "consensus"));
    assert!(
        rows.iter().any(|r| r["layer"] != "consensus"),
        "with the coder layers"
    );

    // The Word codebook: progress, then the file, whose title is the project.
    browser
        .element("tr[data-export=\"codebook-docx\"] a.download")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        wait_for_exports(&app, &demo, 3).await[2],
        ("codebook-docx".to_owned(), false)
    );
    let docx = name
        .replace("-coded-segments-", "-codebook-")
        .replace(".csv", ".docx");
    let saved = wait_for_file(&browser.downloads().join(&docx)).await;
    let blocks = docx_blocks(&saved);
    assert_eq!(blocks[0].text(), demo.summary.project_name);
    browser
        .wait_until(
            "the DOCX finished",
            &format!("//*[@id='export-status'][@data-state='finished']//*[@id='export-message'][contains(., '{docx}')]"),
        )
        .await;

    // What the link gives the browser is the codebook, named for the project and day.
    let href = browser.attrs(link, "href").await.remove(0);
    let got = browser
        .execute_async(FETCH, vec![json!(href)])
        .await
        .unwrap();
    assert_eq!(got[0], 200);
    assert!(
        got[1]
            .as_str()
            .unwrap()
            .ends_with(&format!("-codebook-{}.csv\"", today())),
        "{got}"
    );
    let (headers, rows) = csv_rows(got[2].as_str().unwrap().as_bytes());
    assert_eq!(headers[0], "agreed_code");
    assert_eq!(rows.len(), codebook(&demo).await.len());

    // The page lists what was made, newest first.
    browser.visit(&demo.path("/exports")).await;
    assert_eq!(
        browser.texts("#recent-exports td.what").await,
        ["Codebook", "Codebook", "Coded segments", "Codebook"]
    );
}

/// The body of a Word document, read back from its `word/document.xml`.
fn docx_blocks(bytes: &[u8]) -> Vec<ReadBlock> {
    concord::docx::read::blocks(bytes).expect("a DOCX")
}

/// Every text of the document, one block a line.
fn docx_text(bytes: &[u8]) -> String {
    docx_blocks(bytes)
        .iter()
        .map(ReadBlock::text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One code's section of the Word codebook: the headings above it, and its
/// paragraphs by their bold label.
#[derive(Debug, Default)]
struct DocxCode {
    path: Vec<String>,
    fields: HashMap<String, String>,
    example: Option<String>,
}

/// The codes of the Word codebook by name: a heading followed by a
/// `Counts:` paragraph is a code; the headings of lower levels above it are
/// its path.
fn docx_codes(blocks: &[ReadBlock]) -> HashMap<String, DocxCode> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut out: HashMap<String, DocxCode> = HashMap::new();
    let mut current: Option<(String, DocxCode)> = None;
    let flush = |current: &mut Option<(String, DocxCode)>, out: &mut HashMap<String, DocxCode>| {
        if let Some((name, code)) = current.take()
            && code.fields.contains_key("Counts")
        {
            out.insert(name, code);
        }
    };
    for b in blocks {
        let style = b.style();
        if let Some(level) = style.strip_prefix("Heading") {
            flush(&mut current, &mut out);
            let level: usize = level.parse().unwrap();
            stack.retain(|(l, _)| *l < level);
            let path = stack.iter().map(|(_, n)| n.clone()).collect();
            current = Some((
                b.text(),
                DocxCode {
                    path,
                    ..DocxCode::default()
                },
            ));
            stack.push((level, b.text()));
        } else if let Some((_, code)) = current.as_mut() {
            let text = b.text();
            if style == "Quote" {
                code.example = Some(text);
            } else if let Some((label, value)) = text.split_once(": ") {
                code.fields.insert(label.to_owned(), value.to_owned());
            }
        }
    }
    flush(&mut current, &mut out);
    out
}

#[tokio::test]
async fn the_word_codebook_and_the_printable_page_have_the_csvs_codes_paths_and_counts() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let codes = codebook(&demo).await;
    let paths = theme_paths(&demo).await;
    let csv = export(&demo.rita, &demo.path("/exports/codebook.csv")).await;
    let (_, rows) = csv_rows(&csv.bytes);
    let file = export(&demo.rita, &demo.path("/exports/codebook.docx")).await;
    assert!(
        file.disposition
            .contains(&format!("-codebook-{}.docx\"", today()))
    );
    assert_eq!(
        file.content_type,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let blocks = docx_blocks(&file.bytes);
    assert_eq!(blocks[0].style(), "Title");
    assert_eq!(blocks[0].text(), demo.summary.project_name);
    assert!(
        blocks
            .iter()
            .any(|b| b.text() == format!("Made {}", today()))
    );
    assert!(blocks.contains(&ReadBlock::PageBreak), "a title page");
    assert!(
        concord::docx::read::title(&file.bytes)
            .unwrap()
            .starts_with(&demo.summary.project_name)
    );
    let found = docx_codes(&blocks);
    assert_eq!(found.len(), codes.len(), "{:?}", found.keys());
    let page = html(demo.rita.get(&demo.path("/exports/codebook.html")).await).await;
    let sections = scraper::Selector::parse("#codebook section.code").unwrap();
    let on_page: HashMap<String, scraper::ElementRef> = page
        .select(&sections)
        .map(|s| (s.value().attr("data-name").unwrap().to_owned(), s))
        .collect();
    assert_eq!(on_page.len(), codes.len());
    let text_of = |section: &scraper::ElementRef, class: &str| -> String {
        let sel = scraper::Selector::parse(class).unwrap();
        section
            .select(&sel)
            .next()
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .unwrap_or_default()
    };
    let mut placed = 0;
    for code in &codes {
        let id = code["id"].as_str().unwrap();
        let name = code["name"].as_str().unwrap();
        let row = rows.iter().find(|r| r["agreed_code_id"] == id).unwrap();
        let got = &found[name];
        let path = &paths[id];
        if path.is_empty() {
            assert_eq!(got.path, ["Codes not placed in a theme"], "{name}");
        } else {
            placed += 1;
            assert_eq!(&got.path.join(" > "), path, "{name}");
        }
        let counts = format!(
            "{} codings · {} transcripts · {} participants",
            row["codings"], row["transcripts"], row["participants_of"]
        );
        assert_eq!(got.fields["Counts"], counts, "{name}");
        assert_eq!(row["codings"], code["codings"].to_string());
        for (label, column) in [
            ("Definition", "definition"),
            ("Include when", "inclusion"),
            ("Exclude when", "exclusion"),
            ("Coder codes aligned", "coder_codes"),
        ] {
            let want = row[column].trim();
            assert_eq!(
                got.fields.get(label).map(|s| s.trim()).unwrap_or_default(),
                want,
                "{name}: {label}"
            );
        }
        if !code["example_coding_id"].is_null() {
            let quote = code["quotes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["coding_id"] == code["example_coding_id"])
                .unwrap();
            let example = got.example.as_deref().expect("the chosen example");
            assert!(
                example.contains(quote["text"].as_str().unwrap().trim()),
                "{example}"
            );
            let by = quote["participant"]
                .as_str()
                .unwrap_or_else(|| quote["transcript"].as_str().unwrap());
            assert!(example.ends_with(&format!("— {by}")), "{example}");
        }
        let section = &on_page[name];
        assert_eq!(text_of(section, ".counts"), counts, "page: {name}");
        assert_eq!(text_of(section, ".path"), *path, "page: {name}");
        assert_eq!(text_of(section, ".definition"), row["definition"].trim());
    }
    assert!(placed > 0, "the demo places its codes under themes");
    // Themes are headings in the order of the hierarchy: every top theme is a Heading1.
    let tops: Vec<String> = blocks
        .iter()
        .filter(|b| b.style() == "Heading1")
        .map(ReadBlock::text)
        .collect();
    for path in paths.values().filter(|p| !p.is_empty()) {
        let top = path.split(" > ").next().unwrap();
        assert!(tops.iter().any(|t| t == top), "{top} in {tops:?}");
    }
}

#[tokio::test]
async fn the_word_ledger_and_the_exports_page_summarise_the_csvs_decisions() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let csv = export(&demo.lead, &demo.path("/exports/ledger.csv")).await;
    let (_, rows) = csv_rows(&csv.bytes);
    // What the summary must say, counted from the CSV.
    let mut by_kind: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut per_transcript: BTreeMap<String, (std::collections::BTreeSet<String>, usize)> =
        BTreeMap::new();
    for r in &rows {
        let k = by_kind.entry(r["decision"].clone()).or_default();
        if r["status"] == "in force" {
            k[0] += 1;
            if !r["rationale"].trim().is_empty() {
                k[2] += 1;
            }
        } else {
            k[1] += 1;
        }
        let t = per_transcript.entry(r["transcript"].clone()).or_default();
        t.0.insert(r["discrepancy_key"].clone());
        t.1 += 1;
    }
    assert!(
        by_kind.values().any(|k| k[1] > 0),
        "the demo revises decisions"
    );
    let json = get_json(&demo.lead, &demo.api("/exports")).await;
    let summary = &json["ledger_summary"];
    assert_eq!(summary["decisions"], rows.len());
    let kinds = summary["by_kind"].as_array().unwrap();
    assert_eq!(kinds.len(), by_kind.len());
    for k in kinds {
        let want = by_kind[k["kind"].as_str().unwrap()];
        assert_eq!(
            [&k["in_force"], &k["superseded"], &k["with_rationale"]],
            want.map(Value::from).each_ref(),
            "{k}"
        );
    }
    let in_force: usize = by_kind.values().map(|k| k[0]).sum();
    let with: usize = by_kind.values().map(|k| k[2]).sum();
    assert_eq!(summary["in_force"], in_force);
    assert_eq!(summary["with_rationale"], with);
    let share = (with as f64 * 1000.0 / in_force as f64).round() / 10.0;
    assert_eq!(summary["rationale_share"].as_f64().unwrap(), share);

    // The page shows the same table.
    let page = html(demo.lead.get(&demo.path("/exports")).await).await;
    let page_kinds = select_texts(&page, "#ledger-by-kind td.kind");
    let page_in_force = select_texts(&page, "#ledger-by-kind td.in-force");
    for (kind, n) in page_kinds.iter().zip(&page_in_force) {
        assert_eq!(n, &by_kind[kind][0].to_string(), "{kind}");
    }
    assert_eq!(page_kinds.len(), by_kind.len());
    assert_eq!(
        select_texts(&page, "#ledger-per-transcript td.transcript").len(),
        per_transcript.len()
    );
    assert!(
        select_texts(&page, "#ledger-summary-text .rationale-share")[0]
            .starts_with(&format!("{with} of {in_force} ({share:.1} %)"))
    );

    // The Word ledger: the same summary tables, then a table per transcript.
    let file = export(&demo.lead, &demo.path("/exports/ledger.docx")).await;
    assert!(
        file.disposition
            .contains(&format!("-decision-ledger-{}.docx\"", today()))
    );
    let blocks = docx_blocks(&file.bytes);
    let tables: Vec<&[Vec<String>]> = blocks
        .iter()
        .filter(|&b| matches!(b, ReadBlock::Table(_)))
        .map(ReadBlock::rows)
        .collect();
    let kinds_table = tables[0];
    assert_eq!(
        kinds_table[0],
        ["Decision", "In force", "Superseded", "With a rationale"]
    );
    for row in &kinds_table[1..kinds_table.len() - 1] {
        let want = by_kind[&row[0]];
        assert_eq!(row[1..], want.map(|n| n.to_string()), "{row:?}");
    }
    let all = kinds_table.last().unwrap();
    assert_eq!(all[0], "All");
    assert_eq!(all[1], in_force.to_string());
    let per = tables[1];
    assert_eq!(per.len() - 1, per_transcript.len());
    for row in &per[1..] {
        let (keys, decisions) = &per_transcript[&row[0]];
        assert_eq!(row[1], keys.len().to_string(), "{row:?}");
        assert_eq!(row[2], decisions.to_string(), "{row:?}");
    }
    // One table per transcript, one row per discrepancy; the revised ones carry their history.
    let mut history_rows = 0;
    for (i, b) in blocks.iter().enumerate() {
        if b.style() != "Heading2" {
            continue;
        }
        let title = b.text();
        let (keys, _) = &per_transcript[&title];
        let table = blocks[i + 1].rows();
        assert_eq!(table.len() - 1, keys.len(), "{title}");
        history_rows += table[1..].iter().filter(|r| !r[6].is_empty()).count();
    }
    let superseded: usize = by_kind.values().map(|k| k[1]).sum();
    assert!(history_rows > 0 && history_rows <= superseded);
}

#[tokio::test]
async fn the_agreement_intervals_hold_their_estimates_and_the_word_table_has_the_reports_figures() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let file = export(&demo.lead, &demo.path("/exports/agreement.xlsx")).await;
    let again = export(&demo.lead, &demo.path("/exports/agreement.xlsx")).await;
    let rows = xlsx_rows(&file.bytes, "Line");
    assert_eq!(
        rows,
        xlsx_rows(&again.bytes, "Line"),
        "seeded: the same intervals"
    );
    let numbers = xlsx_numbers(&file.bytes, "Line");
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let num = |d: &Data| match d {
        Data::Float(f) => *f,
        Data::Int(n) => *n as f64,
        other => panic!("not a number: {other:?}"),
    };
    let json = get_json(&demo.lead, &demo.api("/agreement?level=line")).await;
    let pooled = &json["report"]["units"]["overall"]["pooled"]["coefficients"];
    let mut cis = HashMap::new();
    for (stat, key) in [
        ("percent_agreement", "percent_agreement"),
        ("cohen_kappa", "cohen_kappa"),
        ("krippendorff_alpha", "krippendorff_alpha_nominal"),
        ("gwet_ac1", "gwet_ac1"),
    ] {
        let value = pooled[key]["value"].as_f64().expect("defined on the demo");
        let low = num(&numbers[1][col(&format!("{stat}_ci_low"))]);
        let high = num(&numbers[1][col(&format!("{stat}_ci_high"))]);
        assert!(
            low <= value && value <= high,
            "{stat}: {low} {value} {high}"
        );
        assert!(high - low < 0.5, "{stat}: {low} {high}");
        cis.insert(stat, (value, low, high));
    }
    codes_have_their_own_intervals(&rows, &numbers);
    let about = xlsx_rows(&file.bytes, "About");
    assert!(
        about
            .iter()
            .any(|r| r[0] == "confidence intervals" && r[1].contains("1000 resamples"))
    );

    let doc = export(&demo.lead, &demo.path("/exports/agreement.docx")).await;
    assert!(
        doc.disposition
            .contains(&format!("-agreement-methods-{}.docx\"", today()))
    );
    let blocks = docx_blocks(&doc.bytes);
    let table = blocks
        .iter()
        .find(|b| b.rows().first().is_some_and(|h| h[0] == "Statistic"))
        .unwrap()
        .rows();
    let row = |name: &str| table.iter().find(|r| r[0] == name).unwrap().clone();
    let overall = &json["report"]["units"]["overall"];
    assert_eq!(row("Unit")[1], "Line");
    assert_eq!(
        row("Transcripts")[1],
        json["included"].as_array().unwrap().len().to_string()
    );
    assert_eq!(
        row("Units compared")[1],
        overall["pairable_units"].to_string()
    );
    let coders: Vec<&str> = json["coders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(row("Coders")[1], coders.join(" and "));
    for (name, stat) in [
        ("Percent agreement", "percent_agreement"),
        ("Cohen's κ", "cohen_kappa"),
        ("Krippendorff's α", "krippendorff_alpha"),
        ("Gwet's AC1", "gwet_ac1"),
    ] {
        let (value, low, high) = cis[stat];
        assert_eq!(row(name)[1], format!("{value:.3}"), "{name}");
        assert_eq!(row(name)[2], format!("{low:.3} to {high:.3}"), "{name}");
    }
    let text = docx_text(&doc.bytes);
    assert!(text.contains("0.667") && text.contains("0.800"));
    assert!(text.contains("percentile bootstrap"));
    let (alpha, ..) = cis["krippendorff_alpha"];
    assert!(text.contains(&format!("Krippendorff's α {alpha:.3}")));
}

/// The four statistics of a 2×2 table (both, only A, only B, neither),
/// written out here from their textbook formulas (they give Krippendorff's
/// 2004 binary example: 0.6, 0.091, 0.095, 0.310): percent agreement,
/// Cohen's κ, Krippendorff's α (nominal, two coders) and Gwet's AC1; None
/// where a denominator is 0.
fn two_by_two_stats([a, b, c, d]: [f64; 4]) -> [Option<f64>; 4] {
    let n = a + b + c + d;
    let po = (a + d) / n;
    let (pa, pb) = ((a + b) / n, (a + c) / n);
    let pe = pa * pb + (1.0 - pa) * (1.0 - pb);
    let kappa = (pe < 1.0).then(|| (po - pe) / (1.0 - pe));
    let (n1, n0) = (2.0 * a + b + c, 2.0 * d + b + c);
    let alpha = (n1 * n0 > 0.0).then(|| 1.0 - (2.0 * n - 1.0) * (b + c) / (n1 * n0));
    let q = n1 / (2.0 * n);
    let pe1 = 2.0 * q * (1.0 - q);
    let ac1 = (pe1 < 1.0).then(|| (po - pe1) / (1.0 - pe1));
    [Some(po), kappa, alpha, ac1]
}

#[test]
fn the_tests_own_formulas_give_krippendorffs_published_example() {
    let got = two_by_two_stats([1.0, 1.0, 3.0, 5.0]).map(Option::unwrap);
    for (g, want) in got.iter().zip([0.6, 0.091, 0.095, 0.31]) {
        assert!((g - want).abs() < 0.0005, "{got:?}");
    }
}

/// Each code's row has intervals of its own: checked against a bootstrap
/// done here another way (each unit drawn one by one, with a generator of
/// the test's own, 2,000 resamples), which agrees with the export's within
/// Monte Carlo error (up to three codes, those with enough units coded by
/// both); and its |uα interval holds its |uα or says why it has none.
fn codes_have_their_own_intervals(rows: &[Vec<String>], numbers: &[Vec<Data>]) {
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let f = |d: &Data| match d {
        Data::Float(f) => Some(*f),
        Data::Int(n) => Some(*n as f64),
        _ => None,
    };
    let stats = [
        "percent_agreement",
        "cohen_kappa",
        "krippendorff_alpha",
        "gwet_ac1",
    ];
    let mut checked = 0;
    let mut u_checked = 0;
    // The codes most used by both coders first: their statistics are defined.
    let mut order: Vec<usize> = (2..rows.len()).collect();
    order.sort_by_key(|&r| std::cmp::Reverse(rows[r][col("both")].parse::<u64>().unwrap_or(0)));
    for &r in &order {
        let row = &numbers[r];
        let u = f(&row[col("binary_u_alpha")]);
        match u {
            // A rare code's interval may be undefined: then it says why.
            Some(_) if f(&row[col("binary_u_alpha_ci_low")]).is_none() => {
                assert!(
                    rows[r][col("binary_u_alpha_ci_low")].starts_with("undefined: "),
                    "{}",
                    rows[r][0]
                );
            }
            Some(u) => {
                let low = f(&row[col("binary_u_alpha_ci_low")]).expect("an interval");
                let high = f(&row[col("binary_u_alpha_ci_high")]).expect("an interval");
                assert!(low <= high, "{}: |uα {low} {high}", rows[r][0]);
                // A code much used by both: its interval holds its estimate.
                if r == order[0] {
                    assert!(
                        low <= u + 1e-9 && u <= high + 1e-9,
                        "{}: |uα {low} {u} {high}",
                        rows[r][0]
                    );
                }
                u_checked += 1;
            }
            None if rows[r][col("binary_u_alpha")].starts_with("undefined") => {
                assert!(rows[r][col("binary_u_alpha_ci_low")].starts_with("undefined: "))
            }
            None => {}
        }
        if checked == 3 {
            continue;
        }
        let table: [u64; 4] =
            ["both", "only_a", "only_b", "neither"].map(|c| rows[r][col(c)].parse().unwrap());
        if table[0] < 10 || table[1] + table[2] < 5 {
            continue;
        }
        let n = table.iter().sum::<u64>();
        let mut seed = 0x5eed_u64;
        let mut samples: [Vec<f64>; 4] = Default::default();
        for _ in 0..2000 {
            let mut drawn = [0.0f64; 4];
            for _ in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = (seed >> 11) % n;
                let kind = if pick < table[0] {
                    0
                } else if pick < table[0] + table[1] {
                    1
                } else if pick < table[0] + table[1] + table[2] {
                    2
                } else {
                    3
                };
                drawn[kind] += 1.0;
            }
            for (s, v) in samples.iter_mut().zip(two_by_two_stats(drawn)) {
                s.extend(v);
            }
        }
        for (stat, mut values) in stats.into_iter().zip(samples) {
            values.sort_by(f64::total_cmp);
            let q = |p: f64| {
                let h = (values.len() - 1) as f64 * p;
                let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
                values[lo] + (h - lo as f64) * (values[hi] - values[lo])
            };
            let (want_low, want_high) = (q(0.025), q(0.975));
            let low = f(&row[col(&format!("{stat}_ci_low"))]).expect("an interval");
            let high = f(&row[col(&format!("{stat}_ci_high"))]).expect("an interval");
            let tolerance = 0.15 * (want_high - want_low) + 1e-9;
            assert!(
                (low - want_low).abs() <= tolerance && (high - want_high).abs() <= tolerance,
                "{} {stat}: export {low}..{high}, here {want_low}..{want_high}",
                rows[r][0]
            );
            // Not the pooled row's interval copied down.
            let pooled = (
                f(&numbers[1][col(&format!("{stat}_ci_low"))]),
                f(&numbers[1][col(&format!("{stat}_ci_high"))]),
            );
            assert_ne!(pooled, (Some(low), Some(high)), "{stat}");
        }
        checked += 1;
    }
    assert!(checked >= 1, "a code checked: the check can fail");
    assert!(u_checked > 0, "some code has a |uα");
}

/// A coder's own codes as `GET /codes` gives them, with the counts of their
/// own layers (`GET …/codings` of each transcript): code id → (codings,
/// transcripts).
async fn own_codes(demo: &Demo, client: &TestClient) -> (Vec<Value>, HashMap<String, (i64, i64)>) {
    let codes = get_json(client, &demo.api("/codes")).await;
    let codes = codes.as_array().unwrap().clone();
    let mut counts: HashMap<String, (i64, std::collections::HashSet<String>)> = HashMap::new();
    for transcript in &demo.summary.transcripts {
        let layer = get_json(
            client,
            &demo.api(&format!("/transcripts/{transcript}/codings")),
        )
        .await;
        for coding in layer.as_array().unwrap() {
            let entry = counts
                .entry(coding["code_id"].as_str().unwrap().to_owned())
                .or_default();
            entry.0 += 1;
            entry.1.insert(transcript.to_string());
        }
    }
    let counts = counts
        .into_iter()
        .map(|(code, (n, transcripts))| (code, (n, transcripts.len() as i64)))
        .collect();
    (codes, counts)
}

/// Nests Ada's second code under her first, and her third under the
/// second, through the API, so the own codebook has a parent and a path.
async fn nest_codes(demo: &Demo, client: &TestClient) -> [Value; 3] {
    let codes = get_json(client, &demo.api("/codes")).await;
    let codes = codes.as_array().unwrap();
    assert!(codes.len() >= 3, "the demo coder has codes");
    let (top, middle, low) = (&codes[0], &codes[1], &codes[2]);
    for (child, parent) in [(middle, top), (low, middle)] {
        let response = client
            .patch_json(
                &demo.api(&format!("/codes/{}", child["id"].as_str().unwrap())),
                &json!({ "parent_id": parent["id"], "inclusion": "When it is said twice", "version": child["version"] }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    [top.clone(), middle.clone(), low.clone()]
}

#[tokio::test]
async fn a_coders_own_codebook_holds_their_codes_as_the_api_gives_them_in_csv_xlsx_and_docx() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let [top, middle, low] = nest_codes(&demo, &demo.ada).await;
    let (codes, counts) = own_codes(&demo, &demo.ada).await;
    let by_id: HashMap<&str, &Value> = codes
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c))
        .collect();
    let name_of = |id: &Value| {
        id.as_str()
            .map(|id| by_id[id]["name"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert!(counts.values().any(|(n, _)| *n > 0), "the check can fail");

    let before = app.audit_count(Some(demo.summary.project_id)).await;
    let csv = export(&demo.ada, &demo.path("/exports/own-codebook.csv")).await;
    assert_eq!(csv.content_type, "text/csv; charset=utf-8");
    let ada: String =
        sqlx::query_scalar("select display_name from users where email = 'ada@demo.concord'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let name = format!(
        "-own-codebook-{}-{}.csv\"",
        concord::exports::model::slug(&ada),
        today()
    );
    assert!(csv.disposition.ends_with(&name), "{}", csv.disposition);
    let (headers, rows) = csv_rows(&csv.bytes);
    assert_eq!(
        headers,
        [
            "code",
            "parent",
            "path",
            "definition",
            "inclusion",
            "exclusion",
            "example",
            "color",
            "codings",
            "transcripts",
            "code_id",
            "parent_id"
        ]
    );
    assert_eq!(rows.len(), codes.len());
    for row in &rows {
        let code = by_id[row["code_id"].as_str()];
        for (column, field) in [
            ("code", "name"),
            ("definition", "definition"),
            ("inclusion", "inclusion"),
            ("exclusion", "exclusion"),
            ("example", "example"),
            ("color", "color"),
        ] {
            assert_eq!(row[column], code[field].as_str().unwrap(), "{column}");
        }
        assert_eq!(
            row["parent_id"],
            code["parent_id"].as_str().unwrap_or_default()
        );
        assert_eq!(row["parent"], name_of(&code["parent_id"]));
        let (n, t) = counts
            .get(row["code_id"].as_str())
            .copied()
            .unwrap_or((0, 0));
        assert_eq!(row["codings"], n.to_string(), "{}", row["code"]);
        assert_eq!(row["transcripts"], t.to_string(), "{}", row["code"]);
    }
    // The nesting made above: a path of two, and each child after its parent.
    let low_row = rows
        .iter()
        .position(|r| r["code_id"] == low["id"].as_str().unwrap())
        .unwrap();
    let middle_row = rows
        .iter()
        .position(|r| r["code_id"] == middle["id"].as_str().unwrap())
        .unwrap();
    let top_row = rows
        .iter()
        .position(|r| r["code_id"] == top["id"].as_str().unwrap())
        .unwrap();
    assert!(top_row < middle_row && middle_row < low_row);
    assert_eq!(
        rows[low_row]["path"],
        format!(
            "{} > {}",
            top["name"].as_str().unwrap(),
            middle["name"].as_str().unwrap()
        )
    );
    assert_eq!(rows[low_row]["inclusion"], "When it is said twice");

    // The workbook holds the CSV's rows, counts as numbers.
    let xlsx = export(&demo.ada, &demo.path("/exports/own-codebook.xlsx")).await;
    assert_eq!(xlsx_sheets(&xlsx.bytes), ["Own codebook"]);
    assert_eq!(
        xlsx_rows(&xlsx.bytes, "Own codebook"),
        csv_lists(&csv.bytes)
    );
    let numbers = xlsx_numbers(&xlsx.bytes, "Own codebook");
    assert!(matches!(numbers[1][8], Data::Float(_)));

    // The Word document: each code a heading under its parent, with the fields.
    let docx = export(&demo.ada, &demo.path("/exports/own-codebook.docx")).await;
    let blocks = docx_blocks(&docx.bytes);
    let in_docx = docx_codes(&blocks);
    assert_eq!(in_docx.len(), codes.len());
    for code in &codes {
        let name = code["name"].as_str().unwrap();
        let d = &in_docx[name];
        let (n, t) = counts
            .get(code["id"].as_str().unwrap())
            .copied()
            .unwrap_or((0, 0));
        assert_eq!(
            d.fields["Counts"],
            format!("{n} codings · {t} transcripts"),
            "{name}"
        );
        assert_eq!(d.fields["Colour"], code["color"].as_str().unwrap());
        let definition = code["definition"].as_str().unwrap();
        assert_eq!(
            d.fields
                .get("Definition")
                .map(String::as_str)
                .unwrap_or_default(),
            definition,
            "{name}"
        );
        assert_eq!(
            d.path.last().cloned().unwrap_or_default(),
            name_of(&code["parent_id"]),
            "{name}"
        );
    }
    assert_eq!(
        in_docx[low["name"].as_str().unwrap()].path,
        [
            top["name"].as_str().unwrap(),
            middle["name"].as_str().unwrap()
        ]
    );
    assert!(docx_text(&docx.bytes).contains("Own codebook of "));
    // Each download is on the audit log as an export.
    let after = app.audit_count(Some(demo.summary.project_id)).await;
    assert_eq!(after - before, 3, "three exports");
    let log = get_json(&demo.owner, &demo.api("/audit?kind=export")).await;
    let made: Vec<&str> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["after"]["export"].as_str().unwrap())
        .collect();
    assert_eq!(
        made,
        ["own-codebook-docx", "own-codebook-xlsx", "own-codebook-csv"]
    );
}

#[tokio::test]
async fn each_coder_gets_only_their_own_codebook_and_a_reviewer_without_codes_is_refused() {
    let app = TestApp::spawn().await;
    let demo = demo_study(&app).await;
    let (ada_codes, _) = own_codes(&demo, &demo.ada).await;
    let (ben_codes, _) = own_codes(&demo, &demo.ben).await;
    let ids = |codes: &[Value]| -> std::collections::BTreeSet<String> {
        codes
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(!ada_codes.is_empty() && !ben_codes.is_empty());
    assert!(ids(&ada_codes).is_disjoint(&ids(&ben_codes)));
    for (client, codes) in [(&demo.ada, &ada_codes), (&demo.ben, &ben_codes)] {
        let file = export(client, &demo.path("/exports/own-codebook.csv")).await;
        let (_, rows) = csv_rows(&file.bytes);
        let got: std::collections::BTreeSet<String> =
            rows.iter().map(|r| r["code_id"].clone()).collect();
        assert_eq!(got, ids(codes));
    }

    // A reviewer (and here the owner) has no codes: a clear refusal, nothing recorded.
    for (who, client) in [("reviewer", &demo.rita), ("owner", &demo.owner)] {
        if !get_json(client, &demo.api("/codes"))
            .await
            .as_array()
            .unwrap()
            .is_empty()
        {
            continue;
        }
        for name in ["own-codebook.csv", "own-codebook.xlsx", "own-codebook.docx"] {
            let before = app.audit_count(Some(demo.summary.project_id)).await;
            let file = download(client, &demo.path(&format!("/exports/{name}"))).await;
            assert_eq!(file.status, StatusCode::CONFLICT, "{who}: {name}");
            let body = String::from_utf8_lossy(&file.bytes);
            assert!(body.contains("no codes of your own"), "{who}: {body}");
            assert_eq!(app.audit_count(Some(demo.summary.project_id)).await, before);
        }
        let json = get_json(client, &demo.api("/exports")).await;
        let own: Vec<&Value> = json["exports"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["export"].as_str().unwrap().starts_with("own-codebook"))
            .collect();
        assert_eq!(own.len(), 3);
        assert!(own.iter().all(|e| {
            e["available"] == false
                && e["reason"]
                    .as_str()
                    .unwrap()
                    .contains("no codes of your own")
        }));
    }
    let page = html(demo.rita.get(&demo.path("/exports")).await).await;
    assert_eq!(
        select_texts(&page, "#exports tr[data-export^='own-codebook'] a.download").len(),
        0
    );
    let page = html(demo.ada.get(&demo.path("/exports")).await).await;
    assert_eq!(
        select_texts(&page, "#exports tr[data-export^='own-codebook'] a.download").len(),
        3
    );

    // A coder still coding a transcript gets their own codebook, and only theirs.
    blind_transcript(&app, &demo).await;
    let refused = download(&demo.ada, &demo.path("/exports/codebook.csv")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "Ada is blind");
    let file = export(&demo.ada, &demo.path("/exports/own-codebook.csv")).await;
    let body = String::from_utf8_lossy(&file.bytes);
    assert!(!body.contains(CANARY_CODE));
    let (_, rows) = csv_rows(&file.bytes);
    assert_eq!(rows.len(), ada_codes.len());
    // Ben's canary code is in his own codebook only.
    let file = export(&demo.ben, &demo.path("/exports/own-codebook.csv")).await;
    assert!(
        String::from_utf8_lossy(&file.bytes).contains(CANARY_CODE),
        "the check can fail"
    );
}
