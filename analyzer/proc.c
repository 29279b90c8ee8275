/* Whether a trace is still being written (proc.h): its process's descriptors in /proc. */
#define _GNU_SOURCE
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether /proc/pid/fd/<name> links to want. */
static int links_to(uint64_t pid, const char *name, const char *want)
{
	char link[96], got[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%" PRIu64 "/fd/%s", pid, name);
	ssize_t n = readlink(link, got, sizeof got - 1);
	if (n <= 0)
		return 0;
	got[n] = '\0';
	return strcmp(got, want) == 0;
}

int hp_proc_writing(uint64_t pid, const char *want, long *hint)
{
	char dir[64], name[24];
	if (!pid || pid > INT_MAX)
		return 0;
	if (*hint >= 0) {
		snprintf(name, sizeof name, "%ld", *hint);
		if (links_to(pid, name, want))
			return 1;
		*hint = -1;
	}
	snprintf(dir, sizeof dir, "/proc/%" PRIu64 "/fd", pid);
	DIR *d = opendir(dir);
	if (!d)
		return (errno == EACCES || errno == EPERM) &&
		       (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] != '.' && links_to(pid, e->d_name, want)) {
			*hint = strtol(e->d_name, NULL, 10);
			break;
		}
	}
	closedir(d);
	return *hint >= 0;
}

int hp_proc_writing_path(uint64_t pid, const char *path)
{
	char want[PATH_MAX];
	long hint = -1;
	return realpath(path, want) && hp_proc_writing(pid, want, &hint);
}
