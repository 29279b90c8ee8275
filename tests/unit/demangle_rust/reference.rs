// The reference demangler for gen.sh: each symbol of stdin printed as Debian's
// rustc-demangle crate prints it in its alternate format ({:#}: no hash, no crate
// disambiguators), without the vendor suffix (`.llvm.123`, `.0`) that heapprof drops;
// "-" when rustc-demangle rejects it or prints an error inside the name.
use std::io::{BufRead, Write};

// The symbol without what follows its mangled name: for v0 a `.` or `$`, which the
// grammar never uses; for legacy, what follows the `E` closing the length-prefixed
// elements.
fn strip_suffix(s: &str) -> &str {
    if s.starts_with("_R") {
        return &s[..s.find(|c| c == '.' || c == '$').unwrap_or(s.len())];
    }
    let b = s.as_bytes();
    let mut i = 3;
    while i < b.len() && b[i].is_ascii_digit() {
        let mut n = 0usize;
        while i < b.len() && b[i].is_ascii_digit() {
            n = n.saturating_mul(10).saturating_add((b[i] - b'0') as usize);
            i += 1;
        }
        i = i.saturating_add(n);
    }
    if s.starts_with("_ZN") && i < b.len() && b[i] == b'E' {
        &s[..i + 1]
    } else {
        s
    }
}

fn main() {
    let out = std::io::stdout();
    let mut out = out.lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let text = match rustc_demangle::try_demangle(strip_suffix(&line)) {
            Ok(d) => format!("{:#}", d),
            Err(_) => String::from("-"),
        };
        let bad = text.contains("{invalid syntax}")
            || text.contains("{recursion limit reached}")
            || text.contains("{size limit reached}");
        writeln!(out, "{}", if bad { "-" } else { &text }).unwrap();
    }
}
