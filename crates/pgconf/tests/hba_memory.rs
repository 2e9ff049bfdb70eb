//! What reading and editing a large pg_hba.conf costs in memory: no parsed copy of the lines
//! is kept, and an edit allocates a few times, not once per line. (One test: the allocator's
//! counters are the whole process's.)

use pgconf::hba::{Format, HbaFile, Position, Rule, RuleKey};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        LIVE.fetch_add(layout.size(), Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations and change of live bytes while `f` runs.
fn cost<T>(f: impl FnOnce() -> T) -> (T, usize, isize) {
    let (a, l) = (ALLOCATIONS.load(Relaxed), LIVE.load(Relaxed));
    let out = f();
    (out, ALLOCATIONS.load(Relaxed) - a, LIVE.load(Relaxed) as isize - l as isize)
}

#[test]
fn a_large_file_costs_its_text_and_a_few_words_a_line() {
    const N: usize = 10_000;
    let mut text = String::from("# big pg_hba.conf\n");
    for i in 0..N {
        text.push_str(&format!(
            "host    db{i}    user{i}    10.{}.{}.{}/32    scram-sha-256\n",
            i / 65536 % 256,
            i / 256 % 256,
            i % 256
        ));
    }
    let (mut file, allocations, live) = cost(|| HbaFile::parse_borrowed(&text, Format::PgHba));
    // The line index grows by doubling; the text stays where it is.
    assert!(allocations < 40, "reading allocated {allocations} times");
    assert!(live <= (64 * N) as isize, "reading kept {live} bytes");
    let (issues, allocations, _) = cost(|| file.issues());
    assert!(issues.is_empty() && allocations == 0);

    let new = Rule::parse("host new new 10.9.9.9/32 md5", Format::PgHba).unwrap();
    let (change, allocations, live) = cost(|| file.upsert(&new, Position::End));
    assert!(change.is_ok_and(|c| c.is_changed()));
    assert!(allocations < 200, "adding a rule allocated {allocations} times");
    assert!(live < (40 * N) as isize, "adding a rule kept {live} bytes");

    let old = Rule::parse("host db5000 user5000 10.0.19.136/32 md5", Format::PgHba).unwrap();
    let (change, allocations, _) = cost(|| file.upsert(&old, Position::End));
    assert!(change.is_ok_and(|c| c.is_changed()));
    assert!(allocations < 200, "updating a rule allocated {allocations} times");

    let keys = [new.key(), old.key()];
    let (found, allocations, _) = cost(|| file.rules_matching(&keys).map(|(n, _)| n).collect::<Vec<_>>());
    assert_eq!(found, [5002, N + 2]);
    assert!(allocations < 50, "finding two rules allocated {allocations} times");

    let key = RuleKey::parse("host db7 user7 10.0.0.7/32", Format::PgHba).unwrap();
    let (change, allocations, _) = cost(|| file.remove(&key));
    assert!(change.is_changed());
    assert!(allocations < 50, "removing a rule allocated {allocations} times");
    assert_eq!(file.pieces().collect::<String>(), file.to_string());
}
