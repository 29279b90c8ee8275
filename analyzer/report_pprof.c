/* --pprof FILE: the model as a gzip'd pprof profile.proto, the heap profile Go writes
 * (runtime/pprof writeHeapProto), so `go tool pprof`, pprof -http, Pyroscope, Parca and
 * speedscope read it as they read Go's (docs/exports.md, /work/shared/EXPORT-FORMATS.md
 * 3.1):
 *   sample types, in Go's order: alloc_objects/count, alloc_space/bytes,
 *   inuse_objects/count, inuse_space/bytes; the in-use pair at the peak (--pprof-at peak,
 *   the default) or at the end of the run (--pprof-at end: what was never freed);
 *   period_type space/bytes, period the sampling mean (1 unsampled), values already
 *   scaled; default_sample_type inuse_space; a numeric `bytes` label when every block of
 *   the site had one size; one sample per site, its stack trimmed as the reports print
 *   it, leaf first;
 *   mappings = hp_profile.modules (id = index + 1), with build-ids;
 *   locations = hp_profile.locations (id = index + 1), their inlined frames as lines,
 *   callee first; functions deduplicated by (name, system_name, filename). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "array.h"
#include "model.h"
#include "output.h"
#include "protobuf.h"

/* profile.proto field numbers. */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_NUM = 3,
	MAPPING_ID = 1,
	MAPPING_MEMORY_START = 2,
	MAPPING_MEMORY_LIMIT = 3,
	MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	MAPPING_HAS_INLINE_FRAMES = 10,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	LINE_COLUMN = 3,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
};

/* The string table: each distinct string once, [0] = "" as the format requires. */
struct strtab {
	char **v;
	size_t n, cap;
	uint32_t *hash; /* open addressing: index + 1, 0 empty */
	size_t mask;
};

/* Functions by (name, system_name, filename) string indices: id = index + 1. */
struct functab {
	uint64_t (*v)[3];
	size_t n, cap;
	uint32_t *hash;
	size_t mask;
};

struct writer {
	const struct hp_model *m;
	struct strtab s;
	struct functab f;
	struct hp_pb out, msg, sub;
	uint64_t *ids; /* a sample's location ids */
	size_t ids_cap;
	int oom;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static int grow_hash(uint32_t **hash, size_t *mask, size_t n)
{
	if (*hash && n * 2 <= *mask + 1)
		return 0;
	size_t size = *hash ? (*mask + 1) * 2 : 1024;
	free(*hash);
	*hash = calloc(size, sizeof **hash);
	if (!*hash)
		return -ENOMEM;
	*mask = size - 1;
	return 1; /* rehash */
}

/* The index of s (NULL: ""); 0 on failure with w->oom set. */
static uint64_t str(struct writer *w, const char *s)
{
	struct strtab *t = &w->s;
	if (!s)
		s = "";
	size_t len = strlen(s);
	int g = grow_hash(&t->hash, &t->mask, t->n + 1);
	if (g < 0) {
		w->oom = 1;
		return 0;
	}
	if (g > 0)
		for (size_t i = 0; i < t->n; i++) {
			size_t j = hash_bytes(t->v[i], strlen(t->v[i])) & t->mask;
			while (t->hash[j])
				j = (j + 1) & t->mask;
			t->hash[j] = (uint32_t)i + 1;
		}
	size_t j = hash_bytes(s, len) & t->mask;
	for (; t->hash[j]; j = (j + 1) & t->mask)
		if (strcmp(t->v[t->hash[j] - 1], s) == 0)
			return t->hash[j] - 1;
	char *copy = strdup(s);
	if (!copy || hp_array_reserve((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v, 256)) {
		free(copy);
		w->oom = 1;
		return 0;
	}
	t->v[t->n] = copy;
	t->hash[j] = (uint32_t)++t->n;
	return t->n - 1;
}

/* The id of the function (name, system_name, filename), written when new. */
static uint64_t function_id(struct writer *w, const struct hp_frame *fr)
{
	struct functab *t = &w->f;
	uint64_t k[3] = {str(w, fr->function), str(w, fr->mangled ? fr->mangled : fr->function),
			 str(w, fr->file)};
	int g = grow_hash(&t->hash, &t->mask, t->n + 1);
	if (g < 0) {
		w->oom = 1;
		return 0;
	}
	if (g > 0)
		for (size_t i = 0; i < t->n; i++) {
			size_t j = hash_bytes(t->v[i], sizeof t->v[i]) & t->mask;
			while (t->hash[j])
				j = (j + 1) & t->mask;
			t->hash[j] = (uint32_t)i + 1;
		}
	size_t j = hash_bytes(k, sizeof k) & t->mask;
	for (; t->hash[j]; j = (j + 1) & t->mask)
		if (memcmp(t->v[t->hash[j] - 1], k, sizeof k) == 0)
			return t->hash[j];
	if (hp_array_reserve((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v, 256)) {
		w->oom = 1;
		return 0;
	}
	memcpy(t->v[t->n], k, sizeof k);
	t->hash[j] = (uint32_t)++t->n;
	struct hp_pb *f = &w->sub;
	hp_pb_reset(f);
	hp_pb_uint(f, FUNCTION_ID, t->n);
	hp_pb_uint(f, FUNCTION_NAME, k[0]);
	hp_pb_uint(f, FUNCTION_SYSTEM_NAME, k[1]);
	hp_pb_uint(f, FUNCTION_FILENAME, k[2]);
	hp_pb_message(&w->out, PROFILE_FUNCTION, f);
	return t->n;
}

static void value_type(struct writer *w, unsigned field, const char *type, const char *unit)
{
	hp_pb_reset(&w->msg);
	hp_pb_uint(&w->msg, VALUE_TYPE_TYPE, str(w, type));
	hp_pb_uint(&w->msg, VALUE_TYPE_UNIT, str(w, unit));
	hp_pb_message(&w->out, field, &w->msg);
}

static void write_mappings(struct writer *w)
{
	const struct hp_model *m = w->m;
	const struct hp_profile *p = m->prof;
	/* A module with a symbolized frame: pprof must not symbolize it again (its
	 * addresses are runtime ones and the trace has no file offsets). */
	uint8_t *symbols = calloc(p->nmodules ? p->nmodules : 1, 1);
	if (!symbols) {
		w->oom = 1;
		return;
	}
	for (size_t i = 0; i < m->nframes; i++)
		if (m->frames[i].module >= 0 && (size_t)m->frames[i].module < p->nmodules &&
		    (m->frames[i].function || m->frames[i].file))
			symbols[m->frames[i].module] = 1;
	for (size_t i = 0; i < p->nmodules; i++) {
		const struct hp_module_info *mod = &p->modules[i];
		char hex[2 * 64 + 1];
		size_t n = mod->build_id_len < 64 ? mod->build_id_len : 64;
		for (size_t k = 0; k < n; k++)
			snprintf(hex + 2 * k, 3, "%02x", mod->build_id[k]);
		hex[2 * n] = 0;
		struct hp_pb *b = &w->msg;
		hp_pb_reset(b);
		hp_pb_uint(b, MAPPING_ID, i + 1);
		hp_pb_uint(b, MAPPING_MEMORY_START, mod->start);
		hp_pb_uint(b, MAPPING_MEMORY_LIMIT, mod->limit);
		hp_pb_uint(b, MAPPING_FILENAME, str(w, mod->path));
		hp_pb_uint(b, MAPPING_BUILD_ID, str(w, hex));
		hp_pb_uint(b, MAPPING_HAS_FUNCTIONS, symbols[i]);
		hp_pb_uint(b, MAPPING_HAS_FILENAMES, symbols[i]);
		hp_pb_uint(b, MAPPING_HAS_LINE_NUMBERS, symbols[i]);
		hp_pb_uint(b, MAPPING_HAS_INLINE_FRAMES, symbols[i]);
		hp_pb_message(&w->out, PROFILE_MAPPING, b);
	}
	free(symbols);
}

/* Every location with its frames as lines, callee first; a frame without function
 * nor file gives no line, so pprof shows the address in its mapping. */
static void write_locations(struct writer *w)
{
	const struct hp_model *m = w->m;
	const struct hp_profile *p = m->prof;
	for (size_t i = 0; i < p->nlocations; i++) {
		const struct hp_location *loc = &p->locations[i];
		struct hp_pb *b = &w->msg;
		hp_pb_reset(b);
		hp_pb_uint(b, LOCATION_ID, i + 1);
		hp_pb_uint(b, LOCATION_MAPPING_ID,
			   loc->module >= 0 ? (uint64_t)loc->module + 1 : 0);
		hp_pb_uint(b, LOCATION_ADDRESS, loc->ip);
		for (uint32_t k = 0; k < loc->nframes && loc->first_frame + k < m->nframes; k++) {
			const struct hp_frame *fr = &m->frames[loc->first_frame + k];
			if (!fr->function && !fr->file)
				continue;
			uint64_t fid = function_id(w, fr); /* may write a Function into w->out */
			struct hp_pb *l = &w->sub;
			hp_pb_reset(l);
			hp_pb_uint(l, LINE_FUNCTION_ID, fid);
			hp_pb_uint(l, LINE_LINE, fr->line);
			hp_pb_uint(l, LINE_COLUMN, fr->column);
			hp_pb_message(b, LOCATION_LINE, l);
		}
		hp_pb_message(&w->out, PROFILE_LOCATION, b);
	}
}

/* The location ids of a site's stack as the reports print it (frames [trim_lo,
 * trim_hi)), leaf first, into w->ids; every location when trimming leaves none. */
static size_t site_ids(struct writer *w, const struct hp_site *s)
{
	const struct hp_profile *p = w->m->prof;
	if (hp_array_reserve((void **)&w->ids, &w->ids_cap, (size_t)s->nlocations + 1,
			     sizeof *w->ids, 64)) {
		w->oom = 1;
		return 0;
	}
	size_t n = 0;
	uint32_t frame = 0;
	for (uint32_t j = 0; j < s->nlocations; j++) {
		uint32_t loc = s->locations[j];
		uint32_t nf = loc < p->nlocations && p->locations[loc].nframes
				  ? p->locations[loc].nframes
				  : 1;
		if (frame + nf > s->trim_lo && frame < s->trim_hi)
			w->ids[n++] = (uint64_t)loc + 1;
		frame += nf;
	}
	if (!n)
		for (uint32_t j = 0; j < s->nlocations; j++)
			w->ids[n++] = (uint64_t)s->locations[j] + 1;
	return n;
}

static void write_samples(struct writer *w, int at_end)
{
	const struct hp_profile *p = w->m->prof;
	uint64_t bytes_key = str(w, "bytes");
	for (size_t i = 0; i < p->nsites; i++) {
		const struct hp_site *s = &p->sites[i];
		if (!s->allocations && !s->allocated_bytes)
			continue;
		uint64_t v[4] = {
		    s->allocations,
		    s->allocated_bytes,
		    at_end ? s->leaked_allocations : s->peak_allocations,
		    at_end ? s->leaked_bytes : s->peak_bytes,
		};
		size_t n = site_ids(w, s);
		struct hp_pb *b = &w->msg;
		hp_pb_reset(b);
		hp_pb_packed(b, SAMPLE_LOCATION_ID, w->ids, n);
		hp_pb_packed(b, SAMPLE_VALUE, v, 4);
		if (s->object_size) {
			hp_pb_reset(&w->sub);
			hp_pb_uint(&w->sub, LABEL_KEY, bytes_key);
			hp_pb_uint(&w->sub, LABEL_NUM, s->object_size);
			hp_pb_message(b, SAMPLE_LABEL, &w->sub);
		}
		hp_pb_message(&w->out, PROFILE_SAMPLE, b);
	}
}

static int gzip_write(FILE *out, const uint8_t *data, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	/* windowBits 15 + 16: a gzip header and trailer, as the format requires on disk. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	uint8_t buf[1 << 15];
	z.next_in = (Bytef *)data;
	int rc = Z_OK, err = 0;
	size_t left = len;
	do {
		uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
		z.avail_in = chunk;
		left -= chunk;
		int flush = left ? Z_NO_FLUSH : Z_FINISH;
		do {
			z.next_out = buf;
			z.avail_out = sizeof buf;
			rc = deflate(&z, flush);
			size_t have = sizeof buf - z.avail_out;
			if (have && fwrite(buf, 1, have, out) != have && !err)
				err = errno ? errno : EIO;
		} while (z.avail_out == 0);
	} while (left);
	deflateEnd(&z);
	if (rc != Z_STREAM_END && !err)
		err = EIO;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static int write_pprof(const struct hp_model *m, const struct hp_output_options *o)
{
	const struct hp_profile *p = m->prof;
	int at_end = o->arg && strcmp(o->arg, "end") == 0;
	struct writer w = {.m = m};
	str(&w, ""); /* string_table[0] */
	value_type(&w, PROFILE_SAMPLE_TYPE, "alloc_objects", "count");
	value_type(&w, PROFILE_SAMPLE_TYPE, "alloc_space", "bytes");
	value_type(&w, PROFILE_SAMPLE_TYPE, "inuse_objects", "count");
	value_type(&w, PROFILE_SAMPLE_TYPE, "inuse_space", "bytes");
	write_samples(&w, at_end);
	write_mappings(&w);
	write_locations(&w);
	value_type(&w, PROFILE_PERIOD_TYPE, "space", "bytes");
	hp_pb_uint(&w.out, PROFILE_PERIOD, p->sample_mean ? p->sample_mean : 1);
	hp_pb_uint(&w.out, PROFILE_DEFAULT_SAMPLE_TYPE, str(&w, "inuse_space"));
	uint64_t start_ns = p->attached ? p->attached_realtime_ns : p->header.start_realtime_ns;
	hp_pb_uint(&w.out, PROFILE_TIME_NANOS, start_ns);
	double dur = p->duration_s * 1e9;
	hp_pb_uint(&w.out, PROFILE_DURATION_NANOS, dur > 0 && dur < 9e18 ? (uint64_t)dur : 0);
	char note[256];
	if (at_end)
		snprintf(note, sizeof note,
			 "heapprof: inuse_* = still allocated at the end (%" PRIu64
			 " bytes in %" PRIu64 " blocks)",
			 p->heap_bytes, p->leaked_allocations);
	else
		snprintf(note, sizeof note,
			 "heapprof: inuse_* = live at the peak (%" PRIu64 " bytes at %.3f s)",
			 p->peak_heap_bytes, p->peak_time_s);
	hp_pb_uint(&w.out, PROFILE_COMMENT, str(&w, note));
	if (p->sample_mean)
		hp_pb_uint(&w.out, PROFILE_COMMENT,
			   str(&w, "heapprof: sampled trace: values are estimates"));
	for (size_t i = 0; i < w.s.n; i++)
		hp_pb_bytes(&w.out, PROFILE_STRING_TABLE, w.s.v[i], strlen(w.s.v[i]));

	int rc = 0;
	if (w.oom || w.out.oom || w.msg.oom || w.sub.oom) {
		errno = ENOMEM;
		rc = -1;
	} else {
		rc = gzip_write(o->out, w.out.buf, w.out.len);
	}
	for (size_t i = 0; i < w.s.n; i++)
		free(w.s.v[i]);
	free(w.s.v);
	free(w.s.hash);
	free(w.f.v);
	free(w.f.hash);
	free(w.ids);
	hp_pb_release(&w.out);
	hp_pb_release(&w.msg);
	hp_pb_release(&w.sub);
	return rc;
}

static int check_pprof_at(const char *arg)
{
	return !arg || strcmp(arg, "peak") == 0 || strcmp(arg, "end") == 0 ? 0 : -1;
}

const struct hp_output hp_output_pprof = {
    .name = "pprof",
    .flags = HP_OUTPUT_HIDDEN,
    .check_arg = check_pprof_at,
    .write = write_pprof,
};
