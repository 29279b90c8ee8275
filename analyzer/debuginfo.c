/* The "no debug info" warnings gathered into one line with a package hint (debuginfo.h). */
#define _GNU_SOURCE
#include "debuginfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Writes "pkg: path\n" (dpkg-query -S's format) to out for each path that is a whole
 * line of the file list `list` (len bytes) of package pkg (pkglen bytes). One pass over
 * the lines for all the paths: a line is compared only where its length is a path's
 * (`lengths`, a bit per length mod 64), which few are. */
static void scan_list(const char *list, size_t len, const char *pkg, int pkglen, char *const *paths,
		      const size_t *plen, size_t n, uint64_t lengths, FILE *out)
{
	const char *end = list + len;
	for (const char *line = list; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t ll = (size_t)((nl ? nl : end) - line);
		if (lengths >> (ll & 63) & 1) {
			for (size_t i = 0; i < n; i++)
				if (plen[i] == ll && !memcmp(line, paths[i], ll))
					fprintf(out, "%.*s: %s\n", pkglen, pkg, paths[i]);
		}
		line += ll + 1;
	}
}

/* Reads the regular file `name` in dfd whole into *buf (grown as needed, kept for the
 * next file). Returns its length, or -1 when it is not a regular file or cannot be read. */
static ssize_t read_list(int dfd, const char *name, char **buf, size_t *cap)
{
	/* O_NONBLOCK: a FIFO planted there must not hang the analysis. */
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat st;
	ssize_t len = -1;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0) {
		size_t want = (size_t)st.st_size + 1;
		char *b = *buf;
		if (want > *cap && (b = realloc(*buf, want))) {
			*buf = b;
			*cap = want;
		}
		if (want <= *cap) {
			/* To its end or a full buffer: a list that grew since fstat is cut. */
			len = 0;
			for (ssize_t r; (size_t)len < *cap &&
					(r = read(fd, *buf + len, *cap - (size_t)len)) != 0;) {
				if (r < 0) {
					if (errno == EINTR)
						continue;
					len = -1;
					break;
				}
				len += r;
			}
		}
	}
	close(fd);
	return len;
}

/* What `dpkg-query -S paths...` prints for exact paths, read straight from dpkg's file
 * lists (admin dir $DPKG_ADMINDIR, else /var/lib/dpkg): each info/PKG[:ARCH].list is
 * read into one buffer and its lines compared once with every path, about 10 ms for a
 * thousand packages (9.5 MB of lists) where dpkg-query takes 90 (it loads its whole
 * database), which every analysis of a program without its debug info paid. (Mapping
 * each list and searching it once per path cost 30 ms: the mappings' faults and a
 * memmem per path.) NULL when the lists cannot be read (no dpkg): the caller runs the
 * query. */
static char *scan_dpkg(char *const *paths, size_t n)
{
	const char *admin = getenv("DPKG_ADMINDIR");
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s/info", admin && *admin ? admin : "/var/lib/dpkg") >=
	    (int)sizeof dir)
		return NULL;
	size_t *plen = malloc(n * sizeof *plen);
	DIR *dp = plen ? opendir(dir) : NULL;
	if (!dp) {
		free(plen);
		return NULL;
	}
	uint64_t lengths = 0;
	for (size_t i = 0; i < n; i++) {
		plen[i] = strlen(paths[i]);
		lengths |= 1ull << (plen[i] & 63);
	}
	int dfd = dirfd(dp);
	char *out = NULL, *buf = NULL;
	size_t olen = 0, cap = 0;
	FILE *mem = open_memstream(&out, &olen);
	struct dirent *de;
	while (mem && (de = readdir(dp))) {
		size_t nl = strlen(de->d_name);
		if (nl <= 5 || strcmp(de->d_name + nl - 5, ".list"))
			continue;
		ssize_t len = read_list(dfd, de->d_name, &buf, &cap);
		if (len <= 0)
			continue;
		/* "libc6:amd64.list" is package libc6 */
		size_t pkglen = strcspn(de->d_name, ":");
		if (pkglen > nl - 5)
			pkglen = nl - 5;
		scan_list(buf, (size_t)len, de->d_name, (int)pkglen, paths, plen, n, lengths, mem);
	}
	if (mem && fclose(mem)) {
		free(out);
		out = NULL;
	}
	free(buf);
	free(plen);
	closedir(dp);
	return out;
}

/* The package of each path, by file name ("libc6:amd64, libc6-x: /lib/.../libc.so.6"
 * gives libc6 to every path named libc.so.6); pkg[i] malloc'd or NULL. */
static void packages(const struct hp_debuginfo *d, char **pkg)
{
	const char *prog = getenv("HEAPPROF_DPKG_QUERY");
	if (prog && !*prog)
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
	/* HEAPPROF_DPKG_QUERY names a stand-in for dpkg-query (tests): run it; else read
	 * dpkg's lists, and run dpkg-query only where they cannot be read. */
	char *out = !nq ? NULL : prog ? query(prog, q, nq) : scan_dpkg(q, nq);
	if (nq && !prog && !out)
		out = query("dpkg-query", q, nq);
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
