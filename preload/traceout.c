/* The trace file; see traceout.h. */
#define _GNU_SOURCE
#include "traceout.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include "clock.h"
#include "fdguard.h"
#include "modmap.h"
#include "options.h"
#include "os.h"
#include "state.h"

static struct {
	int fd;
	int failed;
	char path[PATH_MAX];
	uint64_t file_size, fsize_limit;
	ZSTD_CCtx *cctx;
	uint8_t *stage;
	size_t stage_len;
	uint8_t *zbuf;
	size_t zcap;
	uint64_t last_frame_ns;
} w = {.fd = -1};

int hp_out_init(void)
{
	w.stage = hp_os_map(HP_OUT_STAGE_CAP);
	w.zcap = ZSTD_compressBound(HP_OUT_STAGE_CAP);
	w.zbuf = hp_os_map(w.zcap);
	w.cctx = ZSTD_createCCtx();
	if (!w.stage || !w.zbuf || !w.cctx) {
		hp_state_fail("cannot set up the writer", ENOMEM);
		return -ENOMEM;
	}
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_compressionLevel, hp_options.zstd_level);
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_checksumFlag, 1);
	/* A request loop's events repeat at distances zstd's fast match finder does not
	 * reach; long-distance matching finds them (a third of the redis trace's size,
	 * bench/README.md) at no measurable cost. A frame fits a 2 MiB window. */
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_enableLongDistanceMatching, 1);
	ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_windowLog, 21);
	return 0;
}

const char *hp_out_path(void)
{
	return w.path;
}

size_t hp_out_staged(void)
{
	return w.stage_len;
}

uint64_t hp_out_last_frame_ns(void)
{
	return w.last_frame_ns;
}

int hp_out_is_open(void)
{
	return w.fd >= 0;
}

int hp_out_failed(void)
{
	return w.failed;
}

void hp_out_fork_child(void)
{
	hp_fdguard_close(&w.fd);
}

/* Stops writing and recording: says "<verb> '<path>': <error>" once. */
static void fail(const char *verb, int err)
{
	if (w.failed)
		return;
	w.failed = 1;
	hp_fdguard_close(&w.fd);
	char what[PATH_MAX + 32];
	size_t n = strlen(verb);
	memcpy(what, verb, n);
	what[n++] = ' ';
	what[n++] = '\'';
	size_t pl = strnlen(w.path, PATH_MAX - 1);
	memcpy(what + n, w.path, pl);
	n += pl;
	what[n++] = '\'';
	what[n] = '\0';
	hp_state_fail(what, err);
}

void hp_out_abandon(void)
{
	w.failed = 1;
	hp_fdguard_close(&w.fd);
}

void hp_out_frame(void)
{
	if (w.failed || w.stage_len == 0) {
		w.stage_len = 0;
		return;
	}
	size_t clen = ZSTD_compress2(w.cctx, w.zbuf, w.zcap, w.stage, w.stage_len);
	w.stage_len = 0;
	w.last_frame_ns = hp_clock_mono_ns();
	if (ZSTD_isError(clen)) {
		fail("cannot compress", EIO);
		return;
	}
	/* Stop before the file size limit rather than meet SIGXFSZ: the host's signal
	 * dispositions are not ours to change. */
	if (w.file_size + clen > w.fsize_limit) {
		fail("cannot write", EFBIG);
		return;
	}
	int err = hp_fdguard_write(&w.fd, w.zbuf, clen);
	if (err) {
		fail("cannot write", -err);
		return;
	}
	w.file_size += clen;
}

uint8_t *hp_out_reserve(size_t n)
{
	if (w.stage_len + n > HP_OUT_STAGE_CAP)
		hp_out_frame();
	return w.stage + w.stage_len;
}

void hp_out_commit(uint8_t *end)
{
	w.stage_len = (size_t)(end - w.stage);
	if (w.stage_len >= HP_OUT_STAGE_LIMIT)
		hp_out_frame();
}

void hp_out_put(const uint8_t *rec, size_t len, void *arg)
{
	uint8_t *p = hp_out_reserve(len);
	memcpy(p, rec, len);
	hp_out_commit(p + len);
}

int hp_out_create(void)
{
	char tmpl_path[PATH_MAX];
	int err = hp_options_expand_output(hp_options.output, (long)getpid(), hp_modmap_exe(),
					   tmpl_path, sizeof(tmpl_path));
	if (err) {
		memcpy(w.path, hp_options.output, strnlen(hp_options.output, 64));
		w.path[strnlen(hp_options.output, 64)] = '\0';
		hp_state_fail("output path too long", ENAMETOOLONG);
		return err;
	}
	memcpy(w.path, tmpl_path, strlen(tmpl_path) + 1);
	for (unsigned n = 1;; n++) {
		w.fd =
		    hp_os_open(w.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (w.fd >= 0)
			break;
		err = errno;
		if (err != EEXIST || n > 10000 ||
		    hp_options_unique_name(tmpl_path, n, w.path, sizeof(w.path))) {
			fail("cannot create", err);
			return -err;
		}
	}
	hp_fdguard_adopt(&w.fd, w.fd); /* high, out of the program's dup2 range */
	struct rlimit rl;
	w.fsize_limit = UINT64_MAX;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		w.fsize_limit = rl.rlim_cur;
	w.file_size = 0;
	w.failed = 0;
	w.stage_len = 0;
	w.last_frame_ns = hp_clock_mono_ns();
	return 0;
}
