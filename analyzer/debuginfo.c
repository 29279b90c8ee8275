/* The "no debug info" warnings gathered into one line with a package hint (debuginfo.h). */
#define _GNU_SOURCE
#include "debuginfo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
 * line of the file list `list` (len bytes) of package pkg (pkglen bytes). */
static void scan_list(const char *list, size_t len, const char *pkg, int pkglen, char *const *paths,
		      size_t n, FILE *out)
{
	const char *end = list + len;
	for (size_t i = 0; i < n; i++) {
		size_t pl = strlen(paths[i]);
		for (const char *at = list; (at = memmem(at, (size_t)(end - at), paths[i], pl));
		     at += pl) {
			if ((at == list || at[-1] == '\n') && (at + pl == end || at[pl] == '\n')) {
				fprintf(out, "%.*s: %s\n", pkglen, pkg, paths[i]);
				break;
			}
		}
	}
}

/* What `dpkg-query -S paths...` prints for exact paths, read straight from dpkg's file
 * lists (admin dir $DPKG_ADMINDIR, else /var/lib/dpkg): each info/PKG[:ARCH].list is
 * mapped and searched, about 6 ms for a thousand packages where dpkg-query takes 90
 * (it loads its whole database), which every analysis of a program without its debug
 * info paid. NULL when the lists cannot be read (no dpkg): the caller runs the query. */
static char *scan_dpkg(char *const *paths, size_t n)
{
	const char *admin = getenv("DPKG_ADMINDIR");
	char dir[4096];
	if (snprintf(dir, sizeof dir, "%s/info", admin && *admin ? admin : "/var/lib/dpkg") >=
	    (int)sizeof dir)
		return NULL;
	DIR *dp = opendir(dir);
	if (!dp)
		return NULL;
	int dfd = dirfd(dp);
	char *out = NULL;
	size_t olen = 0;
	FILE *mem = open_memstream(&out, &olen);
	struct dirent *de;
	while (mem && (de = readdir(dp))) {
		size_t nl = strlen(de->d_name);
		if (nl <= 5 || strcmp(de->d_name + nl - 5, ".list"))
			continue;
		/* O_NONBLOCK: a FIFO planted there must not hang the analysis. */
		int fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		if (fd < 0)
			continue;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0) {
			close(fd);
			continue;
		}
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (map == MAP_FAILED)
			continue;
		/* "libc6:amd64.list" is package libc6 */
		size_t pkglen = strcspn(de->d_name, ":");
		if (pkglen > nl - 5)
			pkglen = nl - 5;
		scan_list(map, (size_t)st.st_size, de->d_name, (int)pkglen, paths, n, mem);
		munmap(map, (size_t)st.st_size);
	}
	if (mem && fclose(mem)) {
		free(out);
		out = NULL;
	}
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
