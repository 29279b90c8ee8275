/* Rust demangling (see demangle_rust.h).
 *
 * v0 is decoded in one recursive-descent pass that prints as it parses; an impl's own
 * path (the `M`/`X` prefix) is parsed with printing off, and a backref is followed only
 * while printing, since its target was parsed where it first stood. Bounds, each of
 * which rejects the name: MAX_DEPTH nested productions (a backref counts as one, so a
 * backref that leads back to itself ends there), MAX_STEPS productions visited in all
 * (backrefs can make the name exponentially longer than the symbol, and some productions
 * print nothing), MAX_OUT bytes of output. Every read checks the symbol's length.
 *
 * Legacy names are the Itanium `_ZN <len><element>... E` form whose last element is the
 * hash; elements escape what a C++ identifier cannot hold (`$LT$`, `$u7b$`, `..`). */
#include "demangle_rust.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* rustc-demangle allows 500; real symbols stay far below 100, and each level costs
 * a few C frames of stack. */
#define MAX_DEPTH 256
#define MAX_STEPS (1u << 20)
/* A name this long is unreadable in a report; the caller falls back to the raw symbol. */
#define MAX_OUT (1u << 18)
/* rustc-demangle decodes punycode identifiers of up to 128 characters (longer ones it
 * prints encoded, as `punycode{...}`); the same limit gives the same output. */
#define MAX_PUNYCODE_CHARS 128

struct out {
	char *buf;
	size_t len, cap;
	int full;  /* past MAX_OUT */
	int nomem; /* an allocation failed */
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->nomem)
		return;
	if (n > MAX_OUT - o->len) {
		o->full = 1;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 128;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *buf = realloc(o->buf, cap);
		if (!buf) {
			o->nomem = 1;
			return;
		}
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_utf8(struct out *o, uint32_t c)
{
	char b[4];
	size_t n;
	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (char)(0x80 | (c >> 6 & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	put(o, b, n);
}

static void put_u64(struct out *o, uint64_t v, unsigned base)
{
	char b[24];
	size_t i = sizeof(b);
	do {
		b[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	put(o, b + i, sizeof(b) - i);
}

/* Returns the string built, or NULL with errno set (and it freed) when the parse failed,
 * the output overflowed or was empty: an empty name says nothing, the symbol does. */
static char *out_finish(struct out *o, int ok)
{
	if (!ok || o->full || o->nomem || !o->len) {
		free(o->buf);
		errno = o->nomem ? ENOMEM : EINVAL;
		return NULL;
	}
	return o->buf;
}

static int is_unicode_scalar(uint64_t c)
{
	return c <= 0x10ffff && (c < 0xd800 || c > 0xdfff);
}

/* Unicode's Cc category, which rustc-demangle refuses in legacy `$u..$` escapes. */
static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* ---- legacy ---- */

static const struct {
	const char *code, *text;
} legacy_escapes[] = {
    {"SP", "@"}, {"BP", "*"}, {"RF", "&"}, {"LT", "<"},
    {"GT", ">"}, {"LP", "("}, {"RP", ")"}, {"C", ","},
};

/* `$u<hex>$` with lowercase hex digits naming a non-control scalar value, else -1. */
static int64_t legacy_unicode_escape(const char *code, size_t n)
{
	uint64_t c = 0;
	if (n < 2 || code[0] != 'u')
		return -1;
	for (size_t i = 1; i < n; i++) {
		char h = code[i];
		if (h >= '0' && h <= '9')
			c = c << 4 | (uint64_t)(h - '0');
		else if (h >= 'a' && h <= 'f')
			c = c << 4 | (uint64_t)(h - 'a' + 10);
		else
			return -1;
		if (c > UINT32_MAX)
			return -1;
	}
	if (!is_unicode_scalar(c) || is_control((uint32_t)c))
		return -1;
	return (int64_t)c;
}

/* One element, unescaped. An escape that is not understood ends the decoding: the rest
 * of the element is printed as it is (what rustc-demangle does). */
static void legacy_element(struct out *o, const char *s, size_t n)
{
	if (n >= 2 && s[0] == '_' && s[1] == '$') {
		s++;
		n--;
	}
	while (n) {
		if (s[0] == '.') {
			size_t k = n >= 2 && s[1] == '.' ? 2 : 1;
			put_str(o, k == 2 ? "::" : ".");
			s += k;
			n -= k;
		} else if (s[0] == '$') {
			const char *end = memchr(s + 1, '$', n - 1);
			if (!end)
				break;
			const char *code = s + 1;
			size_t code_len = (size_t)(end - code), i;
			for (i = 0; i < sizeof(legacy_escapes) / sizeof(legacy_escapes[0]); i++) {
				if (strlen(legacy_escapes[i].code) == code_len &&
				    memcmp(legacy_escapes[i].code, code, code_len) == 0)
					break;
			}
			if (i < sizeof(legacy_escapes) / sizeof(legacy_escapes[0])) {
				put_str(o, legacy_escapes[i].text);
			} else {
				int64_t c = legacy_unicode_escape(code, code_len);
				if (c < 0)
					break;
				put_utf8(o, (uint32_t)c);
			}
			n -= (size_t)(end + 1 - s);
			s = end + 1;
		} else {
			size_t i = 1;
			while (i < n && s[i] != '$' && s[i] != '.')
				i++;
			if (i == n)
				break;
			put(o, s, i);
			s += i;
			n -= i;
		}
	}
	put(o, s, n);
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A vendor suffix such as `.llvm.1234` or `.cold.0`: printable ASCII without blanks. */
static int is_vendor_suffix(const char *s)
{
	if (*s != '.' && *s != '$')
		return 0;
	for (; *s; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return 0;
	}
	return 1;
}

/* Reads an element's decimal length at *p; -1 when there is none or it overflows. */
static int legacy_length(const char **p, size_t *len)
{
	const char *s = *p;
	size_t n = 0;
	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (SIZE_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*p = s;
	*len = n;
	return 0;
}

/* `body` follows "_ZN". */
static char *demangle_legacy(const char *body)
{
	const char *p = body, *end = body + strlen(body), *last = NULL;
	size_t last_len = 0, elements = 0, len = 0;
	for (const char *s = body; *s; s++) {
		if (*s & 0x80)
			goto not_rust;
	}
	while (*p != 'E') {
		if (legacy_length(&p, &len) < 0 || len > (size_t)(end - p))
			goto not_rust;
		last = p;
		last_len = len;
		p += len;
		elements++;
	}
	if (p[1] && !is_vendor_suffix(p + 1))
		goto not_rust;
	/* The hash tells Rust from C++; a lone hash has no name to show. */
	if (elements < 2 || last_len != 17 || last[0] != 'h')
		goto not_rust;
	for (size_t i = 1; i < 17; i++) {
		if (!is_hex(last[i]))
			goto not_rust;
	}

	struct out o = {0};
	p = body;
	for (size_t i = 0; i + 1 < elements; i++) {
		legacy_length(&p, &len);
		if (i)
			put_str(&o, "::");
		legacy_element(&o, p, len);
		p += len;
	}
	return out_finish(&o, 1);

not_rust:
	errno = EINVAL;
	return NULL;
}

/* ---- v0 ---- */

struct v0 {
	const char *sym; /* what follows "_R" */
	size_t len, pos;
	unsigned depth, steps;
	int printing;		  /* 0 while parsing what is never printed */
	uint64_t bound_lifetimes; /* lifetimes bound by the enclosing for<...> binders */
	struct out out;
};

struct ident {
	const char *ascii, *puny; /* puny_len 0: a plain identifier */
	size_t ascii_len, puny_len;
};

static int peek(const struct v0 *d)
{
	return d->pos < d->len ? (unsigned char)d->sym[d->pos] : -1;
}

static int eat(struct v0 *d, int c)
{
	if (peek(d) != c)
		return 0;
	d->pos++;
	return 1;
}

static int next(struct v0 *d)
{
	int c = peek(d);
	if (c >= 0)
		d->pos++;
	return c;
}

static int is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static void print(struct v0 *d, const char *s)
{
	if (d->printing)
		put_str(&d->out, s);
}

static void print_n(struct v0 *d, const char *s, size_t n)
{
	if (d->printing)
		put(&d->out, s, n);
}

static void print_u64(struct v0 *d, uint64_t v)
{
	if (d->printing)
		put_u64(&d->out, v, 10);
}

/* Every production goes through here: it is where depth and work are bounded, and where
 * a full output stops the parse early. */
static int enter(struct v0 *d)
{
	if (++d->depth > MAX_DEPTH || ++d->steps > MAX_STEPS || d->out.full || d->out.nomem)
		return -1;
	return 0;
}

static void leave(struct v0 *d)
{
	d->depth--;
}

/* <base-62-number> = {<0-9a-zA-Z>} "_": "_" is 0, otherwise the digits' value + 1. */
static int base62(struct v0 *d, uint64_t *v)
{
	uint64_t x = 0;
	int c;
	if (eat(d, '_')) {
		*v = 0;
		return 0;
	}
	while ((c = next(d)) != '_') {
		unsigned digit;
		if (c >= '0' && c <= '9')
			digit = (unsigned)(c - '0');
		else if (is_lower(c))
			digit = (unsigned)(c - 'a' + 10);
		else if (is_upper(c))
			digit = (unsigned)(c - 'A' + 36);
		else
			return -1;
		if (x > (UINT64_MAX - digit) / 62)
			return -1;
		x = x * 62 + digit;
	}
	if (x == UINT64_MAX)
		return -1;
	*v = x + 1;
	return 0;
}

/* [<tag> <base-62-number>]: 0 when absent, else the number + 1. */
static int opt_base62(struct v0 *d, int tag, uint64_t *v)
{
	*v = 0;
	if (!eat(d, tag))
		return 0;
	if (base62(d, v) < 0 || *v == UINT64_MAX)
		return -1;
	++*v;
	return 0;
}

/* <identifier> without its disambiguator: ["u"] <decimal> ["_"] <bytes>; with "u" the
 * bytes are punycode, "_" (not "-") separating the ASCII part from the deltas. */
static int parse_ident(struct v0 *d, struct ident *id)
{
	int puny = eat(d, 'u'), c = peek(d);
	size_t n;
	if (c < '0' || c > '9')
		return -1;
	d->pos++;
	n = (size_t)(c - '0');
	if (n) {
		while ((c = peek(d)) >= '0' && c <= '9') {
			if (n > (SIZE_MAX - (size_t)(c - '0')) / 10)
				return -1;
			n = n * 10 + (size_t)(c - '0');
			d->pos++;
		}
	}
	eat(d, '_');
	if (n > d->len - d->pos)
		return -1;
	const char *s = d->sym + d->pos;
	d->pos += n;
	memset(id, 0, sizeof(*id));
	if (!puny) {
		id->ascii = s;
		id->ascii_len = n;
		return 0;
	}
	size_t sep = n;
	while (sep && s[sep - 1] != '_')
		sep--;
	id->ascii = s;
	id->ascii_len = sep ? sep - 1 : 0;
	id->puny = s + sep;
	id->puny_len = n - sep;
	return id->puny_len ? 0 : -1;
}

/* RFC 3492 decoding into `cps`; -1 on malformed input, overflow, a non-scalar value or
 * more than MAX_PUNYCODE_CHARS characters. */
static int punycode_decode(const struct ident *id, uint32_t *cps, size_t *count)
{
	enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38 };
	const char *p = id->puny, *end = id->puny + id->puny_len;
	size_t len = 0, i = 0, n = 0x80, bias = 72, damp = 700;
	if (id->ascii_len > MAX_PUNYCODE_CHARS)
		return -1;
	for (; len < id->ascii_len; len++)
		cps[len] = (unsigned char)id->ascii[len];
	for (;;) {
		size_t delta = 0, w = 1, k = 0, t;
		for (;;) {
			size_t digit;
			k += BASE;
			t = k <= bias ? TMIN : k - bias;
			t = t < TMIN ? TMIN : t > TMAX ? TMAX : t;
			if (p == end)
				return -1;
			if (is_lower(*p))
				digit = (size_t)(*p - 'a');
			else if (*p >= '0' && *p <= '9')
				digit = (size_t)(*p - '0') + 26;
			else
				return -1;
			p++;
			if (digit > (SIZE_MAX - delta) / w)
				return -1;
			delta += digit * w;
			if (digit < t)
				break;
			if (w > SIZE_MAX / (BASE - t))
				return -1;
			w *= BASE - t;
		}
		len++;
		if (delta > SIZE_MAX - i)
			return -1;
		i += delta;
		if (i / len > SIZE_MAX - n)
			return -1;
		n += i / len;
		i %= len;
		if (!is_unicode_scalar(n) || len > MAX_PUNYCODE_CHARS)
			return -1;
		memmove(cps + i + 1, cps + i, (len - 1 - i) * sizeof(*cps));
		cps[i++] = (uint32_t)n;
		if (p == end)
			break;
		delta /= damp;
		damp = 2;
		delta += delta / len;
		for (k = 0; delta > ((BASE - TMIN) * TMAX) / 2; k += BASE)
			delta /= BASE - TMIN;
		bias = k + ((BASE - TMIN + 1) * delta) / (delta + SKEW);
	}
	*count = len;
	return 0;
}

static void print_ident(struct v0 *d, const struct ident *id)
{
	uint32_t cps[MAX_PUNYCODE_CHARS];
	size_t count;
	if (!d->printing)
		return;
	if (!id->puny_len) {
		print_n(d, id->ascii, id->ascii_len);
	} else if (punycode_decode(id, cps, &count) == 0) {
		for (size_t i = 0; i < count; i++)
			put_utf8(&d->out, cps[i]);
	} else {
		/* Standard punycode spelling, as rustc-demangle shows what it cannot decode. */
		print(d, "punycode{");
		if (id->ascii_len) {
			print_n(d, id->ascii, id->ascii_len);
			print(d, "-");
		}
		print_n(d, id->puny, id->puny_len);
		print(d, "}");
	}
}

static int ident_empty(const struct ident *id)
{
	return !id->ascii_len && !id->puny_len;
}

/* <backref> = "B" <base-62-number>, the "B" read: a position before it in the symbol.
 * Returns 1 having moved to the target (the caller parses there, then calls
 * backref_return), 0 when not printing (the target is not parsed again), -1 on error. */
static int backref_go(struct v0 *d, size_t *ret)
{
	size_t at = d->pos - 1;
	uint64_t target;
	if (base62(d, &target) < 0 || target >= at || enter(d) < 0)
		return -1;
	if (!d->printing) {
		leave(d);
		return 0;
	}
	*ret = d->pos;
	d->pos = (size_t)target;
	return 1;
}

static void backref_return(struct v0 *d, size_t ret)
{
	d->pos = ret;
	leave(d);
}

static int print_path(struct v0 *d, int in_value);
static int print_type(struct v0 *d);
static int print_const(struct v0 *d, int in_value);

/* Elements up to "E", separated by `sep`; *count (may be NULL) gets how many. */
static int print_list(struct v0 *d, int (*elem)(struct v0 *), const char *sep, size_t *count)
{
	size_t i = 0;
	while (!eat(d, 'E')) {
		if (i++)
			print(d, sep);
		if (elem(d) < 0)
			return -1;
	}
	if (count)
		*count = i;
	return 0;
}

static int print_lifetime(struct v0 *d, uint64_t lt)
{
	if (!d->printing)
		return 0;
	print(d, "'");
	if (lt == 0) {
		print(d, "_");
		return 0;
	}
	if (lt > d->bound_lifetimes)
		return -1;
	uint64_t depth = d->bound_lifetimes - lt;
	if (depth < 26) {
		char c = (char)('a' + depth);
		print_n(d, &c, 1);
	} else {
		print(d, "_");
		print_u64(d, depth);
	}
	return 0;
}

/* [<binder>] = ["G" <base-62-number>]: prints `for<'a, ...> ` and binds the lifetimes
 * until binder_close. */
static int binder_open(struct v0 *d, uint64_t *bound)
{
	uint64_t n;
	*bound = 0;
	if (opt_base62(d, 'G', &n) < 0)
		return -1;
	if (!d->printing || !n)
		return 0;
	if (n > UINT64_MAX - d->bound_lifetimes)
		return -1;
	print(d, "for<");
	for (uint64_t i = 0; i < n; i++) {
		if (d->out.full || d->out.nomem)
			return -1;
		if (i)
			print(d, ", ");
		d->bound_lifetimes++;
		print_lifetime(d, 1);
	}
	print(d, "> ");
	*bound = n;
	return 0;
}

static void binder_close(struct v0 *d, uint64_t bound)
{
	d->bound_lifetimes -= bound;
}

static int print_generic_arg(struct v0 *d)
{
	uint64_t lt;
	if (eat(d, 'L'))
		return base62(d, &lt) < 0 ? -1 : print_lifetime(d, lt);
	if (eat(d, 'K'))
		return print_const(d, 0);
	return print_type(d);
}

static int print_path(struct v0 *d, int in_value)
{
	struct ident id;
	uint64_t dis;
	size_t ret;
	int tag, ns, r, printing;
	if (enter(d) < 0)
		return -1;
	switch ((tag = next(d))) {
	case 'C': /* crate root: the disambiguator is the crate's hash, not shown */
		if (opt_base62(d, 's', &dis) < 0 || parse_ident(d, &id) < 0)
			return -1;
		print_ident(d, &id);
		break;
	case 'N':
		ns = next(d);
		if (!is_upper(ns) && !is_lower(ns))
			return -1;
		if (print_path(d, in_value) < 0 || opt_base62(d, 's', &dis) < 0 ||
		    parse_ident(d, &id) < 0)
			return -1;
		if (is_upper(ns)) {
			/* A special namespace: closures, shims and the like, numbered. */
			char c = (char)ns;
			print(d, "::{");
			if (ns == 'C')
				print(d, "closure");
			else if (ns == 'S')
				print(d, "shim");
			else
				print_n(d, &c, 1);
			if (!ident_empty(&id)) {
				print(d, ":");
				print_ident(d, &id);
			}
			print(d, "#");
			print_u64(d, dis);
			print(d, "}");
		} else if (!ident_empty(&id)) {
			print(d, "::");
			print_ident(d, &id);
		}
		break;
	case 'M': /* <Type>, inherent impl */
	case 'X': /* <Type as Trait>, trait impl */
		/* The impl's own path says where the impl block is: not shown. */
		if (opt_base62(d, 's', &dis) < 0)
			return -1;
		printing = d->printing;
		d->printing = 0;
		r = print_path(d, 0);
		d->printing = printing;
		if (r < 0)
			return -1;
		/* fall through */
	case 'Y': /* <Type as Trait>, trait definition */
		print(d, "<");
		if (print_type(d) < 0)
			return -1;
		if (tag != 'M') {
			print(d, " as ");
			if (print_path(d, 0) < 0)
				return -1;
		}
		print(d, ">");
		break;
	case 'I': /* generic arguments; in an expression, `::<` */
		if (print_path(d, in_value) < 0)
			return -1;
		print(d, in_value ? "::<" : "<");
		if (print_list(d, print_generic_arg, ", ", NULL) < 0)
			return -1;
		print(d, ">");
		break;
	case 'B':
		if ((r = backref_go(d, &ret)) < 0)
			return -1;
		if (r) {
			if (print_path(d, in_value) < 0)
				return -1;
			backref_return(d, ret);
		}
		break;
	default:
		return -1;
	}
	leave(d);
	return 0;
}

/* <basic-type>, by its lowercase tag; the letters left out are not types. */
static const char *basic_type(int tag)
{
	static const char *const names[26] = {
	    "i8",    "bool", "char", "f64", "str",  "f32",  NULL,  "u8", "isize",
	    "usize", NULL,   "i32",  "u32", "i128", "u128", "_",   NULL, NULL,
	    "i16",   "u16",  "()",   "...", NULL,   "i64",  "u64", "!",
	};
	return is_lower(tag) ? names[tag - 'a'] : NULL;
}

/* A trait's path in a `dyn`, its generic arguments' `<` left open (*open = 1) so that
 * associated type bindings can follow inside it: `dyn Fn<(u8,), Output = u8>`. */
static int print_path_open(struct v0 *d, int *open)
{
	size_t ret;
	int r;
	*open = 0;
	if (eat(d, 'B')) {
		if ((r = backref_go(d, &ret)) < 0)
			return -1;
		if (r) {
			if (print_path_open(d, open) < 0)
				return -1;
			backref_return(d, ret);
		}
		return 0;
	}
	if (eat(d, 'I')) {
		if (print_path(d, 0) < 0)
			return -1;
		print(d, "<");
		*open = 1;
		return print_list(d, print_generic_arg, ", ", NULL);
	}
	return print_path(d, 0);
}

/* <dyn-trait> = <path> {"p" <undisambiguated-identifier> <type or "K" const>} */
static int print_dyn_trait(struct v0 *d)
{
	struct ident id;
	int open;
	if (print_path_open(d, &open) < 0)
		return -1;
	while (eat(d, 'p')) {
		print(d, open ? ", " : "<");
		open = 1;
		if (parse_ident(d, &id) < 0)
			return -1;
		print_ident(d, &id);
		print(d, " = ");
		if (eat(d, 'K') ? print_const(d, 0) < 0 : print_type(d) < 0)
			return -1;
	}
	if (open)
		print(d, ">");
	return 0;
}

/* <fn-sig> = [<binder>] ["U"] ["K" <abi>] {<type>} "E" <type>, the "F" read. */
static int print_fn_sig(struct v0 *d)
{
	struct ident abi = {0};
	uint64_t bound;
	int is_unsafe;
	if (binder_open(d, &bound) < 0)
		return -1;
	is_unsafe = eat(d, 'U');
	if (eat(d, 'K')) {
		if (eat(d, 'C')) {
			abi.ascii = "C";
			abi.ascii_len = 1;
		} else if (parse_ident(d, &abi) < 0 || !abi.ascii_len || abi.puny_len) {
			return -1;
		}
	}
	if (is_unsafe)
		print(d, "unsafe ");
	if (abi.ascii_len) {
		/* The ABI's `-` were mangled to `_`: `C-unwind` is `C_unwind`. */
		print(d, "extern \"");
		for (size_t i = 0; i < abi.ascii_len; i++)
			print_n(d, abi.ascii[i] == '_' ? "-" : abi.ascii + i, 1);
		print(d, "\" ");
	}
	print(d, "fn(");
	if (print_list(d, print_type, ", ", NULL) < 0)
		return -1;
	print(d, ")");
	if (!eat(d, 'u')) {
		print(d, " -> ");
		if (print_type(d) < 0)
			return -1;
	}
	binder_close(d, bound);
	return 0;
}

/* <pattern> of a pattern type (`u32 is 1..=9`), the "W" form of <type>. */
static int print_pat(struct v0 *d)
{
	int tag = next(d);
	if (tag == 'N') {
		print(d, "!null");
		return 0;
	}
	if (tag == 'R') {
		if (print_const(d, 0) < 0)
			return -1;
		print(d, "..=");
		return print_const(d, 0);
	}
	if (tag != 'O' || enter(d) < 0 || print_pat(d) < 0)
		return -1;
	while (!eat(d, 'E')) {
		print(d, " | ");
		if (print_pat(d) < 0)
			return -1;
	}
	leave(d);
	return 0;
}

static int print_type(struct v0 *d)
{
	const char *basic;
	uint64_t lt, bound;
	size_t count, ret;
	int tag = next(d), r;
	if (tag < 0)
		return -1;
	if ((basic = basic_type(tag))) {
		print(d, basic);
		return 0;
	}
	if (enter(d) < 0)
		return -1;
	switch (tag) {
	case 'R': /* &T */
	case 'Q': /* &mut T */
		print(d, "&");
		if (eat(d, 'L')) {
			if (base62(d, &lt) < 0)
				return -1;
			if (lt) {
				if (print_lifetime(d, lt) < 0)
					return -1;
				print(d, " ");
			}
		}
		if (tag == 'Q')
			print(d, "mut ");
		if (print_type(d) < 0)
			return -1;
		break;
	case 'P':
	case 'O':
		print(d, tag == 'P' ? "*const " : "*mut ");
		if (print_type(d) < 0)
			return -1;
		break;
	case 'A': /* [T; N] */
	case 'S': /* [T] */
		print(d, "[");
		if (print_type(d) < 0)
			return -1;
		if (tag == 'A') {
			print(d, "; ");
			if (print_const(d, 1) < 0)
				return -1;
		}
		print(d, "]");
		break;
	case 'T':
		print(d, "(");
		if (print_list(d, print_type, ", ", &count) < 0)
			return -1;
		print(d, count == 1 ? ",)" : ")");
		break;
	case 'F':
		if (print_fn_sig(d) < 0)
			return -1;
		break;
	case 'D': /* dyn Trait + Trait + 'a */
		print(d, "dyn ");
		if (binder_open(d, &bound) < 0 || print_list(d, print_dyn_trait, " + ", NULL) < 0)
			return -1;
		binder_close(d, bound);
		if (!eat(d, 'L') || base62(d, &lt) < 0)
			return -1;
		if (lt) {
			print(d, " + ");
			if (print_lifetime(d, lt) < 0)
				return -1;
		}
		break;
	case 'W':
		if (print_type(d) < 0)
			return -1;
		print(d, " is ");
		if (print_pat(d) < 0)
			return -1;
		break;
	case 'B':
		if ((r = backref_go(d, &ret)) < 0)
			return -1;
		if (r) {
			if (print_type(d) < 0)
				return -1;
			backref_return(d, ret);
		}
		break;
	default: /* a named type: a path */
		d->pos--;
		if (print_path(d, 0) < 0)
			return -1;
		break;
	}
	leave(d);
	return 0;
}

/* <const-data> = {<lowercase hex digit>} "_" */
static int hex_nibbles(struct v0 *d, const char **nibbles, size_t *n)
{
	int c;
	*nibbles = d->sym + d->pos;
	while ((c = next(d)) != '_') {
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
	}
	*n = (size_t)(d->sym + d->pos - 1 - *nibbles);
	return 0;
}

/* The nibbles' value; -1 when it does not fit in 64 bits. */
static int nibbles_u64(const char *s, size_t n, uint64_t *v)
{
	while (n && *s == '0') {
		s++;
		n--;
	}
	if (n > 16)
		return -1;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = *v << 4 | (uint64_t)(s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10);
	return 0;
}

static int print_const_uint(struct v0 *d)
{
	const char *s;
	size_t n;
	uint64_t v;
	if (hex_nibbles(d, &s, &n) < 0)
		return -1;
	if (nibbles_u64(s, n, &v) == 0) {
		print_u64(d, v);
	} else {
		/* Wider than 64 bits (u128, i128): shown in hex, as the nibbles stand. */
		print(d, "0x");
		print_n(d, s, n);
	}
	return 0;
}

/* Whether Rust's char::escape_debug leaves `c` as it is. Rust decides with Unicode's
 * tables; this approximation escapes what would otherwise be invisible or reorder the
 * text (controls, format characters, combining marks, private use, noncharacters). */
static int is_printable(uint32_t c)
{
	static const uint32_t hidden[][2] = {
	    {0x0000, 0x001f},	 {0x007f, 0x009f}, {0x00ad, 0x00ad}, {0x0300, 0x036f},
	    {0x061c, 0x061c},	 {0x180e, 0x180e}, {0x200b, 0x200f}, {0x2028, 0x202e},
	    {0x2060, 0x206f},	 {0xd800, 0xf8ff}, {0xfdd0, 0xfdef}, {0xfe00, 0xfe0f},
	    {0xfeff, 0xfeff},	 {0xfff0, 0xfffb}, {0xfffe, 0xffff}, {0xe0000, 0xe0fff},
	    {0xf0000, 0x10ffff},
	};
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		if (c >= hidden[i][0] && c <= hidden[i][1])
			return 0;
	}
	return 1;
}

static void print_escaped_char(struct v0 *d, uint32_t c, char quote)
{
	static const char escapes[][3] = {{'\0', '0'},	{'\t', 't'},  {'\r', 'r'}, {'\n', 'n'},
					  {'\\', '\\'}, {'\'', '\''}, {'"', '"'}};
	if (!d->printing)
		return;
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		/* A quote of the other kind needs no escape. */
		if (c == (unsigned char)escapes[i][0] && c != (quote == '"' ? '\'' : '"')) {
			char e[2] = {'\\', escapes[i][1]};
			print_n(d, e, 2);
			return;
		}
	}
	if (is_printable(c)) {
		put_utf8(&d->out, c);
	} else {
		print(d, "\\u{");
		put_u64(&d->out, c, 16);
		print(d, "}");
	}
}

static unsigned hex_byte(const char *h)
{
	unsigned hi = (unsigned)(h[0] <= '9' ? h[0] - '0' : h[0] - 'a' + 10);
	unsigned lo = (unsigned)(h[1] <= '9' ? h[1] - '0' : h[1] - 'a' + 10);
	return hi << 4 | lo;
}

/* A `&str` constant: hex-encoded UTF-8 bytes, printed as a quoted literal. The first
 * pass validates, the second prints: a literal is printed whole or not at all. */
static int print_const_str(struct v0 *d)
{
	const char *s;
	size_t n;
	if (hex_nibbles(d, &s, &n) < 0 || n % 2)
		return -1;
	n /= 2;
	for (int pass = 0; pass < 2; pass++) {
		print(d, pass ? "\"" : "");
		for (size_t i = 0, len; i < n; i += len) {
			unsigned b = hex_byte(s + 2 * i);
			uint32_t c;
			len = b < 0x80	 ? 1
			      : b < 0xc2 ? 0
			      : b < 0xe0 ? 2
			      : b < 0xf0 ? 3
			      : b < 0xf5 ? 4
					 : 0;
			if (!len || len > n - i)
				return -1;
			c = len == 1 ? b : b & (0x7fu >> len);
			for (size_t k = 1; k < len; k++) {
				b = hex_byte(s + 2 * (i + k));
				if ((b & 0xc0) != 0x80)
					return -1;
				c = c << 6 | (b & 0x3f);
			}
			/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
			if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
			    !is_unicode_scalar(c))
				return -1;
			if (pass)
				print_escaped_char(d, c, '"');
		}
	}
	print(d, "\"");
	return 0;
}

static int print_const_in_value(struct v0 *d)
{
	return print_const(d, 1);
}

/* A struct constant's field: [<disambiguator>] <identifier> <const>. */
static int print_const_field(struct v0 *d)
{
	struct ident id;
	uint64_t dis;
	if (opt_base62(d, 's', &dis) < 0 || parse_ident(d, &id) < 0)
		return -1;
	print_ident(d, &id);
	print(d, ": ");
	return print_const(d, 1);
}

/* <const>. Only literals stand bare in a generic argument list; any other expression
 * there is wrapped in `{...}`, as rustc-demangle prints it (`in_value` 0). */
static int print_const(struct v0 *d, int in_value)
{
	const char *s;
	size_t n, count, ret;
	uint64_t v;
	int tag = next(d), brace = 0, r;
	if (enter(d) < 0)
		return -1;
	switch (tag) {
	case 'p':
		print(d, "_");
		break;
	case 'h':
	case 't':
	case 'm':
	case 'y':
	case 'o':
	case 'j':
		if (print_const_uint(d) < 0)
			return -1;
		break;
	case 'a':
	case 's':
	case 'l':
	case 'x':
	case 'n':
	case 'i':
		if (eat(d, 'n'))
			print(d, "-");
		if (print_const_uint(d) < 0)
			return -1;
		break;
	case 'b':
		if (hex_nibbles(d, &s, &n) < 0 || nibbles_u64(s, n, &v) < 0 || v > 1)
			return -1;
		print(d, v ? "true" : "false");
		break;
	case 'c':
		if (hex_nibbles(d, &s, &n) < 0 || nibbles_u64(s, n, &v) < 0 ||
		    !is_unicode_scalar(v))
			return -1;
		print(d, "'");
		print_escaped_char(d, (uint32_t)v, '\'');
		print(d, "'");
		break;
	case 'e': /* str: `*"..."`, the literal being a &str */
		brace = !in_value;
		print(d, brace ? "{*" : "*");
		if (print_const_str(d) < 0)
			return -1;
		break;
	case 'R':
	case 'Q':
		if (tag == 'R' && eat(d, 'e')) {
			if (print_const_str(d) < 0)
				return -1;
			break;
		}
		brace = !in_value;
		print(d, brace ? "{&" : "&");
		if (tag == 'Q')
			print(d, "mut ");
		if (print_const(d, 1) < 0)
			return -1;
		break;
	case 'A':
		brace = !in_value;
		print(d, brace ? "{[" : "[");
		if (print_list(d, print_const_in_value, ", ", NULL) < 0)
			return -1;
		print(d, "]");
		break;
	case 'T':
		brace = !in_value;
		print(d, brace ? "{(" : "(");
		if (print_list(d, print_const_in_value, ", ", &count) < 0)
			return -1;
		print(d, count == 1 ? ",)" : ")");
		break;
	case 'V': /* a struct or enum value: Path, Path(...) or Path { field: ... } */
		brace = !in_value;
		if (brace)
			print(d, "{");
		if (print_path(d, 1) < 0)
			return -1;
		switch (next(d)) {
		case 'U':
			break;
		case 'T':
			print(d, "(");
			if (print_list(d, print_const_in_value, ", ", NULL) < 0)
				return -1;
			print(d, ")");
			break;
		case 'S':
			print(d, " { ");
			if (print_list(d, print_const_field, ", ", NULL) < 0)
				return -1;
			print(d, " }");
			break;
		default:
			return -1;
		}
		break;
	case 'B':
		if ((r = backref_go(d, &ret)) < 0)
			return -1;
		if (r) {
			if (print_const(d, in_value) < 0)
				return -1;
			backref_return(d, ret);
		}
		break;
	default:
		return -1;
	}
	if (brace)
		print(d, "}");
	leave(d);
	return 0;
}

/* `body` follows "_R": <path> [<instantiating-crate>] [<vendor-specific-suffix>]. */
static char *demangle_v0(const char *body)
{
	struct v0 d = {.sym = body, .len = strlen(body), .printing = 1};
	int ok;
	/* Paths start with an uppercase tag; a digit would be an encoding version, of
	 * which none but the implicit 0 exists. */
	if (!is_upper(body[0])) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < d.len; i++) {
		if (body[i] & 0x80) {
			errno = EINVAL;
			return NULL;
		}
	}
	ok = print_path(&d, 1) == 0;
	if (ok && is_upper(peek(&d))) {
		/* The crate that instantiated a generic: not part of the name. */
		d.printing = 0;
		ok = print_path(&d, 0) == 0;
	}
	if (ok && d.pos < d.len)
		ok = is_vendor_suffix(body + d.pos);
	return out_finish(&d.out, ok);
}

char *hp_demangle_rust(const char *sym)
{
	if (sym && sym[0] == '_' && sym[1] == 'R')
		return demangle_v0(sym + 2);
	if (sym && strncmp(sym, "_ZN", 3) == 0)
		return demangle_legacy(sym + 3);
	errno = EINVAL;
	return NULL;
}
