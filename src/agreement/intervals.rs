//! Interval arithmetic shared by the unit statistics and the unitized coefficients.

/// Appends `range` to `out`, a list sorted by start, merging it with the last range when
/// they overlap or touch (units are counted as a set, so adjacency does not matter here).
pub(crate) fn push_merged(out: &mut Vec<(u32, u32)>, range: (u32, u32)) {
    match out.last_mut() {
        Some(last) if range.0 <= last.1 => last.1 = last.1.max(range.1),
        _ => out.push(range),
    }
}

pub(crate) fn covered(ranges: &[(u32, u32)]) -> u64 {
    ranges
        .iter()
        .map(|&(start, end)| u64::from(end - start))
        .sum()
}

/// Length of the intersection of two lists of sorted, disjoint ranges.
pub(crate) fn intersection(first: &[(u32, u32)], second: &[(u32, u32)]) -> u64 {
    let (mut i, mut j, mut total) = (0, 0, 0);
    while let (Some(&(a_start, a_end)), Some(&(b_start, b_end))) = (first.get(i), second.get(j)) {
        let (start, end) = (a_start.max(b_start), a_end.min(b_end));
        if start < end {
            total += u64::from(end - start);
        }
        if a_end <= b_end {
            i += 1;
        } else {
            j += 1;
        }
    }
    total
}

/// For lists of sorted, disjoint ranges, adds to `hist[k]` (k ≥ 1) the length covered by
/// exactly `k` of the lists. `events` is scratch space kept by the caller across calls.
pub(crate) fn coverage(lists: &[&[(u32, u32)]], events: &mut Vec<(u32, i32)>, hist: &mut [u64]) {
    events.clear();
    for list in lists {
        for &(start, end) in *list {
            events.push((start, 1));
            events.push((end, -1));
        }
    }
    events.sort_unstable();
    let mut depth: i32 = 0;
    let mut previous = 0;
    for &(position, delta) in events.iter() {
        if depth > 0 {
            hist[depth.unsigned_abs() as usize] += u64::from(position - previous);
        }
        depth += delta;
        previous = position;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_counts_each_depth_once() {
        let a = [(0, 10), (20, 30)];
        let b = [(5, 25)];
        let c = [(8, 9)];
        let mut hist = [0; 4];
        coverage(&[&a, &b, &c], &mut Vec::new(), &mut hist);
        // depth 1: [0,5) [10,20) [25,30) = 20; depth 2: [5,8) [9,10) [20,25) = 9; depth 3: [8,9).
        assert_eq!(hist, [0, 20, 9, 1]);
        assert_eq!(intersection(&a, &b), 10);
        assert_eq!(intersection(&a, &c), 1);
        assert_eq!(intersection(&[], &b), 0);
    }

    #[test]
    fn touching_ranges_merge_for_counting() {
        let mut out = Vec::new();
        for range in [(0, 2), (2, 4), (6, 7), (6, 9)] {
            push_merged(&mut out, range);
        }
        assert_eq!(out, [(0, 4), (6, 9)]);
        assert_eq!(covered(&out), 7);
    }
}
