//! Dropping a pool releases its memory: no mapping of it is left in /proc/self/maps.
//! (Alone in its test binary, so no other test maps memory meanwhile.)

use uadk_pool::{PageKind, PoolBuilder};

fn mappings_overlapping(r: &std::ops::Range<usize>) -> Vec<String> {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .filter(|l| {
            let range = l.split_whitespace().next().unwrap();
            let (a, b) = range.split_once('-').unwrap();
            let (a, b) = (
                usize::from_str_radix(a, 16).unwrap(),
                usize::from_str_radix(b, 16).unwrap(),
            );
            a < r.end && r.start < b
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn drop_unmaps_everything() {
    for kind in [PageKind::Normal, PageKind::Thp, PageKind::Auto] {
        let pool = PoolBuilder::new(64 << 10)
            .chunks(64)
            .pages(kind)
            .fallback(true)
            .build()
            .unwrap();
        let r = pool.region();
        assert!(!mappings_overlapping(&r).is_empty());
        let chunks: Vec<_> = std::iter::from_fn(|| pool.try_alloc()).take(10).collect();
        drop(chunks);
        drop(pool);
        assert_eq!(
            mappings_overlapping(&r),
            Vec::<String>::new(),
            "{kind}: memory left mapped"
        );
    }
}
