//! The theme hierarchy on a study near its end: 18 transcripts of about 10,000
//! words, 356 agreed codes, 4 themes of 4 subcategories holding 340 of them, and
//! 2,000 consensus codings per transcript (36,000). Times the service calls the
//! pages and the API make, server side, against a real PostgreSQL: the
//! hierarchy with every count, a move, a placement, and a theme's quote list.
//!
//! `cargo bench --bench themes` (uses `DATABASE_URL` if set, else a private
//! cluster under target/bench-pg).

use std::time::{Duration, Instant};

use concord::themes::service::{self, CodeRef, Editor, NodeMove, QuoteQuery, Reader};

#[path = "study/mod.rs"]
mod study;

use study::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        println!("themes: bench");
        return Ok(());
    }
    let (pool, _, _cluster) = pool("themes").await?;
    concord::db::migrate(&pool).await?;
    let started = Instant::now();
    let mut study = generate(&pool).await?;
    build_hierarchy(&pool, &mut study).await?;
    println!(
        "generated {TRANSCRIPTS} transcripts, {CODES} codes ({PLACED} placed), {} consensus codings in {:.1} s",
        TRANSCRIPTS * CODINGS,
        started.elapsed().as_secs_f64()
    );
    let (editor, member) = editor(&pool, &study).await?;

    let mut times = Vec::new();
    let mut conn = pool.acquire().await?;
    for _ in 0..30 {
        let start = Instant::now();
        let reader = Reader::of(&mut conn, &member).await?;
        let h = service::hierarchy(&mut conn, reader).await?;
        times.push(start.elapsed());
        assert_eq!(h.nodes.len(), 20);
    }
    report(
        "hierarchy with every count",
        &mut times,
        Duration::from_millis(50),
    );

    let mut times = Vec::new();
    for i in 0..40 {
        let sub = study.subcategories[i % 16];
        let start = Instant::now();
        let mut tx = pool.begin().await?;
        let editor = Editor::of(&mut tx, &member).await?;
        let node = concord::themes::store::node(&mut tx, study.project, sub)
            .await?
            .expect("node");
        service::move_node(
            &mut tx,
            editor,
            sub,
            NodeMove {
                version: node.version,
                parent_id: Some(study.themes[(i + 1) % 4]),
                position: Some(0),
            },
        )
        .await?;
        tx.commit().await?;
        times.push(start.elapsed());
    }
    report(
        "move a subcategory (one transaction)",
        &mut times,
        Duration::from_millis(10),
    );

    let mut times = Vec::new();
    for i in 0..40 {
        let code = study.codes[i];
        let start = Instant::now();
        let mut tx = pool.begin().await?;
        let version = concord::themes::store::placements_of(&mut tx, study.project, &[code])
            .await?
            .first()
            .map(|p| p.version)
            .unwrap_or(0);
        service::place_codes(
            &mut tx,
            editor,
            &[CodeRef { id: code, version }],
            Some(study.subcategories[(i + 3) % 16]),
            Some(0),
        )
        .await?;
        tx.commit().await?;
        times.push(start.elapsed());
    }
    report(
        "place a code (one transaction)",
        &mut times,
        Duration::from_millis(10),
    );

    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..20 {
        let start = Instant::now();
        let reader = Reader::of(&mut conn, &member).await?;
        let list = service::quotes(
            &mut conn,
            reader,
            &QuoteQuery {
                node: Some(study.themes[0]),
                ..Default::default()
            },
        )
        .await?;
        times.push(start.elapsed());
        count = list.quotes.len();
    }
    report(
        &format!("quote list of a theme ({count} quotes)"),
        &mut times,
        Duration::from_millis(100),
    );
    Ok(())
}
