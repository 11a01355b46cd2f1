//! REFI-QDA on the generated benchmark project: 18 transcripts of about
//! 10,000 words, 356 codes, two coders with 2,000 submitted codings each per
//! transcript (72,000) and a consensus layer of 2,000 per transcript (36,000)
//! on 356 agreed codes. Times the `.qdpx` export with every coder's layer
//! (in process, and the peak memory of `concord export` doing the same),
//! its import as a new project (read, plan and store in one transaction,
//! rolled back after each run), and `concord agreement` on the file.
//!
//! `cargo bench --bench refi` (uses `DATABASE_URL` if set, else a private
//! cluster under target/bench-pg; the peak memory of `concord export` is
//! measured only with `DATABASE_URL`, which the child process needs).

use std::time::{Duration, Instant};

use concord::db::ids::{ProjectId, UserId};
use concord::projects::member::Actor;
use sqlx::PgPool;
use uuid::Uuid;

#[path = "peak_rss/mod.rs"]
mod peak_rss;
#[path = "study/mod.rs"]
mod study;

use study::{CODES, CODINGS, Lcg, TRANSCRIPTS, WORDS, pool, report, text};

async fn generate(pool: &PgPool) -> anyhow::Result<(ProjectId, UserId)> {
    let mut rng = Lcg(7);
    let lead = Uuid::now_v7();
    let coders = [Uuid::now_v7(), Uuid::now_v7()];
    let project = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    for (id, email, name) in [
        (lead, "lead@bench", "Lead"),
        (coders[0], "a@bench", "Coder A"),
        (coders[1], "b@bench", "Coder B"),
    ] {
        sqlx::query(
            "insert into users (id, email, display_name, password_hash) values ($1, $2, $3, 'x')",
        )
        .bind(id)
        .bind(email)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "insert into projects (id, name, created_by, codebook_mode) values ($1, 'Bench', $2, 'shared')",
    )
    .bind(project)
    .bind(lead)
    .execute(&mut *tx)
    .await?;
    for (user, role) in [(lead, "owner"), (coders[0], "coder"), (coders[1], "coder")] {
        sqlx::query("insert into project_members (project_id, user_id, role) values ($1, $2, $3)")
            .bind(project)
            .bind(user)
            .bind(role)
            .execute(&mut *tx)
            .await?;
    }
    let role = Uuid::now_v7();
    sqlx::query(
        "insert into variables (id, project_id, name, kind) values ($1, $2, 'Role', 'text')",
    )
    .bind(role)
    .bind(project)
    .execute(&mut *tx)
    .await?;
    let codes: Vec<Uuid> = (0..CODES).map(|_| Uuid::now_v7()).collect();
    let agreed: Vec<Uuid> = (0..CODES).map(|_| Uuid::now_v7()).collect();
    for (i, (code, agreed)) in codes.iter().zip(&agreed).enumerate() {
        sqlx::query("insert into codes (id, project_id, name, color, created_by) values ($1, $2, $3, '#0072b2', $4)")
            .bind(code)
            .bind(project)
            .bind(format!("code {i:03}"))
            .bind(lead)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into agreed_codes (id, project_id, name, color, created_by) values ($1, $2, $3, '#0072B2', $4)")
            .bind(agreed)
            .bind(project)
            .bind(format!("agreed {i:03}"))
            .bind(lead)
            .execute(&mut *tx)
            .await?;
    }
    for t in 0..TRANSCRIPTS {
        let participant = Uuid::now_v7();
        sqlx::query("insert into participants (id, project_id, label) values ($1, $2, $3)")
            .bind(participant)
            .bind(project)
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
        let transcript = Uuid::now_v7();
        sqlx::query(
            "insert into transcripts (id, project_id, title, file_name, source_kind, text, sha256, char_count, word_count, participant_id)
             values ($1, $2, $3, 'bench.txt', 'txt', $4, '', $5, $6, $7)",
        )
        .bind(transcript)
        .bind(project)
        .bind(format!("Interview {:02}", t + 1))
        .bind(&body)
        .bind(length as i32)
        .bind(WORDS as i32)
        .bind(participant)
        .execute(&mut *tx)
        .await?;
        let mut spans = |n: usize, pool: &[Uuid]| {
            let mut ids = Vec::new();
            let mut code_ids = Vec::new();
            let mut starts = Vec::new();
            let mut ends = Vec::new();
            for _ in 0..n {
                let start = rng.below((length - 200) as u64) as i32;
                ids.push(Uuid::now_v7());
                code_ids.push(pool[rng.below(CODES as u64) as usize]);
                starts.push(start);
                ends.push(start + 20 + rng.below(150) as i32);
            }
            (ids, code_ids, starts, ends)
        };
        for coder in coders {
            let (ids, code_ids, starts, ends) = spans(CODINGS, &codes);
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
        let (ids, code_ids, starts, ends) = spans(CODINGS, &agreed);
        sqlx::query(
            "insert into consensus_codings (id, project_id, transcript_id, agreed_code_id, start_offset, end_offset, created_by)
             select i, $2, $3, c, s, e, $4 from unnest($1::uuid[], $5::uuid[], $6::int[], $7::int[]) as u (i, c, s, e)",
        )
        .bind(&ids)
        .bind(project)
        .bind(transcript)
        .bind(lead)
        .bind(&code_ids)
        .bind(&starts)
        .bind(&ends)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    // Fresh tables have no statistics yet; autovacuum analyses them within a
    // minute of a bulk load, long before anyone exports such a project.
    sqlx::query("analyze").execute(pool).await?;
    Ok((ProjectId(project), UserId(lead)))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        println!("refi: bench");
        return Ok(());
    }
    let (pool, url, _cluster) = pool("refi").await?;
    concord::db::migrate(&pool).await?;
    let started = Instant::now();
    let (project_id, lead) = generate(&pool).await?;
    println!(
        "generated {TRANSCRIPTS} transcripts, {CODES} codes and {CODES} agreed codes, {} coder codings and {} consensus codings in {:.1} s",
        2 * TRANSCRIPTS * CODINGS,
        TRANSCRIPTS * CODINGS,
        started.elapsed().as_secs_f64()
    );
    let mut conn = pool.acquire().await?;
    let member = Actor::of_user(&mut conn, project_id, lead).await?;
    let options = concord::refi::export::QdpxOptions { coder_layers: true };

    let mut times = Vec::new();
    let mut bytes = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let proof = concord::coding::blinding::Viewer::of(&mut conn, &member)
            .await?
            .agreed_codebook()?;
        bytes = concord::refi::export::write_qdpx(
            &mut conn,
            &member.project,
            lead,
            proof,
            options,
            std::io::Cursor::new(Vec::new()),
        )
        .await?
        .into_inner();
        times.push(start.elapsed());
    }
    report(
        &format!(
            ".qdpx export, coder layers ({:.1} MB)",
            bytes.len() as f64 / 1e6
        ),
        &mut times,
        Duration::from_millis(500),
    );

    let dir = std::env::temp_dir().join(format!("refi-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("bench.qdpx");
    std::fs::write(&file, &bytes)?;
    match &url {
        Some(url) => {
            let out = dir.join("cli.qdpx");
            let (status, elapsed, peak_kib) = peak_rss::run(
                std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
                    .env("DATABASE_URL", url)
                    .args(["--log", "warn", "export", "--project"])
                    .arg(project_id.to_string())
                    .args(["--format", "qdpx", "--coders", "--out"])
                    .arg(&out),
            )?;
            anyhow::ensure!(status.success(), "concord export failed");
            println!(
                "{:<44} {:>8.1} ms, peak RSS {:.1} MiB (target 50 MiB)",
                "concord export --format qdpx --coders",
                elapsed.as_secs_f64() * 1e3,
                peak_kib as f64 / 1024.0
            );
        }
        None => println!("concord export peak memory: skipped (set DATABASE_URL)"),
    }

    if let Some(keep) = std::env::var_os("REFI_BENCH_KEEP") {
        std::fs::write(&keep, &bytes)?;
        println!("the .qdpx file kept as {}", keep.to_string_lossy());
    }

    let mut times = Vec::new();
    let (mut reads, mut plans, mut stores) = (Vec::new(), Vec::new(), Vec::new());
    let mut imported = None;
    for _ in 0..3 {
        let start = Instant::now();
        let project =
            concord::refi::read("bench.qdpx", &bytes, &concord::refi::ReadOptions::default())
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let read = Instant::now();
        let plan = concord::refi::import::plan(&project, "bench.qdpx");
        drop(project);
        let planned = Instant::now();
        let mut tx = pool.begin().await?;
        imported = Some(concord::refi::import::store_plan(&mut tx, lead, &plan).await?);
        tx.rollback().await?;
        let stored = Instant::now();
        reads.push(read - start);
        plans.push(planned - read);
        stores.push(stored - planned);
        times.push(start.elapsed());
    }
    let imported = imported.expect("three runs");
    report(
        &format!(".qdpx import ({} codings, rolled back)", imported.codings),
        &mut times,
        Duration::from_millis(2000),
    );
    for (what, times) in [
        ("  of which: read the file", &mut reads),
        ("  of which: plan", &mut plans),
        ("  of which: store (one transaction)", &mut stores),
    ] {
        times.sort();
        println!(
            "{what:<44} median {:>8.2} ms",
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }

    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .env_remove("DATABASE_URL")
            .args(["agreement"])
            .arg(&file)
            .args(["--users", "Coder A,Coder B", "--format", "json"])
            .output()?;
        times.push(start.elapsed());
        anyhow::ensure!(
            output.status.success(),
            "concord agreement: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    report(
        "concord agreement on the file (process)",
        &mut times,
        Duration::from_millis(1000),
    );
    let (status, elapsed, peak_kib) = peak_rss::run(
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .env_remove("DATABASE_URL")
            .args(["agreement"])
            .arg(&file)
            .args(["--users", "Coder A,Coder B", "--format", "json"])
            .stdout(std::process::Stdio::null()),
    )?;
    anyhow::ensure!(status.success(), "concord agreement failed");
    println!(
        "{:<44} {:>8.1} ms, peak RSS {:.1} MiB",
        "concord agreement, once more",
        elapsed.as_secs_f64() * 1e3,
        peak_kib as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
