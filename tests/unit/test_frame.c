/* analyzer/frame.c: the site key holds across address layouts and builds (function, file
 * name, line), and only there; frame buffers. */
#include "check.h"

#include <errno.h>
#include <stdlib.h>

#include "frame.h"

/* make_node <- build_list (inlined) <- main, as one build symbolizes it. */
static void layout_a(struct hp_frame f[3])
{
	f[0] = (struct hp_frame){.ip = 0x555555401234,
				 .address = 0x1234,
				 .module = 0,
				 .location = 7,
				 .module_path = "/home/a/build/prog",
				 .function = "make_node",
				 .file = "/home/a/src/list.c",
				 .line = 12,
				 .column = 9};
	f[1] = (struct hp_frame){.ip = 0x555555401300,
				 .address = 0x1300,
				 .module = 0,
				 .location = 8,
				 .module_path = "/home/a/build/prog",
				 .function = "build_list",
				 .file = "/home/a/src/list.c",
				 .line = 30,
				 .inlined = 1};
	f[2] = (struct hp_frame){.ip = 0x555555401300,
				 .address = 0x1300,
				 .module = 0,
				 .location = 8,
				 .module_path = "/home/a/build/prog",
				 .function = "main",
				 .mangled = NULL,
				 .file = "/home/a/src/main.c",
				 .line = 40};
}

/* The same code built elsewhere and loaded at another address: other ips, addresses,
 * directories, columns, module and location indices; not inlined this time. */
static void layout_b(struct hp_frame f[3])
{
	layout_a(f);
	for (int i = 0; i < 3; i++) {
		f[i].ip += 0x2aaa0000;
		f[i].address += 0x40;
		f[i].module = 3;
		f[i].location += 100;
		f[i].module_path = "/tmp/ci/out/prog";
		f[i].column = 0;
		f[i].inlined = 0;
	}
	f[0].file = "/tmp/ci/src/list.c";
	f[1].file = "list.c";
	f[2].file = "/tmp/ci/src/main.c";
}

static void test_key(void)
{
	struct hp_frame a[3], b[3];
	layout_a(a);
	layout_b(b);
	uint64_t ka = hp_stack_key(a, 3), kb = hp_stack_key(b, 3);
	CHECK_U64(ka, kb);
	CHECK(hp_stack_equal(a, 3, b, 3));

	/* A line moved: another site. */
	b[0].line = 13;
	CHECK(hp_stack_key(b, 3) != ka);
	CHECK(!hp_stack_equal(a, 3, b, 3));
	b[0].line = 12;
	/* Another function, another file name, another order, a prefix: other sites. */
	b[1].function = "build_tree";
	CHECK(hp_stack_key(b, 3) != ka);
	b[1].function = "build_list";
	b[2].file = "/tmp/ci/src/main2.c";
	CHECK(hp_stack_key(b, 3) != ka);
	b[2].file = "/tmp/ci/src/main.c";
	struct hp_frame swapped[3] = {a[1], a[0], a[2]};
	CHECK(hp_stack_key(swapped, 3) != ka);
	CHECK(hp_stack_key(a, 2) != ka);
	CHECK(!hp_stack_equal(a, 2, a, 3));
	CHECK_U64(hp_stack_key(b, 3), ka);

	/* Fields must not run into each other: ("ab", "c") is not ("a", "bc"). */
	struct hp_frame x = {.function = "ab", .file = "c"}, y = {.function = "a", .file = "bc"};
	CHECK(hp_frame_key(&x) != hp_frame_key(&y));
	CHECK(!hp_frame_same(&x, &y));

	/* Unsymbolized frames: module name and address, so the same build only. */
	struct hp_frame u = {.ip = 0x7f0000001234,
			     .address = 0x1234,
			     .module = 1,
			     .module_path = "/usr/lib/libfoo.so.1"},
			v = u;
	v.ip = 0x7e0000001234;
	v.module_path = "/opt/lib/libfoo.so.1";
	v.module = 4;
	CHECK_U64(hp_frame_key(&u), hp_frame_key(&v));
	CHECK(hp_frame_same(&u, &v));
	v.address = 0x1238;
	CHECK(hp_frame_key(&u) != hp_frame_key(&v));
	CHECK(!hp_frame_same(&u, &v));
	/* A function name makes a frame symbolized whatever its address. */
	struct hp_frame s = u;
	s.function = "foo";
	CHECK(hp_frame_key(&s) != hp_frame_key(&u));
	CHECK(!hp_frame_same(&s, &u));

	/* Pinned values: the key is a stable, documented hash (a diff of traces analyzed by
	 * two heapprof versions relies on it). */
	CHECK_U64(hp_stack_key(NULL, 0), HP_STACK_KEY_INIT);
	CHECK_U64(hp_stack_key(a, 3), 0x18b291daf6096608ull); /* docs/analyzer-model.md */
}

static void test_stack(void)
{
	struct hp_stack st = {0};
	struct hp_frame f = {.function = "f"};
	for (int i = 0; i < 1000; i++) {
		f.line = (unsigned)i;
		CHECK(hp_stack_push(&st, &f) == 0);
	}
	CHECK_U64(st.n, 1000);
	CHECK(st.cap >= 1000);
	CHECK_U64(st.v[999].line, 999);
	CHECK_STR(st.v[0].function, "f");
	hp_stack_release(&st);
	CHECK(st.v == NULL && st.n == 0 && st.cap == 0);
	CHECK_I64(hp_stack_reserve(&st, SIZE_MAX / 2), -ENOMEM);
	hp_stack_release(&st);
}

int main(void)
{
	test_key();
	test_stack();
	return check_done();
}
