//! The full agreement report of a large study: 18 transcripts of about 10,000 words, two
//! coders with 2,000 codings each per transcript over 350 codes. The page must answer well
//! under 200 ms for the whole project.

use std::hint::black_box;

use concord::agreement::{
    CodeId, CoderId, Coding, Ratio, Span, Study, TranscriptLayers, TranscriptUnits, UnitLevel,
};
use criterion::{Criterion, criterion_group, criterion_main};

const TRANSCRIPTS: usize = 18;
const WORDS: usize = 10_000;
const CODINGS_PER_CODER: usize = 2_000;
const CODES: u32 = 350;
const ANA: CoderId = CoderId(1);
const BEN: CoderId = CoderId(2);

/// A small deterministic generator (Knuth's MMIX constants), so every run codes the same text.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const VOCABULARY: [&str; 16] = [
    "the",
    "patients",
    "referral",
    "late",
    "families",
    "trust",
    "triage",
    "Zoë",
    "rôle",
    "cost",
    "paperwork",
    "—",
    "nurse",
    "oncologists",
    "👋",
    "exhausted",
];

struct Transcript {
    text: String,
    turns: Vec<Span>,
    codings: Vec<Coding>,
}

/// Interview-shaped text: speaker lines of a few sentences, paragraphs split by blank lines.
fn transcript(rng: &mut Lcg, first_key: u64) -> Transcript {
    let mut text = String::new();
    let mut turns = Vec::new();
    let mut position: u32 = 0;
    let mut words = 0;
    while words < WORDS {
        let start = position;
        let label = if rng.below(3) == 0 { "I: " } else { "P01: " };
        text.push_str(label);
        position += label.chars().count() as u32;
        for _ in 0..1 + rng.below(4) {
            for w in 0..5 + rng.below(15) {
                if w > 0 {
                    text.push(' ');
                    position += 1;
                }
                let word = VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize];
                text.push_str(word);
                position += word.chars().count() as u32;
                words += 1;
            }
            text.push_str(". ");
            position += 2;
        }
        turns.push(Span {
            start,
            end: position,
        });
        let gap = if rng.below(4) == 0 { "\n\n" } else { "\n" };
        text.push_str(gap);
        position += gap.len() as u32;
    }
    let length = position;

    // Ben follows Ana on most codings with shifted boundaries, sometimes picks another code,
    // and codes some passages of his own.
    let mut codings = Vec::with_capacity(2 * CODINGS_PER_CODER);
    let mut key = first_key;
    for _ in 0..CODINGS_PER_CODER {
        let len = 20 + rng.below(380) as u32;
        let start = rng.below(u64::from(length - len)) as u32;
        let code = CodeId(rng.below(u64::from(CODES)) as u32);
        codings.push(Coding {
            coder: ANA,
            code,
            start,
            end: start + len,
            key,
        });
        key += 1;
        let (b_start, b_end, b_code) = match rng.below(10) {
            0..=5 => {
                let shift = |rng: &mut Lcg| rng.below(41) as i64 - 20;
                let s = (i64::from(start) + shift(rng)).clamp(0, i64::from(length) - 2) as u32;
                let e = (i64::from(start + len) + shift(rng))
                    .clamp(i64::from(s) + 1, i64::from(length)) as u32;
                (s, e, code)
            }
            6 => (
                start,
                start + len,
                CodeId(rng.below(u64::from(CODES)) as u32),
            ),
            _ => {
                let len = 20 + rng.below(380) as u32;
                let s = rng.below(u64::from(length - len)) as u32;
                (s, s + len, CodeId(rng.below(u64::from(CODES)) as u32))
            }
        };
        codings.push(Coding {
            coder: BEN,
            code: b_code,
            start: b_start,
            end: b_end,
            key,
        });
        key += 1;
    }
    Transcript {
        text,
        turns,
        codings,
    }
}

/// Every unit level's per-code and pooled statistics, |uα per code and the discrepancy lists.
fn project_report(
    codes: &[CodeId],
    units: &[TranscriptUnits],
    transcripts: &[Transcript],
) -> usize {
    let layers: Vec<TranscriptLayers<'_>> = units
        .iter()
        .zip(transcripts)
        .map(|(units, t)| TranscriptLayers {
            units,
            submitted: &[ANA, BEN],
            codings: &t.codings,
        })
        .collect();
    let study = Study::new(&[ANA, BEN], codes, &layers).expect("valid study");
    let mut size = 0;
    for level in UnitLevel::ALL {
        size += study.unit_agreement(level).overall.per_code.len();
    }
    size += study.unitized_agreement().overall.len();
    let discrepancies = study
        .discrepancies(Ratio::default())
        .expect("valid threshold");
    size += discrepancies
        .per_transcript
        .iter()
        .map(|t| t.pairs[0].discrepancies.len())
        .sum::<usize>();
    size
}

fn bench(c: &mut Criterion) {
    let mut rng = Lcg(0x00C0_FFEE);
    let transcripts: Vec<Transcript> = (0..TRANSCRIPTS)
        .map(|t| transcript(&mut rng, (t * 2 * CODINGS_PER_CODER) as u64))
        .collect();
    let codes: Vec<CodeId> = (0..CODES).map(CodeId).collect();
    let scan = |transcripts: &[Transcript]| -> Vec<TranscriptUnits> {
        transcripts
            .iter()
            .map(|t| TranscriptUnits::new(&t.text, &t.turns).expect("valid text"))
            .collect()
    };
    let units = scan(&transcripts);
    let characters: u32 = units.iter().map(TranscriptUnits::length).sum();
    let found = project_report(&codes, &units, &transcripts);
    eprintln!(
        "{TRANSCRIPTS} transcripts, {characters} code points, {} codings, report size {found}",
        transcripts.iter().map(|t| t.codings.len()).sum::<usize>()
    );

    c.bench_function("project report, all levels (units precomputed)", |b| {
        b.iter(|| {
            project_report(
                black_box(&codes),
                black_box(&units),
                black_box(&transcripts),
            )
        })
    });
    // The parts, to see where the time goes.
    let layers: Vec<TranscriptLayers<'_>> = units
        .iter()
        .zip(&transcripts)
        .map(|(units, t)| TranscriptLayers {
            units,
            submitted: &[ANA, BEN],
            codings: &t.codings,
        })
        .collect();
    let study = Study::new(&[ANA, BEN], &codes, &layers).expect("valid study");
    let mut parts = c.benchmark_group("parts");
    parts.bench_function("prepare layers", |b| {
        b.iter(|| Study::new(&[ANA, BEN], black_box(&codes), black_box(&layers)))
    });
    for level in UnitLevel::ALL {
        parts.bench_function(format!("{level:?} statistics"), |b| {
            b.iter(|| study.unit_agreement(black_box(level)))
        });
    }
    parts.bench_function("unitized alpha per code", |b| {
        b.iter(|| study.unitized_agreement())
    });
    parts.bench_function("discrepancy lists", |b| {
        b.iter(|| study.discrepancies(black_box(Ratio::default())))
    });
    parts.finish();

    c.bench_function("unit boundaries of 18 transcripts", |b| {
        b.iter(|| scan(black_box(&transcripts)))
    });
    c.bench_function("project report, all levels, from the texts", |b| {
        b.iter(|| {
            let units = scan(black_box(&transcripts));
            project_report(black_box(&codes), &units, black_box(&transcripts))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
