//! The exports on the generated study (benches/study: 18 transcripts of about
//! 10,000 words, 356 agreed codes, 340 of them placed under 4 themes of 4
//! subcategories, 2,000 consensus codings per transcript), with two coders'
//! submitted layers of 2,000 codings each per transcript on their own codes
//! aligned onto the agreed ones. Times, in process and server side, each
//! export as a download makes it (`exports::service::start`, its audit row
//! included, and every byte read off the channel): the codebook DOCX, the
//! coded segments XLSX (36,000 rows) and the agreement XLSX with its
//! bootstrap intervals; and the peak memory of `concord export --format
//! segments-xlsx` in a child process.
//!
//! `cargo bench --bench exports` (uses `DATABASE_URL` if set, else a private
//! cluster under target/bench-pg; the peak memory of `concord export` is
//! measured only with `DATABASE_URL`, which the child process needs).

use std::time::{Duration, Instant};

use concord::exports::model::ExportKind;
use concord::exports::service::{self, Options};
use concord::projects::member::Actor;
use concord::state::AppState;
use sqlx::PgPool;
use uuid::Uuid;

#[path = "peak_rss/mod.rs"]
mod peak_rss;
#[path = "study/mod.rs"]
mod study;

use study::*;

/// Two coders, each with their own copy of the codebook aligned onto the
/// agreed codes, and a submitted layer of [`CODINGS`] codings per transcript.
async fn add_coder_layers(pool: &PgPool, study: &Study) -> anyhow::Result<()> {
    let mut rng = Lcg(11);
    let project = study.project.0;
    let transcripts: Vec<(Uuid, i32)> = sqlx::query_as(
        "select id, char_count from transcripts where project_id = $1 order by title",
    )
    .bind(project)
    .fetch_all(pool)
    .await?;
    let mut tx = pool.begin().await?;
    for (k, (email, name)) in [("a@bench", "Coder A"), ("b@bench", "Coder B")]
        .into_iter()
        .enumerate()
    {
        let coder = Uuid::now_v7();
        sqlx::query(
            "insert into users (id, email, display_name, password_hash) values ($1, $2, $3, 'x')",
        )
        .bind(coder)
        .bind(email)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into project_members (project_id, user_id, role) values ($1, $2, 'coder')",
        )
        .bind(project)
        .bind(coder)
        .execute(&mut *tx)
        .await?;
        let codes: Vec<Uuid> = (0..CODES).map(|_| Uuid::now_v7()).collect();
        for (i, (code, agreed)) in codes.iter().zip(&study.codes).enumerate() {
            sqlx::query(
                "insert into codes (id, project_id, owner_id, name, color, created_by) values ($1, $2, $3, $4, '#0072b2', $3)",
            )
            .bind(code)
            .bind(project)
            .bind(coder)
            .bind(format!("{} code {i:03}", ["a", "b"][k]))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into code_alignments (code_id, project_id, agreed_code_id, created_by) values ($1, $2, $3, $4)",
            )
            .bind(code)
            .bind(project)
            .bind(agreed.0)
            .bind(study.lead.0)
            .execute(&mut *tx)
            .await?;
        }
        for (transcript, length) in &transcripts {
            let mut ids = Vec::new();
            let mut code_ids = Vec::new();
            let mut starts = Vec::new();
            let mut ends = Vec::new();
            for _ in 0..CODINGS {
                let start = rng.below((length - 200) as u64) as i32;
                ids.push(Uuid::now_v7());
                code_ids.push(codes[rng.below(CODES as u64) as usize]);
                starts.push(start);
                ends.push(start + 20 + rng.below(150) as i32);
            }
            sqlx::query(
                "insert into assignments (id, project_id, transcript_id, user_id, state, submitted_at)
                 values ($1, $2, $3, $4, 'submitted', now())",
            )
            .bind(Uuid::now_v7())
            .bind(project)
            .bind(transcript)
            .bind(coder)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "insert into codings (id, project_id, transcript_id, coder_id, code_id, start_offset, end_offset)
                 select i, $2, $3, $4, c, s, e from unnest($1::uuid[], $5::uuid[], $6::int[], $7::int[]) as u (i, c, s, e)",
            )
            .bind(&ids)
            .bind(project)
            .bind(transcript)
            .bind(coder)
            .bind(&code_ids)
            .bind(&starts)
            .bind(&ends)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// One export as a download makes it: started, then read to its last byte.
async fn run(state: &AppState, member: &Actor, kind: ExportKind) -> anyhow::Result<usize> {
    let mut download = service::start(state, member, kind, Options::default())
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", kind.as_str()))?;
    let mut size = 0;
    while let Some(chunk) = download.chunks.recv().await {
        size += chunk?.len();
    }
    Ok(size)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        println!("exports: bench");
        return Ok(());
    }
    let (pool, url, _cluster) = pool("exports").await?;
    concord::db::migrate(&pool).await?;
    let started = Instant::now();
    let mut study = generate(&pool).await?;
    build_hierarchy(&pool, &mut study).await?;
    add_coder_layers(&pool, &study).await?;
    println!(
        "generated {TRANSCRIPTS} transcripts, {CODES} agreed codes ({PLACED} placed), {} consensus codings and 2 × {} coder codings in {:.1} s",
        TRANSCRIPTS * CODINGS,
        TRANSCRIPTS * CODINGS,
        started.elapsed().as_secs_f64()
    );
    let state = AppState::new(
        pool.clone(),
        concord::config::Config::for_tests(url.clone().unwrap_or_default()),
    );
    let (_, member) = editor(&pool, &study).await?;

    for (kind, runs, target) in [
        (ExportKind::CodebookDocx, 20, Duration::from_millis(300)),
        (ExportKind::SegmentsXlsx, 5, Duration::from_millis(2000)),
        (ExportKind::AgreementXlsx, 5, Duration::from_millis(2000)),
    ] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..runs {
            let start = Instant::now();
            size = run(&state, &member, kind).await?;
            times.push(start.elapsed());
        }
        report(
            &format!("{} ({:.1} MB)", kind.as_str(), size as f64 / 1e6),
            &mut times,
            target,
        );
    }

    // What a write that can change agreements (an alignment, a merge) adds to
    // its transaction: the automatic filing over every complete transcript.
    // The first run files the agreements; a later one finds nothing new,
    // which is what each such write costs from then on. Rolled back.
    let of = concord::compare::report::Of {
        project: study.project,
        shared: false,
    };
    let mut tx = pool.begin().await?;
    for (what, runs) in [("first, filing", 1), ("then, with nothing new", 5)] {
        let mut times = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            concord::reconcile::service::file_automatic(
                &mut tx,
                of,
                study.lead,
                concord::reconcile::service::Refile::All,
            )
            .await
            .map_err(|e| anyhow::anyhow!("automatic filing: {e}"))?;
            times.push(start.elapsed());
        }
        times.sort();
        println!(
            "{:<44} median {:>8.2} ms",
            format!("automatic filing, {what}"),
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
    tx.rollback().await?;

    match &url {
        Some(url) => {
            let dir = std::env::temp_dir().join(format!("exports-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let out = dir.join("segments.xlsx");
            let (status, elapsed, peak_kib) = peak_rss::run(
                std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
                    .env("DATABASE_URL", url)
                    .args(["--log", "warn", "export", "--project"])
                    .arg(study.project.to_string())
                    .args(["--format", "segments-xlsx", "--out"])
                    .arg(&out),
            )?;
            anyhow::ensure!(status.success(), "concord export failed");
            println!(
                "{:<44} {:>8.1} ms, peak RSS {:.1} MiB (target 100 MiB)",
                "concord export --format segments-xlsx",
                elapsed.as_secs_f64() * 1e3,
                peak_kib as f64 / 1024.0
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
        None => println!("concord export peak memory: skipped (set DATABASE_URL)"),
    }
    Ok(())
}
