/* Opening a module's file for symbolization, and opening files ahead on a thread
 * (symbolize_open.h).
 *
 * Debug info is searched locally only: by build-id under each debug root
 * (ROOT/.build-id/xx/yyyy.debug, also for dwz alt files), then by .gnu_debuglink in the
 * module's directory, its .debug/ and ROOT/<module's directory>/. The libdwfl callbacks
 * that reach debuginfod (dwfl_standard_find_debuginfo, dwfl_build_id_find_elf) are never
 * used, so no network lookup happens whatever DEBUGINFOD_URLS says.
 *
 * The opener's thread and its caller may use libdw at once: elfutils keeps its errors
 * per thread, and the two never touch the same Dwfl (a file is the thread's until
 * hp_symbol_opener_take() hands it over, under the opener's lock). */
#define _GNU_SOURCE /* asprintf, strsep */
#include "symbolize_open.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_DEBUG_ROOT "/usr/lib/debug"

static void warnf(struct hp_opened *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void warnf(struct hp_opened *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->warning, sizeof out->warning, fmt, ap);
	va_end(ap);
}

/* ---- the local search for debug info ---- */

static int find_elf_none(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			 char **file_name, Elf **elfp)
{
	/* Every module is reported with its ELF already open; never search for one. */
	return -1;
}

static uint32_t crc32_fd(int fd, int *ok)
{
	static uint32_t table[256];
	unsigned char buf[65536];
	uint32_t crc = 0xffffffffu;
	ssize_t n;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	*ok = 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
	}
	*ok = n == 0;
	return crc ^ 0xffffffffu;
}

/* Does the candidate debug file belong to the module? By build-id when the module has one,
 * else by the debuglink's CRC. */
static int debug_file_matches(Dwfl_Module *mod, int fd, GElf_Word crc)
{
	const unsigned char *want;
	GElf_Addr note_vaddr;
	int want_len = dwfl_module_build_id(mod, &want, &note_vaddr);

	if (want_len > 0) {
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		const void *have;
		ssize_t have_len = elf ? dwelf_elf_gnu_build_id(elf, &have) : -1;
		int same = have_len == want_len && memcmp(have, want, (size_t)want_len) == 0;
		elf_end(elf);
		return same;
	}
	int ok;
	uint32_t got = crc32_fd(fd, &ok);
	return ok && got == crc;
}

static int try_debuglink(Dwfl_Module *mod, const struct stat *main_st, const char *dir,
			 const char *sub, const char *name, GElf_Word crc, char **found)
{
	char *p;
	struct stat st;

	if (asprintf(&p, "%s%s%s/%s", dir, sub[0] ? "/" : "", sub, name) < 0)
		return -1;
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    !(st.st_dev == main_st->st_dev && st.st_ino == main_st->st_ino) &&
	    debug_file_matches(mod, fd, crc)) {
		*found = p;
		return fd;
	}
	if (fd >= 0)
		close(fd);
	free(p);
	return -1;
}

static int find_debuginfo_local(Dwfl_Module *mod, void **userdata, const char *modname,
				Dwarf_Addr base, const char *file_name, const char *debuglink,
				GElf_Word crc, char **debuginfo_file_name)
{
	int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink,
					      crc, debuginfo_file_name);
	/* crc == 0 with a name: libdwfl asks for a dwz alt file; those are found by build-id. */
	if (fd >= 0 || !debuglink || !file_name || crc == 0 || !userdata || !*userdata)
		return fd;

	const char *roots = *userdata; /* hp_open_file() set it */
	const char *slash = strrchr(file_name, '/');
	struct stat main_st;
	if (!slash || stat(file_name, &main_st) != 0)
		return -1;
	char *dir = strndup(file_name, (size_t)(slash - file_name));
	char *path = strdup(roots);
	if (!dir || !path) {
		free(dir);
		free(path);
		return -1;
	}
	char *rest = path, *entry;
	while (fd < 0 && (entry = strsep(&rest, ":")) != NULL) {
		if (entry[0] == '/') {
			/* ROOT/<module's directory>/<debuglink> */
			char *root;
			if (asprintf(&root, "%s%s", entry, dir) >= 0) {
				fd = try_debuglink(mod, &main_st, root, "", debuglink, crc,
						   debuginfo_file_name);
				free(root);
			}
		} else {
			fd = try_debuglink(mod, &main_st, dir[0] ? dir : "", entry, debuglink, crc,
					   debuginfo_file_name);
		}
	}
	free(path);
	free(dir);
	return fd;
}

char *hp_debuginfo_path_new(void)
{
	const char *env = getenv("HEAPPROF_DEBUGINFO_PATH");
	size_t len =
	    strlen(":.debug") + 1 + (env && *env ? strlen(env) : strlen(DEFAULT_DEBUG_ROOT));
	char *p = malloc(len + 1);
	if (!p)
		return NULL;
	strcpy(p, ":.debug");
	if (!env || !*env) {
		strcat(p, ":" DEFAULT_DEBUG_ROOT);
		return p;
	}
	char *copy = strdup(env), *rest = copy, *entry;
	if (!copy) {
		free(p);
		return NULL;
	}
	while ((entry = strsep(&rest, ":")) != NULL) {
		if (entry[0] != '/') /* relative roots would mean something else to libdwfl */
			continue;
		strcat(p, ":");
		strcat(p, entry);
	}
	free(copy);
	return p;
}

void hp_open_callbacks(Dwfl_Callbacks *cb, char **debuginfo_path)
{
	memset(cb, 0, sizeof *cb);
	cb->find_elf = find_elf_none;
	cb->find_debuginfo = find_debuginfo_local;
	cb->section_address = dwfl_offline_section_address;
	cb->debuginfo_path = debuginfo_path;
}

/* ---- opening a file ---- */

static int is_pseudo_path(const char *path)
{
	return !path[0] || path[0] == '[';
}

void hp_open_file(const Dwfl_Callbacks *cb, const char *path, const uint8_t *build_id,
		  size_t build_id_len, struct hp_opened *out)
{
	memset(out, 0, sizeof *out);
	if (is_pseudo_path(path))
		return;

	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		warnf(out, "cannot open '%s': %s; its frames stay unsymbolized", path,
		      strerror(errno));
		return;
	}
	struct stat st;
	int st_err = fstat(fd, &st) != 0 ? errno : 0;
	if (st_err || !S_ISREG(st.st_mode)) {
		warnf(out, "cannot read '%s': %s; its frames stay unsymbolized", path,
		      st_err		    ? strerror(st_err)
		      : S_ISDIR(st.st_mode) ? strerror(EISDIR)
					    : "not a regular file");
		close(fd);
		return;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr ehdr;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr) ||
	    (ehdr.e_type != ET_DYN && ehdr.e_type != ET_EXEC)) {
		warnf(
		    out,
		    "'%s' is not an ELF executable or shared library; its frames stay unsymbolized",
		    path);
		elf_end(elf);
		close(fd);
		return;
	}
	const void *bid;
	ssize_t bid_len = dwelf_elf_gnu_build_id(elf, &bid);
	int same = build_id_len == 0 ||
		   (bid_len == (ssize_t)build_id_len && memcmp(bid, build_id, build_id_len) == 0);
	elf_end(elf);
	close(fd);
	if (!same) {
		warnf(out,
		      "'%s' does not match the trace (build-id differs; rebuilt since?); its "
		      "frames stay unsymbolized",
		      path);
		return;
	}

	out->dwfl = dwfl_begin(cb);
	if (!out->dwfl) {
		warnf(out, "cannot read '%s': %s; its frames stay unsymbolized", path,
		      dwfl_errmsg(-1));
		return;
	}
	dwfl_report_begin(out->dwfl);
	/* Base 0 with add_p_vaddr: dwfl addresses = ELF vaddrs (libdwfl forces 0 for ET_EXEC). */
	out->mod = dwfl_report_elf(out->dwfl, path, path, -1, 0, true);
	dwfl_report_end(out->dwfl, NULL, NULL);
	if (!out->mod) {
		warnf(out, "cannot read '%s': %s; its frames stay unsymbolized", path,
		      dwfl_errmsg(-1));
		return;
	}
	/* The file was opened again by libdwfl: check that it is still the one we checked. */
	const unsigned char *bits;
	GElf_Addr note_vaddr;
	int bits_len = dwfl_module_build_id(out->mod, &bits, &note_vaddr);
	if (build_id_len &&
	    (bits_len != (int)build_id_len || memcmp(bits, build_id, build_id_len) != 0)) {
		warnf(out,
		      "'%s' does not match the trace (build-id differs; rebuilt since?); its "
		      "frames stay unsymbolized",
		      path);
		return;
	}
	void **userdata;
	dwfl_module_info(out->mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	*userdata = *cb->debuginfo_path; /* find_debuginfo_local()'s roots */
	out->ok = 1;

	Dwarf_Addr bias;
	if (!dwfl_module_getdwarf(out->mod, &bias))
		warnf(out, HP_SYMBOLIZE_NO_DEBUG_INFO_PREFIX "%s" HP_SYMBOLIZE_NO_DEBUG_INFO_SUFFIX,
		      path);
}

/* ---- a file's identity ---- */

int hp_file_id_set(struct hp_file_id *id, const char *path, const uint8_t *build_id,
		   size_t build_id_len)
{
	id->path = strdup(path);
	id->build_id = malloc(build_id_len ? build_id_len : 1);
	id->build_id_len = build_id_len;
	if (!id->path || !id->build_id) {
		hp_file_id_release(id);
		return -ENOMEM;
	}
	if (build_id_len)
		memcpy(id->build_id, build_id, build_id_len);
	return 0;
}

int hp_file_id_is(const struct hp_file_id *id, const char *path, const uint8_t *build_id,
		  size_t build_id_len)
{
	return id->build_id_len == build_id_len && strcmp(id->path, path) == 0 &&
	       (!build_id_len || memcmp(id->build_id, build_id, build_id_len) == 0);
}

void hp_file_id_release(struct hp_file_id *id)
{
	free(id->path);
	free(id->build_id);
	memset(id, 0, sizeof *id);
}

/* ---- the opener ---- */

enum job_state { JOB_QUEUED, JOB_OPENING, JOB_DONE, JOB_TAKEN };

struct job {
	struct job *next;
	struct hp_file_id id;
	enum job_state state;
	struct hp_opened opened; /* JOB_DONE */
};

struct hp_symbol_opener {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job was queued or done, or stop was set */
	pthread_t thread;
	int started, stop;
	struct job *jobs, **tail; /* in the order added; taken ones stay, so none is queued twice */
	Dwfl_Callbacks callbacks; /* every Dwfl of the thread keeps a pointer to them */
	char *debuginfo_path;
};

static void *opener_main(void *arg)
{
	struct hp_symbol_opener *o = arg;
	struct job *j = NULL;

	pthread_mutex_lock(&o->lock);
	for (;;) {
		/* Jobs are appended: the next queued one is after the last one looked at. */
		for (j = j ? j : o->jobs; j && j->state != JOB_QUEUED; j = j->next)
			if (!j->next)
				break;
		if (o->stop)
			break;
		if (!j || j->state != JOB_QUEUED) {
			pthread_cond_wait(&o->changed, &o->lock);
			continue;
		}
		j->state = JOB_OPENING;
		pthread_mutex_unlock(&o->lock);
		struct hp_opened opened;
		hp_open_file(&o->callbacks, j->id.path, j->id.build_id, j->id.build_id_len,
			     &opened);
		pthread_mutex_lock(&o->lock);
		j->opened = opened;
		j->state = JOB_DONE;
		pthread_cond_broadcast(&o->changed);
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

struct hp_symbol_opener *hp_symbol_opener_new(void)
{
	if (elf_version(EV_CURRENT) == EV_NONE) { /* before any thread uses libelf */
		errno = ENOSYS;
		return NULL;
	}
	struct hp_symbol_opener *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->debuginfo_path = hp_debuginfo_path_new();
	if (!o->debuginfo_path || pthread_mutex_init(&o->lock, NULL)) {
		free(o->debuginfo_path);
		free(o);
		errno = ENOMEM;
		return NULL;
	}
	pthread_cond_init(&o->changed, NULL);
	o->tail = &o->jobs;
	hp_open_callbacks(&o->callbacks, &o->debuginfo_path);
	return o;
}

int hp_symbol_opener_add(struct hp_symbol_opener *o, const char *path, const uint8_t *build_id,
			 size_t build_id_len)
{
	if (!path || is_pseudo_path(path))
		return 0;
	if (!build_id)
		build_id_len = 0;
	pthread_mutex_lock(&o->lock);
	int rc = 0;
	struct job *j = o->jobs;
	while (j && !hp_file_id_is(&j->id, path, build_id, build_id_len))
		j = j->next;
	if (j)
		goto out;
	rc = -ENOMEM;
	j = calloc(1, sizeof *j);
	if (!j || hp_file_id_set(&j->id, path, build_id, build_id_len)) {
		free(j);
		goto out;
	}
	*o->tail = j;
	o->tail = &j->next;
	rc = 0;
	if (!o->started) {
		/* Without a thread the queued files are opened by their symbolizer. */
		o->started = pthread_create(&o->thread, NULL, opener_main, o) == 0;
		if (!o->started)
			j->state = JOB_TAKEN;
	}
	pthread_cond_broadcast(&o->changed);
out:
	pthread_mutex_unlock(&o->lock);
	return rc;
}

int hp_symbol_opener_take(struct hp_symbol_opener *o, const char *path, const uint8_t *build_id,
			  size_t build_id_len, const char *debuginfo_path, struct hp_opened *out)
{
	int took = 0;
	pthread_mutex_lock(&o->lock);
	struct job *j = o->jobs;
	while (j && !hp_file_id_is(&j->id, path, build_id, build_id_len))
		j = j->next;
	if (j && j->state == JOB_QUEUED)
		j->state = JOB_TAKEN; /* not begun: the caller opens it now, not after the others */
	while (j && j->state == JOB_OPENING)
		pthread_cond_wait(&o->changed, &o->lock);
	if (j && j->state == JOB_DONE) {
		/* Searched along other roots (HEAPPROF_DEBUGINFO_PATH changed since): opened
		 * again by the caller. */
		if (strcmp(debuginfo_path, o->debuginfo_path) == 0) {
			*out = j->opened;
			took = 1;
		} else if (j->opened.dwfl) {
			dwfl_end(j->opened.dwfl);
		}
		j->state = JOB_TAKEN;
	}
	pthread_mutex_unlock(&o->lock);
	return took;
}

void hp_symbol_opener_drain(struct hp_symbol_opener *o)
{
	pthread_mutex_lock(&o->lock);
	for (;;) {
		const struct job *j = o->jobs;
		while (j && j->state != JOB_QUEUED && j->state != JOB_OPENING)
			j = j->next;
		if (!j || !o->started)
			break;
		pthread_cond_wait(&o->changed, &o->lock);
	}
	pthread_mutex_unlock(&o->lock);
}

void hp_symbol_opener_free(struct hp_symbol_opener *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	o->stop = 1;
	pthread_cond_broadcast(&o->changed);
	pthread_mutex_unlock(&o->lock);
	if (o->started)
		pthread_join(o->thread, NULL);
	for (struct job *j = o->jobs, *next; j; j = next) {
		next = j->next;
		if (j->state == JOB_DONE && j->opened.dwfl)
			dwfl_end(j->opened.dwfl);
		hp_file_id_release(&j->id);
		free(j);
	}
	pthread_cond_destroy(&o->changed);
	pthread_mutex_destroy(&o->lock);
	free(o->debuginfo_path);
	free(o);
}
