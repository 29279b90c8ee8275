/* Unit tests of analyzer/suppress.c: LSan's template semantics, parsing, rule order. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#include "../../analyzer/suppress.h"

static void test_template(void)
{
	/* substring by default */
	CHECK(hp_suppress_template_match("foo", "foo"));
	CHECK(hp_suppress_template_match("foo", "xfoox"));
	CHECK(!hp_suppress_template_match("foo", "fo"));
	/* anchors */
	CHECK(hp_suppress_template_match("^foo", "foobar"));
	CHECK(!hp_suppress_template_match("^foo", "xfoo"));
	CHECK(hp_suppress_template_match("bar$", "foobar"));
	CHECK(!hp_suppress_template_match("bar$", "barx"));
	CHECK(hp_suppress_template_match("^foo$", "foo"));
	CHECK(!hp_suppress_template_match("^foo$", "foo2"));
	/* wildcards */
	CHECK(hp_suppress_template_match("a*c", "abbbc"));
	CHECK(hp_suppress_template_match("a*c", "xacx"));
	CHECK(!hp_suppress_template_match("a*c", "ca"));
	CHECK(hp_suppress_template_match("*tls_get_addr*", "__tls_get_addr"));
	CHECK(hp_suppress_template_match("^*foo", "xxfoo"));
	CHECK(hp_suppress_template_match("foo*$", "foobar"));
	CHECK(hp_suppress_template_match("*", "anything"));
	/* LSan's leftmost matching: "a*b$" does not match "abab" there either */
	CHECK(!hp_suppress_template_match("a*b$", "abab"));
	CHECK(hp_suppress_template_match("a*b$", "aab"));
	/* an empty or missing string never matches */
	CHECK(!hp_suppress_template_match("*", ""));
	CHECK(!hp_suppress_template_match("foo", NULL));
	/* C++ names with spaces and parentheses are literal */
	CHECK(hp_suppress_template_match("(anonymous namespace)::pool::pool",
					 "(anonymous namespace)::pool::pool()"));
	CHECK(
	    hp_suppress_template_match("libstdc++.so", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
}

static void test_parse(void)
{
	struct hp_suppressions s;
	char err[256] = "";
	hp_suppress_init(&s);
	const char text[] = "# comment\n"
			    "\n"
			    "  leak:make_node  \r\n"
			    "\tleak:^libfoo.so$\n"
			    "leak:list.c\n"
			    "   # indented comment\n"
			    "leak:last"; /* no final newline */
	CHECK_I64(hp_suppress_add_text(&s, text, sizeof(text) - 1, HP_SUPP_FILE, "t.supp", err,
				       sizeof(err)),
		  0);
	CHECK_U64(s.nrules, 4);
	CHECK_STR(s.rules[0].templ, "make_node");
	CHECK_U64(s.rules[0].line, 3);
	CHECK_STR(s.rules[1].templ, "^libfoo.so$");
	CHECK_U64(s.rules[1].line, 4);
	CHECK_STR(s.rules[3].templ, "last");
	CHECK_U64(s.rules[3].line, 7);
	CHECK_STR(s.rules[3].from, "t.supp");

	const char bad[] = "leak:ok\ninterceptor_via_fun:foo\n";
	CHECK_I64(hp_suppress_add_text(&s, bad, sizeof(bad) - 1, HP_SUPP_FILE, "bad.supp", err,
				       sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "bad.supp:2: not a leak suppression: 'interceptor_via_fun:foo'");
	CHECK_U64(s.nrules, 5); /* the rule before the bad line is kept */

	const char empty[] = "leak:\n";
	CHECK_I64(hp_suppress_add_text(&s, empty, sizeof(empty) - 1, HP_SUPP_FILE, "e.supp", err,
				       sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "e.supp:1: empty leak suppression");
	hp_suppress_release(&s);
}

static void test_match(void)
{
	struct hp_suppressions s;
	char err[256];
	hp_suppress_init(&s);
	const char text[] = "leak:helper.c\nleak:^libfoo\nleak:/libbar.so\nleak:alloc_*_node$\n";
	CHECK_I64(hp_suppress_add_text(&s, text, sizeof(text) - 1, HP_SUPP_FILE, "m.supp", err,
				       sizeof(err)),
		  0);
	struct hp_frame st[3] = {
	    {.function = "alloc_list_node", .file = "/src/list.c", .module_path = "/bin/prog"},
	    {.function = "helper", .file = "/src/helper.c", .module_path = "/bin/prog"},
	    {.function = "main", .file = "/src/main.c", .module_path = "/bin/prog"},
	};
	/* the innermost frame decides first: alloc_*_node$ (rule 3) before helper.c (rule 0) */
	CHECK_I64(hp_suppress_match(&s, st, 3), 3);
	st[0].function = "alloc_list_node_x";
	CHECK_I64(hp_suppress_match(&s, st, 3), 0);
	CHECK_I64(hp_suppress_match(&s, st, 1), -1);
	/* a module matches by path; "^libfoo" is anchored at the start of the full path */
	struct hp_frame lib[1] = {{.function = NULL, .module_path = "/usr/lib/libfoo.so.1"}};
	CHECK_I64(hp_suppress_match(&s, lib, 1), -1);
	lib[0].module_path = "/usr/lib/libbar.so.2";
	CHECK_I64(hp_suppress_match(&s, lib, 1), 2);
	/* unknown strings never match, even "*" */
	struct hp_frame none[1] = {{0}};
	CHECK_I64(hp_suppress_match(&s, none, 1), -1);

	hp_suppress_count(&s, 2, 3, 96);
	hp_suppress_count(&s, 2, 1, 8);
	hp_suppress_count(&s, -1, 1, 8);
	CHECK_U64(s.rules[2].hits, 4);
	CHECK_U64(s.rules[2].bytes, 104);
	hp_suppress_release(&s);
}

static void test_defaults_and_file(void)
{
	struct hp_suppressions s;
	char err[256];
	hp_suppress_init(&s);
	CHECK_I64(hp_suppress_add_defaults(&s), 0);
	CHECK(s.nrules > 5);
	struct hp_frame pool[2] = {
	    {.function = "(anonymous namespace)::pool::pool()",
	     .module_path = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"},
	    {.function = "_GLOBAL__sub_I_eh_alloc.cc"},
	};
	CHECK(hp_suppress_match(&s, pool, 2) >= 0);
	struct hp_frame user[1] = {{.function = "make_node", .module_path = "/bin/prog"}};
	CHECK_I64(hp_suppress_match(&s, user, 1), -1);

	char path[] = "/tmp/test_suppress.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	const char body[] = "leak:from_file\n";
	CHECK(write(fd, body, sizeof(body) - 1) == (ssize_t)(sizeof(body) - 1));
	close(fd);
	size_t before = s.nrules;
	CHECK_I64(hp_suppress_add_file(&s, path, err, sizeof(err)), 0);
	CHECK_U64(s.nrules, before + 1);
	CHECK_STR(s.rules[before].templ, "from_file");
	CHECK_U64(s.rules[before].origin, HP_SUPP_FILE);
	unlink(path);
	CHECK_I64(hp_suppress_add_file(&s, path, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "cannot read '/tmp/test_suppress.") == err);
	hp_suppress_release(&s);
}

int main(void)
{
	test_template();
	test_parse();
	test_match();
	test_defaults_and_file();
	return check_done();
}
