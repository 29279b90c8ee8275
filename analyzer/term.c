/* The terminal the reports are written to (term.h). */
#include "term.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int hp_term_parse_color(const char *s, enum hp_color_mode *mode)
{
	static const char *const names[] = {"auto", "always", "never"};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*mode = (enum hp_color_mode)i;
			return 0;
		}
	return -EINVAL;
}

int hp_term_color(enum hp_color_mode mode, int fd)
{
	if (mode != HP_COLOR_AUTO)
		return mode == HP_COLOR_ALWAYS;
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	if (no && *no)
		return 0;
	if (term && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fd);
}

static unsigned clamp(unsigned long w)
{
	return w < HP_TERM_MIN_WIDTH   ? HP_TERM_MIN_WIDTH
	       : w > HP_TERM_MAX_WIDTH ? HP_TERM_MAX_WIDTH
				       : (unsigned)w;
}

unsigned hp_term_width(int fd)
{
	const char *c = getenv("COLUMNS");
	if (c && *c >= '0' && *c <= '9') {
		char *end;
		errno = 0;
		unsigned long w = strtoul(c, &end, 10);
		if (!*end && !errno && w)
			return clamp(w);
	}
	struct winsize ws;
	if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
		return clamp(ws.ws_col);
	return HP_TERM_DEFAULT_WIDTH;
}

const char *hp_term_style(int color, enum hp_style s)
{
	static const char *const sgr[] = {
	    [HP_STYLE_RESET] = "\033[0m",    [HP_STYLE_TITLE] = "\033[1m",
	    [HP_STYLE_RANK] = "\033[36m",    [HP_STYLE_WORSE] = "\033[31m",
	    [HP_STYLE_BETTER] = "\033[32m",  [HP_STYLE_WARNING] = "\033[33m",
	    [HP_STYLE_LOCATION] = "\033[2m",
	};
	if (!color || (unsigned)s >= sizeof sgr / sizeof sgr[0])
		return "";
	return sgr[s];
}
