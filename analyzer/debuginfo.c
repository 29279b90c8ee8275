/* The "no debug info" warnings gathered into one line with a package hint (debuginfo.h). */
#define _GNU_SOURCE
#include "debuginfo.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "symbolize.h"

#define MAX_NAMED 8 /* modules named on the line; then "and N more" */

extern char **environ;

int hp_debuginfo_take(struct hp_debuginfo *d, const char *msg)
{
	static const char prefix[] = HP_SYMBOLIZE_NO_DEBUG_INFO_PREFIX;
	static const char suffix[] = HP_SYMBOLIZE_NO_DEBUG_INFO_SUFFIX;
	size_t pl = sizeof prefix - 1, sl = sizeof suffix - 1, n = strlen(msg);
	if (n < pl + sl || memcmp(msg, prefix, pl) || memcmp(msg + n - sl, suffix, sl))
		return 0;
	size_t len = n - pl - sl;
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->paths[i]) == len && !memcmp(d->paths[i], msg + pl, len))
			return 1;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **v = realloc(d->paths, cap * sizeof *v);
		if (!v)
			return 1;
		d->paths = v;
		d->cap = cap;
	}
	char *p = strndup(msg + pl, len);
	if (p)
		d->paths[d->n++] = p;
	return 1;
}

void hp_debuginfo_release(struct hp_debuginfo *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->paths[i]);
	free(d->paths);
	memset(d, 0, sizeof *d);
}

/* The output of `prog -S paths...` (stderr discarded), NUL-terminated; NULL when it
 * cannot be run. */
static char *query(const char *prog, char *const *paths, size_t n)
{
	char **argv = calloc(n + 3, sizeof *argv);
	int fd[2];
	if (!argv || pipe2(fd, O_CLOEXEC)) {
		free(argv);
		return NULL;
	}
	argv[0] = (char *)prog;
	argv[1] = (char *)"-S";
	memcpy(argv + 2, paths, n * sizeof *argv);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	close(fd[1]);
	char *out = NULL;
	size_t len = 0, cap = 0;
	if (!rc) {
		for (;;) {
			if (len + 4096 + 1 > cap) {
				size_t c = cap ? cap * 2 : 8192;
				char *v = realloc(out, c);
				if (!v)
					break;
				out = v;
				cap = c;
			}
			ssize_t r = read(fd[0], out + len, cap - len - 1);
			if (r <= 0)
				break;
			len += (size_t)r;
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	close(fd[0]);
	if (out)
		out[len] = 0;
	return out;
}

/* The package of each path, by file name ("libc6:amd64, libc6-x: /lib/.../libc.so.6"
 * gives libc6 to every path named libc.so.6); pkg[i] malloc'd or NULL. */
static void packages(const struct hp_debuginfo *d, char **pkg)
{
	const char *prog = getenv("HEAPPROF_DPKG_QUERY");
	if (!prog)
		prog = "dpkg-query";
	if (!*prog)
		return;
	/* Each path as recorded and with /usr added or dropped: which of the two dpkg knows
	 * depends on the release (merged /usr). Glob characters would make it a pattern. */
	char **q = calloc(2 * d->n + 1, sizeof *q), **alts = calloc(d->n + 1, sizeof *alts);
	size_t nq = 0, nalts = 0;
	for (size_t i = 0; q && alts && i < d->n; i++) {
		const char *p = d->paths[i];
		if (p[0] != '/' || strpbrk(p, "*?[]\\"))
			continue;
		q[nq++] = (char *)p;
		char *alt = NULL;
		if (!strncmp(p, "/usr/", 5))
			alt = strdup(p + 4);
		else if (asprintf(&alt, "/usr%s", p) < 0)
			alt = NULL;
		if (alt)
			q[nq++] = alts[nalts++] = alt;
	}
	char *out = nq ? query(prog, q, nq) : NULL;
	for (size_t i = 0; i < nalts; i++)
		free(alts[i]);
	free(alts);
	free(q);
	for (char *line = out, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *sep = strstr(line, ": /");
		if (!sep || !strncmp(line, "diversion by", 12))
			continue;
		*sep = 0;
		const char *file = hp_basename(sep + 2);
		size_t plen = strcspn(line, ":, ");
		for (size_t j = 0; j < d->n; j++)
			if (!pkg[j] && !strcmp(hp_basename(d->paths[j]), file))
				pkg[j] = strndup(line, plen);
	}
	free(out);
}

void hp_debuginfo_print(const struct hp_debuginfo *d, FILE *err, const char *prog)
{
	if (!d->n)
		return;
	char **pkg = calloc(d->n, sizeof *pkg);
	if (pkg)
		packages(d, pkg);
	if (d->n == 1) {
		fprintf(err,
			"%s: warning: no debug info for '%s': its frames get function names only",
			prog, d->paths[0]);
	} else {
		fprintf(err, "%s: warning: no debug info for %zu modules (", prog, d->n);
		for (size_t i = 0; i < d->n && i < MAX_NAMED; i++)
			fprintf(err, "%s%s", i ? ", " : "", hp_basename(d->paths[i]));
		if (d->n > MAX_NAMED)
			fprintf(err, " and %zu more", d->n - MAX_NAMED);
		fputs("): their frames get function names only", err);
	}
	size_t shown = 0;
	for (size_t i = 0; pkg && i < d->n; i++) {
		if (!pkg[i])
			continue;
		size_t j = 0;
		while (j < i && !(pkg[j] && !strcmp(pkg[j], pkg[i])))
			j++;
		if (j < i)
			continue; /* named already, with its first module */
		fprintf(err, "%s%s-dbgsym (%s)", shown ? ", " : "; install ", pkg[i],
			hp_basename(d->paths[i]));
		shown++;
	}
	if (shown)
		fputs(" from Debian's debug archive, or set DEBUGINFOD_URLS", err);
	fputc('\n', err);
	for (size_t i = 0; pkg && i < d->n; i++)
		free(pkg[i]);
	free(pkg);
}
