/* Unit tests for proto/buf.c: the bound is enforced and content survives
 * a failed append. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"

static void
test_append_and_bound(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_append_str(&b, "abcd"), 0);
	assert_int_equal(buf_printf(&b, "%d", 123), 0);
	assert_string_equal(buf_str(&b), "abcd123");
	assert_int_equal(buf_append_str(&b, "xy"), -1);
	assert_string_equal(buf_str(&b), "abcd123");
	assert_int_equal(buf_append_byte(&b, 'z'), 0);
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_append_byte(&b, 'z'), -1);
	buf_consume(&b, 3);
	assert_string_equal(buf_str(&b), "d123z");
	buf_free(&b);
}

static void
test_steal(void **state)
{
	struct buf b;
	size_t len;
	uint8_t *p;

	(void)state;
	buf_init(&b, 1024);
	p = buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 0);
	free(p);
	assert_int_equal(buf_printf(&b, "%s-%s", "a", "b"), 0);
	p = buf_steal(&b, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "a-b", 4);
	assert_null(b.data);
	free(p);
}

static void
test_overflow_sizes(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), -1);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_and_bound),
	    cmocka_unit_test(test_steal),
	    cmocka_unit_test(test_overflow_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
