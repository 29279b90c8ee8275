/* Rust symbol names made readable: the legacy mangling (`_ZN...17h<hash>E`) and v0
 * (`_R...`, RFC 2603), printed as rustc-demangle's alternate format (`{:#}`) does: no
 * hash suffix, no crate disambiguators, no instantiating crate, no `.llvm.*` or other
 * vendor suffix. Symbol names come from the profiled program's ELF files, so they are
 * untrusted: any input is rejected or decoded within fixed bounds of recursion, work and
 * output, never read past its terminating NUL. */
#ifndef HP_DEMANGLE_RUST_H
#define HP_DEMANGLE_RUST_H

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the readable name of `sym` in a new malloc'd string, e.g.
 * `_ZN7mycrate6module8function17h0123456789abcdefE` -> `mycrate::module::function` and
 * `_RINvCs1234_7mycrate7genericmE` -> `mycrate::generic::<u32>`. Returns NULL with errno
 * EINVAL when `sym` is not a Rust symbol (a `_ZN` name without the `h` + 16 hex digits
 * last component, a C++ name with anything but a `.suffix` after its `E`), is malformed,
 * or would nest, expand or print past the limits; with ENOMEM when out of memory. The
 * caller then falls back to the C++ demangler or the raw name.
 * Thread-safe (no global state); not async-signal-safe (allocates). */
char *hp_demangle_rust(const char *sym);

#ifdef __cplusplus
}
#endif

#endif
