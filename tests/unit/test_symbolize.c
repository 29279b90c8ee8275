/* Unit test of analyzer/symbolize.c against the fixtures of symbolize_fixtures/: real
 * binaries built at -O2 -g, their return addresses taken at run time, expected lines read
 * from the LINE: markers in the fixture sources. */
#define _GNU_SOURCE
#include "check.h"

#include "../../analyzer/symbolize.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <link.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HPSYM_LIB /* set by symbolize_fixtures/CMakeLists.txt */
#define MAXF 8

struct warnings {
	int count;
	char last[1024];
};

static void on_warn(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	w->count++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

/* The line holding "LINE:<name> " in `src`; 0 (and a failed check) when absent. */
static unsigned marker_line(const char *src, const char *name)
{
	char want[128], buf[1024];
	unsigned line = 0, found = 0;
	FILE *f = fopen(src, "r");

	snprintf(want, sizeof(want), "LINE:%s ", name);
	while (f && fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, want)) {
			found = line;
			break;
		}
	}
	if (f)
		fclose(f);
	CHECK_(found != 0, "marker %s in %s", name, src);
	return found;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) != 0) {
		fclose(f);
		return -errno;
	}
	*len = (size_t)st.st_size;
	*data = malloc(*len ? *len : 1);
	size_t got = *data ? fread(*data, 1, *len, f) : 0;
	fclose(f);
	return got == *len ? 0 : -EIO;
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -errno;
	size_t put = fwrite(data, 1, len, f);
	return fclose(f) == 0 && put == len ? 0 : -EIO;
}

static int copy_file(const char *from, const char *to)
{
	unsigned char *data;
	size_t len;
	int err = read_file(from, &data, &len);
	if (err)
		return err;
	err = write_file(to, data, len);
	free(data);
	return err;
}

/* The NT_GNU_BUILD_ID of a 64-bit ELF file, from its section headers; its length or 0. */
static size_t build_id_of(const char *path, unsigned char *out, size_t max)
{
	unsigned char *d;
	size_t len, n = 0;
	if (read_file(path, &d, &len) != 0)
		return 0;
	const Elf64_Ehdr *eh = (const void *)d;
	if (len < sizeof(*eh) || memcmp(d, ELFMAG, SELFMAG) != 0 || eh->e_shoff > len ||
	    eh->e_shnum > (len - eh->e_shoff) / sizeof(Elf64_Shdr))
		goto out;
	for (unsigned i = 0; i < eh->e_shnum && !n; i++) {
		const Elf64_Shdr *sh = (const void *)(d + eh->e_shoff + i * sizeof(Elf64_Shdr));
		if (sh->sh_type != SHT_NOTE || sh->sh_offset > len ||
		    sh->sh_size > len - sh->sh_offset)
			continue;
		size_t off = sh->sh_offset, end = sh->sh_offset + sh->sh_size;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *nh = (const void *)(d + off);
			size_t name = off + sizeof(*nh), desc = name + ((nh->n_namesz + 3) & ~3u);
			if (desc + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(d + name, "GNU", 4) == 0 && nh->n_descsz <= max) {
				memcpy(out, d + desc, nh->n_descsz);
				n = nh->n_descsz;
				break;
			}
			off = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
out:
	free(d);
	return n;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define CHECK_FRAME(fr, fn, src, ln, inl)                                                          \
	do {                                                                                       \
		CHECK_STR((fr).function, fn);                                                      \
		CHECK_STR((fr).file, src);                                                         \
		CHECK_U64((fr).line, ln);                                                          \
		CHECK_I64((fr).inlined, inl);                                                      \
	} while (0)

/* Return addresses (module-relative) of the fixture's functions, and fix_entry's address. */
struct fixture_addrs {
	uint64_t bias, direct, outer, deep, entry;
};

/* Checks every fixture lookup in module `id`; with `lines` unset, the module is expected to
 * have a symbol table only: one frame, the outer function, no file. */
static void check_fixture(struct hp_symbolizer *s, uint64_t id, const struct fixture_addrs *a,
			  int lines)
{
	const char *src = HPSYM_SRC;
	struct hp_frame fr[MAXF];
	int n;

	n = hp_symbolize(s, id, a->direct, 1, fr, MAXF);
	CHECK_I64(n, 1);
	if (n >= 1 && lines) {
		CHECK_FRAME(fr[0], "fix_direct", src, marker_line(src, "direct_call"), 0);
		CHECK(fr[0].column > 0 && fr[0].mangled == NULL);
	} else if (n >= 1) {
		CHECK_STR(fr[0].function, "fix_direct");
		CHECK(fr[0].file == NULL && fr[0].line == 0 && !fr[0].inlined);
	}

	n = hp_symbolize(s, id, a->outer, 1, fr, MAXF);
	CHECK_I64(n, lines ? 2 : 1);
	if (n == 2 && lines) {
		CHECK_FRAME(fr[0], "inl_middle", src, marker_line(src, "inl_call"), 1);
		CHECK_FRAME(fr[1], "fix_outer", src, marker_line(src, "outer_call"), 0);
		CHECK(fr[0].file == fr[1].file); /* interned */
	} else if (n == 1 && !lines) {
		CHECK_STR(fr[0].function, "fix_outer");
		CHECK(fr[0].file == NULL);
	}

	n = hp_symbolize(s, id, a->deep, 1, fr, MAXF);
	CHECK_I64(n, lines ? 3 : 1);
	if (n == 3 && lines) {
		CHECK_FRAME(fr[0], "inl_inner", src, marker_line(src, "inner_call"), 1);
		CHECK_FRAME(fr[1], "inl_mid", src, marker_line(src, "mid_call"), 1);
		CHECK_FRAME(fr[2], "fix_deep", src, marker_line(src, "deep_call"), 0);
	} else if (n == 1 && !lines) {
		CHECK_STR(fr[0].function, "fix_deep");
	}

	/* max cuts the inline chain at the innermost frames; the cache keeps the whole. */
	n = hp_symbolize(s, id, a->deep, 1, fr, 1);
	CHECK_I64(n, 1);
	if (n == 1)
		CHECK_STR(fr[0].function, lines ? "inl_inner" : "fix_deep");

	n = hp_symbolize(s, id, a->entry, 0, fr, MAXF);
	CHECK_I64(n, 1);
	if (n >= 1 && lines)
		CHECK_FRAME(fr[0], "fix_entry", src, marker_line(src, "entry"), 0);
	else if (n >= 1)
		CHECK_STR(fr[0].function, "fix_entry");
}

/* Runs a fixture executable, which prints its own module-relative addresses. */
static int run_fixture(const char *exe, struct fixture_addrs *a)
{
	char line[256], name[32];
	unsigned long long v;
	int got = 0;
	FILE *p = popen(exe, "r");

	if (!p)
		return -1;
	memset(a, 0, sizeof(*a));
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%31s %llx", name, &v) != 2)
			continue;
		got++;
		if (!strcmp(name, "bias"))
			a->bias = v;
		else if (!strcmp(name, "direct"))
			a->direct = v;
		else if (!strcmp(name, "outer"))
			a->outer = v;
		else if (!strcmp(name, "deep"))
			a->deep = v;
		else if (!strcmp(name, "entry"))
			a->entry = v;
	}
	return pclose(p) == 0 && got == 5 ? 0 : -1;
}

static void *lib_handle;

/* dlopens the fixture library and takes its addresses in this process. */
static int load_lib(struct fixture_addrs *a)
{
	struct link_map *lm;

	lib_handle = dlopen(HPSYM_LIB, RTLD_NOW | RTLD_LOCAL);
	CHECK_(lib_handle != NULL, "dlopen %s: %s", HPSYM_LIB, dlerror());
	if (!lib_handle || dlinfo(lib_handle, RTLD_DI_LINKMAP, &lm) != 0)
		return -1;
	void *(*direct)(void) = (void *(*)(void))dlsym(lib_handle, "fix_direct");
	void *(*outer)(void) = (void *(*)(void))dlsym(lib_handle, "fix_outer");
	void *(*deep)(void) = (void *(*)(void))dlsym(lib_handle, "fix_deep");
	void *entry = dlsym(lib_handle, "fix_entry");
	if (!direct || !outer || !deep || !entry)
		return -1;
	a->bias = lm->l_addr; /* the load bias, as dl_iterate_phdr's dlpi_addr */
	a->direct = (uintptr_t)direct() - a->bias;
	a->outer = (uintptr_t)outer() - a->bias;
	a->deep = (uintptr_t)deep() - a->bias;
	a->entry = (uintptr_t)entry - a->bias;
	return 0;
}

static void test_executables_and_library(const struct fixture_addrs *lib)
{
	struct warnings w = {0};
	struct hp_symbolizer *s = hp_symbolizer_new(on_warn, &w);
	unsigned char bid[64];
	size_t bid_len;
	struct fixture_addrs pie, nopie;
	struct hp_frame fr[MAXF], again[MAXF];

	CHECK(s != NULL);
	if (!s)
		return;

	bid_len = build_id_of(HPSYM_LIB, bid, sizeof(bid));
	CHECK(bid_len >= 8);
	CHECK_I64(hp_symbolizer_add_module(s, 1, HPSYM_LIB, bid, bid_len, lib->bias), 0);
	check_fixture(s, 1, lib, 1);

	/* The same file loaded twice (dlclose, dlopen): both ids symbolize. */
	CHECK_I64(hp_symbolizer_add_module(s, 7, HPSYM_LIB, bid, bid_len, lib->bias + 0x10000), 0);
	check_fixture(s, 7, lib, 1);
	CHECK_I64(hp_symbolizer_add_module(s, 7, HPSYM_LIB, bid, bid_len, 0), -EEXIST);
	CHECK_I64(w.count, 1); /* the duplicate id */
	w.count = 0;

	/* Cached: the same frames, the same interned strings. */
	int n1 = hp_symbolize(s, 1, lib->outer, 1, fr, MAXF);
	int n2 = hp_symbolize(s, 1, lib->outer, 1, again, MAXF);
	CHECK_I64(n1, n2);
	CHECK(n1 >= 1 && fr[0].function == again[0].function && fr[0].file == again[0].file);

	/* Without is_return_address the address is the one after the call: never the line of
	 * a different function, but the function stays fix_direct. */
	n1 = hp_symbolize(s, 1, lib->direct, 0, fr, MAXF);
	CHECK(n1 >= 1 && fr[n1 - 1].function && !strcmp(fr[n1 - 1].function, "fix_direct"));

	CHECK_I64(run_fixture(HPSYM_PIE, &pie), 0);
	CHECK(pie.direct != 0);
	bid_len = build_id_of(HPSYM_PIE, bid, sizeof(bid));
	CHECK(bid_len >= 8);
	CHECK_I64(hp_symbolizer_add_module(s, 2, HPSYM_PIE, bid, bid_len, pie.bias), 0);
	check_fixture(s, 2, &pie, 1);

	CHECK_I64(run_fixture(HPSYM_NOPIE, &nopie), 0);
	CHECK_U64(nopie.bias, 0);
	CHECK(nopie.direct >= 0x400000); /* absolute: an ET_EXEC's vaddrs are its addresses */
	bid_len = build_id_of(HPSYM_NOPIE, bid, sizeof(bid));
	CHECK(bid_len >= 8);
	CHECK_I64(hp_symbolizer_add_module(s, 3, HPSYM_NOPIE, bid, bid_len, 0), 0);
	check_fixture(s, 3, &nopie, 1);

	/* An empty recorded build-id cannot be checked: the file is trusted. */
	CHECK_I64(hp_symbolizer_add_module(s, 4, HPSYM_LIB, NULL, 0, lib->bias), 0);
	check_fixture(s, 4, lib, 1);

	CHECK_I64(w.count, 0);
	if (w.count)
		fprintf(stderr, "unexpected warning: %s\n", w.last);

	/* Unknown module ids know nothing. */
	CHECK_I64(hp_symbolize(s, 999, lib->outer, 1, fr, MAXF), 0);
	hp_symbolizer_free(s);
}

static void test_unusable_modules(const struct fixture_addrs *lib, const char *tmp)
{
	struct warnings w = {0};
	struct hp_symbolizer *s = hp_symbolizer_new(on_warn, &w);
	unsigned char bid[64];
	size_t bid_len = build_id_of(HPSYM_LIB, bid, sizeof(bid));
	struct hp_frame fr[MAXF];
	uint64_t addrs[] = {lib->direct, lib->outer, lib->deep, lib->entry};

	CHECK(s != NULL);
	if (!s)
		return;

	/* Wrong build-id: nothing, one warning naming the file, however many lookups. */
	bid[0] ^= 0xff;
	CHECK_I64(hp_symbolizer_add_module(s, 1, HPSYM_LIB, bid, bid_len, lib->bias), 0);
	CHECK_I64(hp_symbolizer_add_module(s, 2, HPSYM_LIB, bid, bid_len, lib->bias), 0);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			CHECK_I64(hp_symbolize(s, 1, addrs[i], 1, fr, MAXF), 0);
			CHECK_I64(hp_symbolize(s, 2, addrs[i], 0, fr, MAXF), 0);
		}
	}
	CHECK_I64(w.count, 1);
	CHECK(strstr(w.last, HPSYM_LIB) != NULL);
	CHECK(strstr(w.last, "build-id") != NULL);
	bid[0] ^= 0xff;

	/* Missing file. */
	w.count = 0;
	CHECK_I64(hp_symbolizer_add_module(s, 3, "/nonexistent/libgone.so.1", bid, bid_len, 0), 0);
	for (int i = 0; i < 3; i++)
		CHECK_I64(hp_symbolize(s, 3, lib->outer, 1, fr, MAXF), 0);
	CHECK_I64(w.count, 1);
	CHECK(strstr(w.last, "/nonexistent/libgone.so.1") != NULL);

	/* Not ELF, a directory. */
	w.count = 0;
	CHECK_I64(hp_symbolizer_add_module(s, 4, HPSYM_SRC, bid, bid_len, 0), 0);
	CHECK_I64(hp_symbolize(s, 4, lib->outer, 1, fr, MAXF), 0);
	CHECK_I64(hp_symbolize(s, 4, lib->deep, 1, fr, MAXF), 0);
	CHECK_I64(w.count, 1);
	CHECK(strstr(w.last, HPSYM_SRC) != NULL);
	w.count = 0;
	CHECK_I64(hp_symbolizer_add_module(s, 5, tmp, bid, bid_len, 0), 0);
	CHECK_I64(hp_symbolize(s, 5, lib->outer, 1, fr, MAXF), 0);
	CHECK_I64(hp_symbolize(s, 5, lib->deep, 1, fr, MAXF), 0);
	CHECK_I64(w.count, 1);

	/* The vDSO and nameless modules: nothing, silently. */
	w.count = 0;
	CHECK_I64(hp_symbolizer_add_module(s, 6, "[vdso]", NULL, 0, 0x7fff0000), 0);
	CHECK_I64(hp_symbolizer_add_module(s, 8, "", NULL, 0, 0), 0);
	CHECK_I64(hp_symbolizer_add_module(s, 9, NULL, NULL, 0, 0), 0);
	CHECK_I64(hp_symbolize(s, 6, 0x100, 1, fr, MAXF), 0);
	CHECK_I64(hp_symbolize(s, 8, 0x100, 1, fr, MAXF), 0);
	CHECK_I64(hp_symbolize(s, 9, 0x100, 1, fr, MAXF), 0);
	CHECK_I64(w.count, 0);

	/* Truncated copies: never a crash, never a wrong name, one warning at most each. */
	unsigned char *data;
	size_t len;
	CHECK_I64(read_file(HPSYM_LIB, &data, &len), 0);
	size_t cuts[] = {0, 3, 16, 64, 200, 1000, 4096, 8192, len / 3, len / 2, len - 100};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]) && data; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/truncated%zu.so", tmp, i);
		CHECK_I64(write_file(path, data, cuts[i] < len ? cuts[i] : len), 0);
		w.count = 0;
		CHECK_I64(hp_symbolizer_add_module(s, 100 + i, path, bid, bid_len, 0), 0);
		for (size_t k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++) {
			int n = hp_symbolize(s, 100 + i, addrs[k], k != 3, fr, MAXF);
			const char *want[] = {"fix_direct", "fix_outer", "fix_deep", "fix_entry"};
			CHECK_(n == 0 ||
				   (fr[n - 1].function && !strcmp(fr[n - 1].function, want[k])),
			       "truncated at %zu: %d frames, %s", cuts[i], n,
			       n ? fr[n - 1].function : "-");
		}
		CHECK_(w.count <= 1, "truncated at %zu: %d warnings", cuts[i], w.count);
	}
	free(data);
	hp_symbolizer_free(s);
}

/* Files opened ahead by an opener: taken from it (a copy opened ahead, then deleted, still
 * symbolizes), the same frames; a file's warning once, at its first use, and none for a
 * file opened and never used. */
static void test_opener(const struct fixture_addrs *lib, const char *tmp)
{
	struct warnings w = {0};
	struct hp_symbol_opener *o = hp_symbol_opener_new();
	struct hp_symbolizer *s = hp_symbolizer_new(on_warn, &w);
	unsigned char bid[64];
	size_t bid_len = build_id_of(HPSYM_LIB, bid, sizeof(bid));
	const char *gone = "/nonexistent/libgone.so.1";
	char copy[4200];
	struct hp_frame fr[MAXF];

	CHECK(o != NULL && s != NULL);
	if (!o || !s) {
		hp_symbolizer_free(s);
		hp_symbol_opener_free(o);
		return;
	}
	snprintf(copy, sizeof(copy), "%s/ahead.so", tmp);
	CHECK_I64(copy_file(HPSYM_LIB, copy), 0);
	CHECK_I64(hp_symbol_opener_add(o, copy, bid, bid_len), 0);
	CHECK_I64(hp_symbol_opener_add(o, copy, bid, bid_len), 0); /* queued once */
	CHECK_I64(hp_symbol_opener_add(o, gone, bid, bid_len), 0);
	CHECK_I64(hp_symbol_opener_add(o, "/nonexistent/never-used.so", bid, bid_len), 0);
	CHECK_I64(hp_symbol_opener_add(o, "[vdso]", NULL, 0), 0);
	hp_symbol_opener_drain(o);
	CHECK_I64(unlink(copy), 0);
	hp_symbolizer_set_opener(s, o);

	CHECK_I64(hp_symbolizer_add_module(s, 1, copy, bid, bid_len, lib->bias), 0);
	check_fixture(s, 1, lib, 1);
	CHECK_I64(w.count, 0);
	if (w.count)
		fprintf(stderr, "unexpected warning: %s\n", w.last);

	CHECK_I64(hp_symbolizer_add_module(s, 2, gone, bid, bid_len, 0), 0);
	CHECK_I64(w.count, 0); /* opened already, not used yet */
	for (int i = 0; i < 3; i++)
		CHECK_I64(hp_symbolize(s, 2, lib->outer, 1, fr, MAXF), 0);
	CHECK_I64(w.count, 1);
	CHECK(strstr(w.last, gone) != NULL);

	/* A file the opener never had is opened by the symbolizer, as without one. */
	CHECK_I64(hp_symbolizer_add_module(s, 3, HPSYM_LIB, bid, bid_len, lib->bias), 0);
	check_fixture(s, 3, lib, 1);
	hp_symbolizer_free(s);
	hp_symbol_opener_free(o);
	CHECK_I64(w.count, 1); /* none for never-used.so */
}

#ifdef HPSYM_SPLIT_LIB
static int make_dir(const char *path)
{
	return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/* A symbolizer whose only debug root is `root`. */
static struct hp_symbolizer *symbolizer_with_root(const char *root, struct warnings *w)
{
	setenv("HEAPPROF_DEBUGINFO_PATH", root, 1);
	struct hp_symbolizer *s = hp_symbolizer_new(on_warn, w);
	unsetenv("HEAPPROF_DEBUGINFO_PATH");
	CHECK(s != NULL);
	return s;
}

static void test_separate_debug_info(const struct fixture_addrs *lib, const char *tmp)
{
	unsigned char bid[64];
	size_t bid_len = build_id_of(HPSYM_LIB, bid, sizeof(bid));
	char root[4096], empty[4096], dir[4200], path[4300], dbg[4300];
	struct warnings w = {0};
	struct hp_symbolizer *s;

	CHECK_I64(bid_len, build_id_of(HPSYM_SPLIT_LIB, bid, sizeof(bid)));
	snprintf(empty, sizeof(empty), "%s/empty-root", tmp);
	CHECK_I64(make_dir(empty), 0);

	/* By build-id: ROOT/.build-id/xx/yyyy.debug, as Debian's dbgsym packages lay it out. */
	snprintf(root, sizeof(root), "%s/debug-root", tmp);
	snprintf(dir, sizeof(dir), "%s/.build-id", root);
	CHECK_I64(make_dir(root), 0);
	CHECK_I64(make_dir(dir), 0);
	snprintf(dir, sizeof(dir), "%s/.build-id/%02x", root, bid[0]);
	CHECK_I64(make_dir(dir), 0);
	int off = snprintf(dbg, sizeof(dbg), "%s/", dir);
	for (size_t i = 1; i < bid_len; i++)
		off += snprintf(dbg + off, sizeof(dbg) - (size_t)off, "%02x", bid[i]);
	snprintf(dbg + off, sizeof(dbg) - (size_t)off, ".debug");
	CHECK_I64(copy_file(HPSYM_SPLIT_DEBUG, dbg), 0);
	s = symbolizer_with_root(root, &w);
	if (s) {
		CHECK_I64(hp_symbolizer_add_module(s, 1, HPSYM_SPLIT_LIB, bid, bid_len, lib->bias),
			  0);
		check_fixture(s, 1, lib, 1);
		CHECK_I64(w.count, 0);
		hp_symbolizer_free(s);
	}

	/* By .gnu_debuglink, in the library's .debug/ directory. */
	snprintf(dir, sizeof(dir), "%s/linked", tmp);
	CHECK_I64(make_dir(dir), 0);
	snprintf(path, sizeof(path), "%s/libhpsym_lib.so", dir);
	CHECK_I64(copy_file(HPSYM_SPLIT_LIB, path), 0);
	snprintf(dbg, sizeof(dbg), "%s/.debug", dir);
	CHECK_I64(make_dir(dbg), 0);
	snprintf(dbg, sizeof(dbg), "%s/.debug/libhpsym_fix.debug", dir);
	CHECK_I64(copy_file(HPSYM_SPLIT_DEBUG, dbg), 0);
	w.count = 0;
	s = symbolizer_with_root(empty, &w);
	if (s) {
		CHECK_I64(hp_symbolizer_add_module(s, 1, path, bid, bid_len, lib->bias), 0);
		check_fixture(s, 1, lib, 1);
		CHECK_I64(w.count, 0);
		hp_symbolizer_free(s);
	}

	/* A debuglink file of another build is refused: symbol table only, one warning. */
	CHECK_I64(copy_file(HPSYM_PIE, dbg), 0);
	w.count = 0;
	s = symbolizer_with_root(empty, &w);
	if (s) {
		CHECK_I64(hp_symbolizer_add_module(s, 1, path, bid, bid_len, lib->bias), 0);
		check_fixture(s, 1, lib, 0);
		CHECK_I64(w.count, 1);
		CHECK(strstr(w.last, "debug info") != NULL && strstr(w.last, path) != NULL);
		hp_symbolizer_free(s);
	}

	/* No debug info anywhere: function names from the symbol table, one warning. */
	w.count = 0;
	s = symbolizer_with_root(empty, &w);
	if (s) {
		CHECK_I64(hp_symbolizer_add_module(s, 1, HPSYM_SPLIT_LIB, bid, bid_len, lib->bias),
			  0);
		check_fixture(s, 1, lib, 0);
		CHECK_I64(w.count, 1);
		hp_symbolizer_free(s);
	}
}
#endif

#ifdef HPSYM_CXX_LIB
static void test_cxx(const char *tmp)
{
	const char *src = HPSYM_CXX_SRC;
	struct warnings w = {0};
	struct hp_symbolizer *s = hp_symbolizer_new(on_warn, &w);
	unsigned char bid[64];
	size_t bid_len = build_id_of(HPSYM_CXX_LIB, bid, sizeof(bid));
	struct hp_frame fr[MAXF];
	struct link_map *lm;
	void *h = dlopen(HPSYM_CXX_LIB, RTLD_NOW | RTLD_LOCAL);

	CHECK_(h != NULL, "dlopen %s: %s", HPSYM_CXX_LIB, dlerror());
	CHECK(s != NULL);
	if (!h || !s || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0) {
		hp_symbolizer_free(s);
		return;
	}
	void *(*grow)(void) = (void *(*)(void))dlsym(h, "cxx_grow");
	void *(*scale)(void) = (void *(*)(void))dlsym(h, "cxx_scale");
	void *(*inl)(void) = (void *(*)(void))dlsym(h, "cxx_inlined");
	CHECK(grow && scale && inl);
	if (!grow || !scale || !inl) {
		hp_symbolizer_free(s);
		return;
	}
	CHECK_I64(hp_symbolizer_add_module(s, 1, HPSYM_CXX_LIB, bid, bid_len, lm->l_addr), 0);

	int n = hp_symbolize(s, 1, (uintptr_t)grow() - lm->l_addr, 1, fr, MAXF);
	CHECK_I64(n, 1);
	if (n == 1) {
		CHECK_FRAME(fr[0], "ns::Widget::grow(unsigned long)", src,
			    marker_line(src, "grow_call"), 0);
		/* The linkage name is kept beside the demangled one. */
		CHECK_STR(fr[0].mangled, "_ZN2ns6Widget4growEm");
		CHECK(fr[0].column > 0);
	}

	n = hp_symbolize(s, 1, (uintptr_t)scale() - lm->l_addr, 1, fr, MAXF);
	CHECK_I64(n, 1);
	if (n == 1)
		CHECK_FRAME(fr[0], "void* ns::scale<int>(int)", src, marker_line(src, "scale_call"),
			    0);

	n = hp_symbolize(s, 1, (uintptr_t)inl() - lm->l_addr, 1, fr, MAXF);
	CHECK_I64(n, 2);
	if (n == 2) {
		CHECK_FRAME(fr[0], "ns::helper(int)", src, marker_line(src, "helper_call"), 1);
		CHECK_FRAME(fr[1], "cxx_inlined", src, marker_line(src, "helper_caller"), 0);
		CHECK_STR(fr[0].mangled, "_ZN2ns6helperEi");
		CHECK(fr[1].mangled == NULL); /* extern "C": nothing to demangle */
		CHECK(fr[1].column > 0);      /* the call site's column */
	}
	CHECK_I64(w.count, 0);
	hp_symbolizer_free(s);
	dlclose(h);
}
#endif

int main(void)
{
	char tmp[] = "/tmp/hp_test_symbolize.XXXXXX";
	struct fixture_addrs lib;

	/* Whatever the environment says, the symbolizer must not ask a debuginfod server. */
	setenv("DEBUGINFOD_URLS", "http://127.0.0.1:9/", 1);
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	if (load_lib(&lib) == 0) {
		test_executables_and_library(&lib);
		test_unusable_modules(&lib, tmp);
		test_opener(&lib, tmp);
#ifdef HPSYM_SPLIT_LIB
		test_separate_debug_info(&lib, tmp);
#endif
	}
#ifdef HPSYM_CXX_LIB
	test_cxx(tmp);
#else
#error "HPSYM_CXX_LIB unset: the C++ symbolization checks must run (symbolize_fixtures)"
#endif
	if (lib_handle)
		dlclose(lib_handle);
	rm_tree(tmp);
	return check_done();
}

#else

int main(void)
{
	CHECK_(0, "%s",
	       "fixtures not built: tests/unit/CMakeLists.txt must end with "
	       "add_subdirectory(symbolize_fixtures)");
	return check_done();
}

#endif
