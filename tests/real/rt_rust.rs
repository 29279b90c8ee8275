// A Rust program for the real-program suite (tests/real/run_case.py, case rust):
// std::thread workers filling a HashMap cache behind a Mutex, formatted strings,
// and a panic caught with catch_unwind. Its output is deterministic.
use std::panic;
use std::sync::{Arc, Mutex};
use std::thread;

mod cache {
    use std::collections::HashMap;

    pub struct Cache {
        map: HashMap<u64, Vec<u8>>,
    }

    impl Cache {
        pub fn new() -> Self {
            Cache { map: HashMap::new() }
        }

        #[inline(never)]
        pub fn insert(&mut self, key: u64, len: usize) {
            self.map.insert(key, vec![(key % 251) as u8; len]);
        }

        pub fn total(&self) -> usize {
            self.map.values().map(|v| v.len()).sum()
        }

        pub fn len(&self) -> usize {
            self.map.len()
        }
    }
}

mod work {
    #[inline(never)]
    pub fn build_strings(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("item-{}", i)).collect()
    }
}

fn main() {
    let cache = Arc::new(Mutex::new(cache::Cache::new()));
    let handles: Vec<_> = (0..4u64)
        .map(|t| {
            let c = Arc::clone(&cache);
            thread::spawn(move || {
                for i in 0..2000u64 {
                    c.lock().unwrap().insert(t * 10000 + i, 64 + (i % 64) as usize);
                }
                work::build_strings(1000).len()
            })
        })
        .collect();
    let strings: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(|| {
        let v: Vec<u32> = Vec::with_capacity(10);
        if v.capacity() >= 10 {
            panic!("expected panic");
        }
    })
    .is_err();
    let c = cache.lock().unwrap();
    println!("entries={} bytes={} strings={} caught={}", c.len(), c.total(), strings, caught);
}
