//! The generated study the benches share: 18 transcripts of about 10,000
//! words, 356 agreed codes, 2,000 consensus codings per transcript, and a
//! hierarchy of 4 themes of 4 subcategories holding 340 of the codes; the
//! database it lives in; and the line each figure is printed as.
//!
//! Included by each bench with `#[path = "study/mod.rs"] mod study;`; not every
//! bench uses every item.
#![allow(dead_code)]

use std::time::Duration;

use concord::db::ids::{AgreedCodeId, ProjectId, ThemeNodeId, UserId};
use concord::projects::member::Actor;
use concord::themes::service::{self, CodeRef, Editor};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};

pub const TRANSCRIPTS: usize = 18;
pub const WORDS: usize = 10_000;
pub const CODINGS: usize = 2_000;
pub const CODES: usize = 356;
pub const PLACED: usize = 340;

pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

pub const WORDS_OF: [&str; 12] = [
    "the",
    "pump",
    "patients",
    "referral",
    "pain",
    "infection",
    "cost",
    "nurse",
    "team",
    "we",
    "trial",
    "waiting",
];

pub fn text(rng: &mut Lcg) -> String {
    let mut out = String::new();
    for i in 0..WORDS {
        if i % 15 == 0 {
            out.push_str(if i == 0 { "P: " } else { "\nP: " });
        } else {
            out.push(' ');
        }
        out.push_str(WORDS_OF[rng.below(WORDS_OF.len() as u64) as usize]);
    }
    out
}

/// The pool, the database's URL when a child process can reach it, and the
/// private cluster if one was started.
pub async fn pool(
    bench: &str,
) -> anyhow::Result<(
    PgPool,
    Option<String>,
    Option<concord::db::embedded::EmbeddedCluster>,
)> {
    let name = format!("{bench}_bench_{}", std::process::id());
    if let Ok(url) = std::env::var("DATABASE_URL") {
        let mut admin = sqlx::PgConnection::connect(&url).await?;
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await?;
        let url = match url.split_once('?') {
            Some((base, query)) => format!("{}/{name}?{query}", base.rsplit_once('/').unwrap().0),
            None => format!("{}/{name}", url.rsplit_once('/').unwrap().0),
        };
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await?;
        return Ok((pool, Some(url), None));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-pg");
    let cluster = concord::db::embedded::EmbeddedCluster::start(
        &root,
        concord::db::embedded::Durability::Throwaway,
    )?;
    let mut admin = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await?;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(cluster.connect_options(&name))
        .await?;
    Ok((pool, None, Some(cluster)))
}

pub struct Study {
    pub project: ProjectId,
    pub lead: UserId,
    pub themes: Vec<ThemeNodeId>,
    pub subcategories: Vec<ThemeNodeId>,
    pub codes: Vec<AgreedCodeId>,
}

pub async fn generate(pool: &PgPool) -> anyhow::Result<Study> {
    let mut rng = Lcg(7);
    let lead = UserId::new();
    let project = ProjectId::new();
    let mut tx = pool.begin().await?;
    sqlx::query("insert into users (id, email, display_name, password_hash) values ($1, 'lead@bench', 'Lead', 'x')")
        .bind(lead.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into projects (id, name, created_by) values ($1, 'Bench', $2)")
        .bind(project.0)
        .bind(lead.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("insert into project_members (project_id, user_id, role) values ($1, $2, 'owner')")
        .bind(project.0)
        .bind(lead.0)
        .execute(&mut *tx)
        .await?;
    let role = uuid::Uuid::now_v7();
    sqlx::query(
        "insert into variables (id, project_id, name, kind) values ($1, $2, 'Role', 'text')",
    )
    .bind(role)
    .bind(project.0)
    .execute(&mut *tx)
    .await?;
    let codes: Vec<AgreedCodeId> = (0..CODES).map(|_| AgreedCodeId::new()).collect();
    for (i, code) in codes.iter().enumerate() {
        sqlx::query("insert into agreed_codes (id, project_id, name, color, created_by) values ($1, $2, $3, '#0072B2', $4)")
            .bind(code.0)
            .bind(project.0)
            .bind(format!("code {i:03}"))
            .bind(lead.0)
            .execute(&mut *tx)
            .await?;
    }
    for t in 0..TRANSCRIPTS {
        let participant = uuid::Uuid::now_v7();
        sqlx::query("insert into participants (id, project_id, label) values ($1, $2, $3)")
            .bind(participant)
            .bind(project.0)
            .bind(format!("P{:02}", t + 1))
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into participant_values (participant_id, variable_id, value) values ($1, $2, $3)")
            .bind(participant)
            .bind(role)
            .bind(["Nurse", "Oncologist", "Service Manager"][t % 3])
            .execute(&mut *tx)
            .await?;
        let body = text(&mut rng);
        let length = body.chars().count() as i64;
        let transcript = uuid::Uuid::now_v7();
        sqlx::query(
            "insert into transcripts (id, project_id, title, file_name, source_kind, text, sha256, char_count, word_count, participant_id)
             values ($1, $2, $3, 'bench.txt', 'txt', $4, '', $5, $6, $7)",
        )
        .bind(transcript)
        .bind(project.0)
        .bind(format!("Interview {:02}", t + 1))
        .bind(&body)
        .bind(length as i32)
        .bind(WORDS as i32)
        .bind(participant)
        .execute(&mut *tx)
        .await?;
        let mut ids = Vec::new();
        let mut code_ids = Vec::new();
        let mut starts = Vec::new();
        let mut ends = Vec::new();
        for _ in 0..CODINGS {
            let start = rng.below((length - 200) as u64) as i32;
            ids.push(uuid::Uuid::now_v7());
            code_ids.push(codes[rng.below(CODES as u64) as usize].0);
            starts.push(start);
            ends.push(start + 20 + rng.below(150) as i32);
        }
        sqlx::query(
            "insert into consensus_codings (id, project_id, transcript_id, agreed_code_id, start_offset, end_offset, created_by)
             select i, $2, $3, c, s, e, $4 from unnest($1::uuid[], $5::uuid[], $6::int[], $7::int[]) as u (i, c, s, e)",
        )
        .bind(&ids)
        .bind(project.0)
        .bind(transcript)
        .bind(lead.0)
        .bind(&code_ids)
        .bind(&starts)
        .bind(&ends)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // Fresh tables have no statistics yet; autovacuum analyses them within a
    // minute of a bulk load.
    sqlx::query("analyze").execute(pool).await?;
    Ok(Study {
        project,
        lead,
        themes: Vec::new(),
        subcategories: Vec::new(),
        codes,
    })
}

pub async fn editor(pool: &PgPool, study: &Study) -> anyhow::Result<(Editor, Actor)> {
    let mut conn = pool.acquire().await?;
    let member = Actor::of_user(&mut conn, study.project, study.lead).await?;
    Ok((Editor::of(&mut conn, &member).await?, member))
}

pub async fn build_hierarchy(pool: &PgPool, study: &mut Study) -> anyhow::Result<()> {
    let (editor, _) = editor(pool, study).await?;
    let per = PLACED / 16;
    for t in 0..4 {
        let mut tx = pool.begin().await?;
        let theme = service::create_node(
            &mut tx,
            editor,
            service::NewNodeInput {
                name: format!("Theme {t}"),
                ..Default::default()
            },
        )
        .await?;
        study.themes.push(theme.id);
        for s in 0..4 {
            let k = t * 4 + s;
            let codes: Vec<CodeRef> = study.codes[k * per..(k + 1) * per]
                .iter()
                .map(|c| CodeRef { id: *c, version: 0 })
                .collect();
            let sub = service::create_node(
                &mut tx,
                editor,
                service::NewNodeInput {
                    name: format!("Subcategory {t}.{s}"),
                    parent_id: Some(theme.id),
                    codes,
                    ..Default::default()
                },
            )
            .await?;
            study.subcategories.push(sub.id);
        }
        tx.commit().await?;
    }
    Ok(())
}

pub fn report(what: &str, times: &mut [Duration], target: Duration) {
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{what:<44} median {:>8.2} ms  min {:>8.2} ms  max {:>8.2} ms  (target {} ms, {:.2}× of it)",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        target.as_millis(),
        median.as_secs_f64() / target.as_secs_f64()
    );
}
