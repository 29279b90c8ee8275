/* LeakSanitizer-compatible leak suppressions: parsing, template matching, hit counts. */
#define _GNU_SOURCE /* memmem */
#include "suppress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One-time allocations of ld.so, glibc and libstdc++ that stay live until exit by
 * design. Each is allocated once per process (or once per thread / loaded module) and
 * freed only by valgrind's __libc_freeres hook, so a test cannot avoid them. Keep this
 * list to such things: anything a program could leak repeatedly does not belong here. */
static const char default_text[] =
    "# glibc bug 12650: dynamic TLS blocks of threads (LSan's default too)\n"
    "leak:*tls_get_addr*\n"
    "# a thread's TLS and DTV, kept for the thread's lifetime\n"
    "leak:_dl_allocate_tls\n"
    "# thread exit keeps per-thread unwinder and cleanup state (LSan's default too)\n"
    "leak:*pthread_exit*\n"
    "# the link map and search paths of every loaded module (dlopen and startup)\n"
    "leak:_dl_new_object\n"
    "leak:_dl_map_object\n"
    "leak:_dl_init_paths\n"
    "leak:_dl_important_hwcaps\n"
    "# dlerror's per-thread message buffer\n"
    "leak:_dlerror_run\n"
    "# locale data loaded by setlocale, cached for the process lifetime\n"
    "leak:_nl_load_locale\n"
    "leak:_nl_intern_locale_data\n"
    "leak:_nl_find_locale\n"
    "# NSS modules and their databases (getpwnam, getaddrinfo, ...), loaded once\n"
    "leak:__nss_module_load\n"
    "leak:__nss_database_get\n"
    "leak:nss_parse_file\n"
    "# the buffers of stdin, stdout and stderr, never closed\n"
    "leak:_IO_file_doallocate\n"
    "# libstdc++'s emergency exception-handling pool, allocated at load time\n"
    "leak:(anonymous namespace)::pool::pool\n";

const char *hp_suppress_default_text(void)
{
	return default_text;
}

int hp_suppress_template_match(const char *templ, const char *str)
{
	if (!templ || !str || !*str)
		return 0;
	int start = 0, asterisk = 0;
	if (*templ == '^') {
		start = 1;
		templ++;
	}
	while (*templ) {
		if (*templ == '*') {
			templ++;
			start = 0;
			asterisk = 1;
			continue;
		}
		if (*templ == '$')
			return *str == 0 || asterisk;
		if (*str == 0)
			return 0;
		/* Leftmost occurrence of the literal run, as LSan's strstr: "a*b$" does not
		 * match "abab", which LSan accepts too. */
		size_t n = strcspn(templ, "*$");
		const char *pos = memmem(str, strlen(str), templ, n);
		if (!pos || (start && pos != str))
			return 0;
		str = pos + n;
		templ += n;
		start = 0;
		asterisk = 0;
	}
	return 1;
}

void hp_suppress_init(struct hp_suppressions *s)
{
	memset(s, 0, sizeof(*s));
}

void hp_suppress_release(struct hp_suppressions *s)
{
	for (size_t i = 0; i < s->nrules; i++)
		free(s->rules[i].templ);
	free(s->rules);
	memset(s, 0, sizeof(*s));
}

int hp_suppress_add_rule(struct hp_suppressions *s, const char *templ, size_t len, int origin,
			 const char *from, unsigned line)
{
	if (s->nrules == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct hp_supp_rule *r = realloc(s->rules, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		s->rules = r;
		s->cap = cap;
	}
	char *t = strndup(templ, len);
	if (!t)
		return -ENOMEM;
	s->rules[s->nrules++] =
	    (struct hp_supp_rule){.templ = t, .origin = origin, .from = from, .line = line};
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int hp_suppress_add_text(struct hp_suppressions *s, const char *text, size_t len, int origin,
			 const char *from, char *err, size_t errsize)
{
	const char *p = text, *end = text + len;
	for (unsigned lineno = 1; p < end; lineno++) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *b = p, *e = eol;
		p = eol < end ? eol + 1 : end;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		if (b == e || *b == '#')
			continue;
		static const char type[] = "leak:";
		size_t tl = sizeof(type) - 1;
		if ((size_t)(e - b) < tl || memcmp(b, type, tl) != 0) {
			snprintf(err, errsize, "%s:%u: not a leak suppression: '%.*s'", from,
				 lineno, (int)(e - b > 80 ? 80 : e - b), b);
			return -EINVAL;
		}
		b += tl;
		if (b == e) {
			/* LSan would suppress everything; refuse rather than hide every leak. */
			snprintf(err, errsize, "%s:%u: empty leak suppression", from, lineno);
			return -EINVAL;
		}
		if (memchr(b, '\0', (size_t)(e - b))) {
			snprintf(err, errsize, "%s:%u: NUL byte in suppression", from, lineno);
			return -EINVAL;
		}
		int rc = hp_suppress_add_rule(s, b, (size_t)(e - b), origin, from, lineno);
		if (rc)
			return rc;
	}
	return 0;
}

int hp_suppress_add_file(struct hp_suppressions *s, const char *path, char *err, size_t errsize)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? 2 * cap : 4096;
			/* A suppression file is a few KiB; 64 MiB means a wrong path. */
			char *nb = cap <= (64u << 20) ? realloc(buf, cap) : NULL;
			if (!nb) {
				free(buf);
				close(fd);
				errno = cap <= (64u << 20) ? ENOMEM : EFBIG;
				goto fail;
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	int rc = hp_suppress_add_text(s, buf, len, HP_SUPP_FILE, path, err, errsize);
	free(buf);
	return rc;
fail:;
	int e = errno;
	snprintf(err, errsize, "cannot read '%s': %s", path, strerror(e));
	return -e;
}

int hp_suppress_add_defaults(struct hp_suppressions *s)
{
	char err[128];
	int rc = hp_suppress_add_text(s, default_text, sizeof(default_text) - 1, HP_SUPP_DEFAULT,
				      "built-in", err, sizeof(err));
	return rc == -EINVAL ? -EIO : rc; /* the built-in text always parses */
}

static long match_str(const struct hp_suppressions *s, const char *str)
{
	if (!str || !*str)
		return -1;
	for (size_t i = 0; i < s->nrules; i++)
		if (hp_suppress_template_match(s->rules[i].templ, str))
			return (long)i;
	return -1;
}

long hp_suppress_match(const struct hp_suppressions *s, const struct hp_frame *frames,
		       size_t nframes)
{
	if (!s->nrules)
		return -1;
	/* LSan tests a frame's module first, then each of its (inlined) functions and
	 * files; frames are tried innermost first. */
	for (size_t i = 0; i < nframes; i++) {
		long r = match_str(s, frames[i].module_path);
		if (r < 0)
			r = match_str(s, frames[i].function);
		if (r < 0)
			r = match_str(s, frames[i].file);
		if (r >= 0)
			return r;
	}
	return -1;
}

void hp_suppress_count(struct hp_suppressions *s, long rule, uint64_t blocks, uint64_t bytes)
{
	if (rule < 0 || (size_t)rule >= s->nrules)
		return;
	s->rules[rule].hits += blocks;
	s->rules[rule].bytes += bytes;
}
