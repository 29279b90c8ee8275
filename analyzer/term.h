/* The terminal the reports are written to: whether to colour them and how wide to lay
 * them out (the text report, the diff). Colour follows --color=auto|always|never; auto
 * colours only a terminal, and never when NO_COLOR is set to a non-empty value
 * (no-color.org) or TERM is "dumb". The width is COLUMNS when it is a number, else the
 * terminal's (TIOCGWINSZ), else HP_TERM_DEFAULT_WIDTH, so output to a file or a pipe is
 * laid out the same everywhere. Not thread-safe (reads the environment). */
#ifndef HP_TERM_H
#define HP_TERM_H

#ifdef __cplusplus
extern "C" {
#endif

#define HP_TERM_DEFAULT_WIDTH 100
#define HP_TERM_MIN_WIDTH 40
#define HP_TERM_MAX_WIDTH 1000

enum hp_color_mode { HP_COLOR_AUTO, HP_COLOR_ALWAYS, HP_COLOR_NEVER };

/* Parses "auto", "always" or "never" into *mode. Returns 0 or -EINVAL. */
int hp_term_parse_color(const char *s, enum hp_color_mode *mode);

/* 1 when output to file descriptor fd is to be coloured under `mode`, else 0. */
int hp_term_color(enum hp_color_mode mode, int fd);

/* The width to lay output to fd out for, clamped to [HP_TERM_MIN_WIDTH,
 * HP_TERM_MAX_WIDTH]. */
unsigned hp_term_width(int fd);

/* What a piece of a report is, for its colour. */
enum hp_style {
	HP_STYLE_RESET,
	HP_STYLE_TITLE,	   /* section titles: bold */
	HP_STYLE_RANK,	   /* "#1": cyan */
	HP_STYLE_WORSE,	   /* an increase in a diff, leaked bytes: red */
	HP_STYLE_BETTER,   /* a decrease in a diff: green */
	HP_STYLE_WARNING,  /* warnings: yellow */
	HP_STYLE_LOCATION, /* file:line of a frame: dim */
};

/* The escape sequence that starts `s` (HP_STYLE_RESET ends any), or "" when !color. */
const char *hp_term_style(int color, enum hp_style s);

#ifdef __cplusplus
}
#endif
#endif
