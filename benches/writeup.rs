//! The write-up's figures on the generated study of the themes bench (18
//! transcripts of about 10,000 words, 356 agreed codes, 340 of them placed
//! under 4 themes of 4 subcategories, 2,000 consensus codings per transcript):
//! every table of the tables page (and each download), the saturation page's
//! data with 1,000 permutations, and search across the project. Times the
//! service calls the pages and the API make, server side, against a real
//! PostgreSQL.
//!
//! `cargo bench --bench writeup` (uses `DATABASE_URL` if set, else a private
//! cluster under target/bench-pg).

use std::time::{Duration, Instant};

use concord::themes::service::Reader;
use concord::writeup::service::{SaturationParams, TablesParams};

#[path = "study/mod.rs"]
mod study;

use study::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        println!("writeup: bench");
        return Ok(());
    }
    let (pool, _, _cluster) = pool("writeup").await?;
    concord::db::migrate(&pool).await?;
    let started = Instant::now();
    let mut study = generate(&pool).await?;
    build_hierarchy(&pool, &mut study).await?;
    println!(
        "generated {TRANSCRIPTS} transcripts, {CODES} codes ({PLACED} placed), {} consensus codings in {:.1} s",
        TRANSCRIPTS * CODINGS,
        started.elapsed().as_secs_f64()
    );
    let (_, member) = editor(&pool, &study).await?;
    let mut conn = pool.acquire().await?;

    // The tables page computes its three tables in one call; each download
    // computes its own table and writes it.
    let params = TablesParams {
        by: Some("Role".into()),
        min: Some("1".into()),
        ..Default::default()
    };
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let reader = Reader::of(&mut conn, &member).await?;
        let tables = concord::writeup::service::tables(&mut conn, reader, &params).await?;
        times.push(start.elapsed());
        assert_eq!(tables.participants.participants_total, TRANSCRIPTS);
    }
    report(
        "every table (n of N by Role, co-occurrence, code x transcript)",
        &mut times,
        Duration::from_millis(200),
    );
    for table in ["participants", "cooccurrence", "transcripts"] {
        for format in ["csv", "xlsx"] {
            let mut times = Vec::new();
            let mut size = 0;
            for _ in 0..10 {
                let start = Instant::now();
                let reader = Reader::of(&mut conn, &member).await?;
                let which = concord::writeup::service::Table::parse(table)?;
                let sheet =
                    concord::writeup::service::sheet(&mut conn, reader, &params, which).await?;
                let bytes = if format == "csv" {
                    concord::writeup::export::to_csv(&sheet)?
                } else {
                    concord::writeup::export::to_xlsx(&sheet)?
                };
                times.push(start.elapsed());
                size = bytes.len();
            }
            report(
                &format!("download {table}.{format} ({} kB)", size / 1000),
                &mut times,
                Duration::from_millis(200),
            );
        }
    }

    let query = SaturationParams {
        permutations: Some("1000".into()),
        ..Default::default()
    }
    .check()?;
    let mut times = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        let reader = Reader::of(&mut conn, &member).await?;
        let data = concord::writeup::service::load(&mut conn, reader).await?;
        let s = concord::writeup::service::saturation(&data, &query)?;
        times.push(start.elapsed());
        assert_eq!(s.order_free.orders, 1000);
    }
    report(
        "saturation, 1,000 permutations",
        &mut times,
        Duration::from_millis(300),
    );

    for q in ["pain", "referral", "patients pain", "nurse team we"] {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..20 {
            let start = Instant::now();
            let found = concord::search::service::search(&mut conn, &member, q).await?;
            times.push(start.elapsed());
            hits = found.total_hits;
        }
        report(
            &format!("search {q:?} ({hits} hits)"),
            &mut times,
            Duration::from_millis(100),
        );
    }
    Ok(())
}
