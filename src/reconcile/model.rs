//! What a decision does to the consensus layer, as pure functions: the kinds of
//! decision, which discrepancies each applies to, the spans it produces, and the
//! stable name of a discrepancy.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::ids::CodingId;

/// The lead's resolution of one discrepancy (DESIGN.md "decision").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    AcceptA,
    AcceptB,
    Both,
    Union,
    Intersection,
    Relabel,
    Reject,
    /// Takes the current decision back: the discrepancy is open again.
    Undo,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 8] = [
        Self::AcceptA,
        Self::AcceptB,
        Self::Both,
        Self::Union,
        Self::Intersection,
        Self::Relabel,
        Self::Reject,
        Self::Undo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcceptA => "accept_a",
            Self::AcceptB => "accept_b",
            Self::Both => "both",
            Self::Union => "union",
            Self::Intersection => "intersection",
            Self::Relabel => "relabel",
            Self::Reject => "reject",
            Self::Undo => "undo",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == input)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::AcceptA => "Accept A",
            Self::AcceptB => "Accept B",
            Self::Both => "Keep both",
            Self::Union => "Union",
            Self::Intersection => "Intersection",
            Self::Relabel => "Relabel",
            Self::Reject => "Reject",
            Self::Undo => "Undo",
        }
    }

    /// Relabel and reject may need a reason (a project setting).
    pub fn may_require_rationale(self) -> bool {
        matches!(self, Self::Relabel | Self::Reject)
    }
}

/// One coder's side of a discrepancy: their (united) segment under an agreed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// The agreed code (or, in a shared codebook, the shared code).
    pub code_id: uuid::Uuid,
    pub code_name: String,
    pub start: u32,
    pub end: u32,
    pub codings: Vec<CodingId>,
}

/// A discrepancy as the reconciliation sees it, and as a decision records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// agreement, boundary, different_code, partial_overlap, only_a or only_b.
    pub kind: String,
    pub coder_a: crate::db::ids::UserId,
    pub coder_b: crate::db::ids::UserId,
    pub a: Option<Side>,
    pub b: Option<Side>,
}

/// A span of the consensus layer a decision makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Produced {
    pub code_id: uuid::Uuid,
    pub start: u32,
    pub end: u32,
}

/// Why a decision cannot apply to a discrepancy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NoSideA,
    NoSideB,
    OneSided,
    NoIntersection,
    CodeNeeded,
}

impl Refusal {
    pub fn message(&self) -> &'static str {
        match self {
            Self::NoSideA => "Coder A coded nothing here: there is nothing to accept from A.",
            Self::NoSideB => "Coder B coded nothing here: there is nothing to accept from B.",
            Self::OneSided => "Only one coder coded this span: accept it, relabel or reject it.",
            Self::NoIntersection => "The two spans do not overlap: there is no intersection.",
            Self::CodeNeeded => {
                "The coders used different codes: choose the code for the new span (relabel)."
            }
        }
    }
}

/// The name of a discrepancy: a hash of the coder codings it is made of. It
/// stays the same as long as the same codings form it: a decision stays in
/// force when the alignment changes the discrepancy's kind (say, two codes
/// aligned onto one turn a different-code discrepancy into an agreement), and
/// is left apart when the codings regroup (a coding deleted, or segments united).
pub fn discrepancy_key(a: &[CodingId], b: &[CodingId]) -> String {
    let mut ids: Vec<&CodingId> = a.iter().chain(b).collect();
    ids.sort();
    ids.dedup();
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.0.as_bytes());
    }
    let digest = hasher.finalize();
    // Hex by hand: a `format!` per byte was a tenth of a decision's time.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(32);
    for b in &digest[..16] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    key
}

/// Whether a decision taken on the discrepancy `decided` still decides it as
/// it is `now`: the same coders in the same places, and on each side the same
/// codings, span and agreed code (`follow` maps a code merged away onto the
/// code it went into, so merging codes does not undo decisions). A decision
/// that no longer decides its discrepancy is outdated: the discrepancy is open
/// again, with the outdated decision shown beside it.
pub fn still_decides(
    decided: &Snapshot,
    now: &Snapshot,
    follow: impl Fn(uuid::Uuid) -> uuid::Uuid,
) -> bool {
    let codings = |s: &Side| {
        let mut ids = s.codings.clone();
        ids.sort();
        ids
    };
    let same = |x: &Option<Side>, y: &Option<Side>| match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => {
            follow(x.code_id) == follow(y.code_id)
                && x.start == y.start
                && x.end == y.end
                && codings(x) == codings(y)
        }
        _ => false,
    };
    decided.coder_a == now.coder_a
        && decided.coder_b == now.coder_b
        && same(&decided.a, &now.a)
        && same(&decided.b, &now.b)
}

/// The consensus spans decision `kind` makes of discrepancy `d`. `code` is the
/// chosen agreed code for a relabel (required then) and may pick the code of a
/// union or intersection of two differently coded spans.
pub fn produce(
    d: &Snapshot,
    kind: DecisionKind,
    code: Option<uuid::Uuid>,
) -> Result<Vec<Produced>, Refusal> {
    let of = |s: &Side| Produced {
        code_id: s.code_id,
        start: s.start,
        end: s.end,
    };
    let both_sides = || match (&d.a, &d.b) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(Refusal::OneSided),
    };
    let merged_code = |a: &Side, b: &Side| match code {
        Some(code) => Ok(code),
        None if a.code_id == b.code_id => Ok(a.code_id),
        None => Err(Refusal::CodeNeeded),
    };
    match kind {
        DecisionKind::AcceptA => d.a.as_ref().map(|a| vec![of(a)]).ok_or(Refusal::NoSideA),
        DecisionKind::AcceptB => d.b.as_ref().map(|b| vec![of(b)]).ok_or(Refusal::NoSideB),
        DecisionKind::Both => {
            let (a, b) = both_sides()?;
            if a.code_id == b.code_id && a.start == b.start && a.end == b.end {
                Ok(vec![of(a)])
            } else {
                Ok(vec![of(a), of(b)])
            }
        }
        DecisionKind::Union => {
            let (a, b) = both_sides()?;
            Ok(vec![Produced {
                code_id: merged_code(a, b)?,
                start: a.start.min(b.start),
                end: a.end.max(b.end),
            }])
        }
        DecisionKind::Intersection => {
            let (a, b) = both_sides()?;
            let (start, end) = (a.start.max(b.start), a.end.min(b.end));
            if start >= end {
                return Err(Refusal::NoIntersection);
            }
            Ok(vec![Produced {
                code_id: merged_code(a, b)?,
                start,
                end,
            }])
        }
        DecisionKind::Relabel => {
            let code = code.ok_or(Refusal::CodeNeeded)?;
            let sides: Vec<&Side> = d.a.iter().chain(d.b.iter()).collect();
            let start = sides.iter().map(|s| s.start).min().unwrap_or(0);
            let end = sides.iter().map(|s| s.end).max().unwrap_or(0);
            Ok(vec![Produced {
                code_id: code,
                start,
                end,
            }])
        }
        DecisionKind::Reject | DecisionKind::Undo => Ok(Vec::new()),
    }
}

/// The decisions offered for a kind of discrepancy, in button order.
pub fn offered(d: &Snapshot) -> Vec<DecisionKind> {
    use DecisionKind::*;
    match (&d.a, &d.b) {
        (Some(a), Some(b)) => {
            let mut kinds = vec![AcceptA, AcceptB, Both, Union];
            if a.start.max(b.start) < a.end.min(b.end) {
                kinds.push(Intersection);
            }
            kinds.extend([Relabel, Reject]);
            kinds
        }
        (Some(_), None) => vec![AcceptA, Relabel, Reject],
        (None, Some(_)) => vec![AcceptB, Relabel, Reject],
        (None, None) => vec![Reject],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ids::UserId;

    fn side(code: u128, start: u32, end: u32) -> Side {
        Side {
            code_id: uuid::Uuid::from_u128(code),
            code_name: format!("code {code}"),
            start,
            end,
            codings: vec![CodingId::new()],
        }
    }

    fn pair(a: Option<Side>, b: Option<Side>) -> Snapshot {
        Snapshot {
            kind: "boundary".into(),
            coder_a: UserId::new(),
            coder_b: UserId::new(),
            a,
            b,
        }
    }

    fn spans(out: Vec<Produced>) -> Vec<(u128, u32, u32)> {
        out.into_iter()
            .map(|p| (p.code_id.as_u128(), p.start, p.end))
            .collect()
    }

    #[test]
    fn each_kind_makes_its_spans() {
        let d = pair(Some(side(1, 10, 30)), Some(side(1, 20, 40)));
        let run = |kind| spans(produce(&d, kind, None).unwrap());
        assert_eq!(run(DecisionKind::AcceptA), [(1, 10, 30)]);
        assert_eq!(run(DecisionKind::AcceptB), [(1, 20, 40)]);
        assert_eq!(run(DecisionKind::Both), [(1, 10, 30), (1, 20, 40)]);
        assert_eq!(run(DecisionKind::Union), [(1, 10, 40)]);
        assert_eq!(run(DecisionKind::Intersection), [(1, 20, 30)]);
        assert_eq!(run(DecisionKind::Reject), []);
        assert_eq!(run(DecisionKind::Undo), []);
        let other = uuid::Uuid::from_u128(9);
        assert_eq!(
            spans(produce(&d, DecisionKind::Relabel, Some(other)).unwrap()),
            [(9, 10, 40)]
        );
        assert_eq!(
            produce(&d, DecisionKind::Relabel, None),
            Err(Refusal::CodeNeeded)
        );
    }

    #[test]
    fn two_codes_need_a_choice_to_be_merged() {
        let d = pair(Some(side(1, 10, 30)), Some(side(2, 12, 30)));
        assert_eq!(
            produce(&d, DecisionKind::Union, None),
            Err(Refusal::CodeNeeded)
        );
        let chosen = uuid::Uuid::from_u128(2);
        assert_eq!(
            spans(produce(&d, DecisionKind::Union, Some(chosen)).unwrap()),
            [(2, 10, 30)]
        );
        assert_eq!(
            spans(produce(&d, DecisionKind::Both, None).unwrap()),
            [(1, 10, 30), (2, 12, 30)]
        );
    }

    #[test]
    fn one_sided_discrepancies_offer_accept_relabel_and_reject() {
        let only_a = pair(Some(side(1, 0, 5)), None);
        assert_eq!(
            offered(&only_a),
            [
                DecisionKind::AcceptA,
                DecisionKind::Relabel,
                DecisionKind::Reject
            ]
        );
        assert_eq!(
            produce(&only_a, DecisionKind::AcceptB, None),
            Err(Refusal::NoSideB)
        );
        assert_eq!(
            produce(&only_a, DecisionKind::Union, None),
            Err(Refusal::OneSided)
        );
        let only_b = pair(None, Some(side(1, 0, 5)));
        assert_eq!(
            spans(produce(&only_b, DecisionKind::AcceptB, None).unwrap()),
            [(1, 0, 5)]
        );
    }

    #[test]
    fn disjoint_spans_have_no_intersection() {
        let d = pair(Some(side(1, 0, 5)), Some(side(1, 5, 9)));
        assert!(!offered(&d).contains(&DecisionKind::Intersection));
        assert_eq!(
            produce(&d, DecisionKind::Intersection, None),
            Err(Refusal::NoIntersection)
        );
    }

    #[test]
    fn identical_spans_kept_both_are_one_span() {
        let d = pair(Some(side(1, 3, 8)), Some(side(1, 3, 8)));
        assert_eq!(
            spans(produce(&d, DecisionKind::Both, None).unwrap()),
            [(1, 3, 8)]
        );
    }

    #[test]
    fn a_decision_stays_in_force_only_on_the_discrepancy_it_decided() {
        let decided = pair(None, Some(side(7, 10, 20)));
        let ident = |u: uuid::Uuid| u;
        let with_b = |f: &dyn Fn(&mut Side)| {
            let mut s = decided.clone();
            f(s.b.as_mut().unwrap());
            s
        };
        assert!(still_decides(&decided, &decided.clone(), ident));
        // The code re-aligned onto another agreed code: outdated...
        let realigned = with_b(&|b| b.code_id = uuid::Uuid::from_u128(8));
        assert!(!still_decides(&decided, &realigned, ident));
        // ... unless the old code was merged into the new one.
        let merged = |u: uuid::Uuid| {
            if u == uuid::Uuid::from_u128(7) {
                uuid::Uuid::from_u128(8)
            } else {
                u
            }
        };
        assert!(still_decides(&decided, &realigned, merged));
        // Other boundaries, another coding, or the other coder coding there too.
        assert!(!still_decides(&decided, &with_b(&|b| b.end = 21), ident));
        assert!(!still_decides(
            &decided,
            &with_b(&|b| b.codings.push(CodingId::new())),
            ident
        ));
        let mut both = decided.clone();
        both.a = decided.b.clone();
        assert!(!still_decides(&decided, &both, ident));
        let mut swapped = decided.clone();
        std::mem::swap(&mut swapped.coder_a, &mut swapped.coder_b);
        assert!(!still_decides(&decided, &swapped, ident));
        // A code renamed, or the codings listed in another order: still in force.
        assert!(still_decides(
            &decided,
            &with_b(&|b| b.code_name = "Renamed".into()),
            ident
        ));
        let two = with_b(&|b| b.codings.push(CodingId::new()));
        let reordered = {
            let mut s = two.clone();
            s.b.as_mut().unwrap().codings.reverse();
            s
        };
        assert!(still_decides(&two, &reordered, ident));
    }

    #[test]
    fn a_key_names_the_codings_in_any_order() {
        let (x, y, z) = (CodingId::new(), CodingId::new(), CodingId::new());
        let key = discrepancy_key(&[x, y], &[z]);
        assert_eq!(key.len(), 32);
        assert_eq!(key, discrepancy_key(&[z], &[y, x]));
        assert_ne!(key, discrepancy_key(&[x], &[z]));
        // Keys are stored with decisions: the first 16 bytes of the SHA-256 of
        // the sorted ids, in lowercase hex, as they have always been written.
        let mut ids = [x, y, z];
        ids.sort();
        let mut hasher = Sha256::new();
        for id in ids {
            hasher.update(id.0.as_bytes());
        }
        let stored: String = hasher.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(key, stored);
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in DecisionKind::ALL {
            assert_eq!(DecisionKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(DecisionKind::parse("maybe"), None);
    }
}
