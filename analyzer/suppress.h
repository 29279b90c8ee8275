/* Leak suppressions in LeakSanitizer's format (docs/leak-check.md, "Suppressions").
 *
 * A suppression file holds one `leak:TEMPLATE` per line; blank lines and lines starting
 * with `#` are ignored, leading and trailing blanks are trimmed. A template is matched as
 * LSan's TemplateMatch() does: a substring match, `*` matches any run of characters, a
 * leading `^` anchors at the start and a trailing `$` at the end. A leak is suppressed
 * when, for some frame of its allocation stack (innermost first), a template matches the
 * frame's module path, function name or source file name; the first such frame and, for
 * it, the first matching rule in load order wins (LSan's order).
 *
 * Not thread-safe; the analyzer is single-threaded. */
#ifndef HP_SUPPRESS_H
#define HP_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a rule came from, for messages and --print-suppressions. */
enum hp_supp_origin {
	HP_SUPP_DEFAULT = 0, /* the built-in list (hp_suppress_add_defaults) */
	HP_SUPP_FILE = 1,    /* --suppressions FILE */
	HP_SUPP_PROGRAM = 2, /* the program's __lsan_default_suppressions() (SUPPRESSIONS record) */
};

struct hp_supp_rule {
	char *templ;	  /* the text after "leak:" */
	int origin;	  /* enum hp_supp_origin */
	const char *from; /* file name, "built-in" or "program" */
	unsigned line;	  /* 1-based line in `from` */
	uint64_t hits;	  /* blocks suppressed by this rule */
	uint64_t bytes;	  /* bytes suppressed by this rule */
};

struct hp_suppressions {
	struct hp_supp_rule *rules;
	size_t nrules, cap;
};

/* LSan's TemplateMatch(): 1 when `templ` matches `str`, else 0. An empty or NULL `str`
 * never matches. Pure function; thread-safe. */
int hp_suppress_template_match(const char *templ, const char *str);

void hp_suppress_init(struct hp_suppressions *s);
void hp_suppress_release(struct hp_suppressions *s);

/* Parses suppression text (not NUL-terminated: `len` bytes). `from` names it in error
 * messages and must outlive `s` (a string constant or an argv element). Returns 0, or
 * -EINVAL for a line that is not `leak:TEMPLATE` (an "x:3: ..." message is written into
 * err), or -ENOMEM. Rules parsed before a bad line are kept. */
int hp_suppress_add_text(struct hp_suppressions *s, const char *text, size_t len, int origin,
			 const char *from, char *err, size_t errsize);

/* Adds one rule: `len` bytes of template (the text after "leak:"). Returns 0 or -ENOMEM. */
int hp_suppress_add_rule(struct hp_suppressions *s, const char *templ, size_t len, int origin,
			 const char *from, unsigned line);

/* Reads and parses a suppression file. Returns 0, -EINVAL as above, or the negative
 * errno of open/read (err then says "cannot read 'f': ..."). */
int hp_suppress_add_file(struct hp_suppressions *s, const char *path, char *err, size_t errsize);

/* Adds the built-in rules for one-time allocations of the C and C++ runtimes (the list
 * is in suppress.c with the reason for each). Returns 0 or -ENOMEM. */
int hp_suppress_add_defaults(struct hp_suppressions *s);

/* The built-in list as suppression text, for --print-suppressions and docs. */
const char *hp_suppress_default_text(void);

/* Returns the index of the rule that suppresses a leak allocated at `frames` (innermost
 * first), or -1 when none does. Does not count the hit. */
long hp_suppress_match(const struct hp_suppressions *s, const struct hp_frame *frames,
		       size_t nframes);

/* Adds a suppressed leak group to rule `rule`'s counters. */
void hp_suppress_count(struct hp_suppressions *s, long rule, uint64_t blocks, uint64_t bytes);

#ifdef __cplusplus
}
#endif
#endif
