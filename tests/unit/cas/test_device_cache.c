/*
 * Tests of the per-device LRU cache (cas/device_cache.c): lookup by user
 * and DeviceId, replacement frees the older value, the least recently
 * used device is evicted when full, and over-long DeviceIds are refused.
 */
#include "cas/device_cache.h"
#include "proto/limits.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int freed;

static void
count_free(void *value)
{
	freed++;
	free(value);
}

static int *
num(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

static int
get(struct device_cache *c, uint64_t user, const char *dev)
{
	int *p;
	int v;

	device_cache_lock(c);
	p = device_cache_get(c, user, dev);
	v = p != NULL ? *p : -1;
	device_cache_unlock(c);
	return v;
}

static void
put(struct device_cache *c, uint64_t user, const char *dev, int v)
{
	device_cache_lock(c);
	assert_int_equal(device_cache_put(c, user, dev, num(v)), 0);
	device_cache_unlock(c);
}

static void
test_lookup_is_per_user_and_device(void **state)
{
	struct device_cache *c = device_cache_new(8, count_free);

	(void)state;
	freed = 0;
	put(c, 1, "dev", 10);
	put(c, 2, "dev", 20);
	put(c, 1, "other", 30);
	assert_int_equal(get(c, 1, "dev"), 10);
	assert_int_equal(get(c, 2, "dev"), 20);
	assert_int_equal(get(c, 1, "other"), 30);
	assert_int_equal(get(c, 3, "dev"), -1);
	assert_int_equal(device_cache_count(c), 3);
	put(c, 1, "dev", 11);
	assert_int_equal(freed, 1);
	assert_int_equal(get(c, 1, "dev"), 11);
	assert_int_equal(device_cache_count(c), 3);
	device_cache_free(&c);
	assert_null(c);
	assert_int_equal(freed, 4);
}

static void
test_lru_eviction(void **state)
{
	struct device_cache *c = device_cache_new(2, count_free);

	(void)state;
	freed = 0;
	put(c, 1, "a", 1);
	put(c, 1, "b", 2);
	/* Touch "a": "b" becomes the least recently used. */
	assert_int_equal(get(c, 1, "a"), 1);
	put(c, 1, "c", 3);
	assert_int_equal(freed, 1);
	assert_int_equal(get(c, 1, "b"), -1);
	assert_int_equal(get(c, 1, "a"), 1);
	assert_int_equal(get(c, 1, "c"), 3);
	assert_int_equal(device_cache_count(c), 2);
	device_cache_free(&c);
}

static void
test_long_device_id_refused(void **state)
{
	struct device_cache *c = device_cache_new(2, count_free);
	char id[ASHTTP_MAX_DEVICE_ID_BYTES + 2];
	int *v = num(5);

	(void)state;
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	device_cache_lock(c);
	assert_int_equal(device_cache_put(c, 1, id, v), -1);
	device_cache_unlock(c);
	free(v);
	assert_int_equal(device_cache_count(c), 0);
	device_cache_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_is_per_user_and_device),
	    cmocka_unit_test(test_lru_eviction),
	    cmocka_unit_test(test_long_device_id_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
