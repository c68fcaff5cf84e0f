/* Unit tests for proto/tzinfo.c: the TIME_ZONE_INFORMATION blob of
 * MS-ASDTYPE 2.7 decoded and encoded byte for byte (Berlin as Windows and
 * iOS send it), UTF-16 names, refused lengths and out-of-range fields,
 * rule comparison, and the UTC offset on both sides of each transition in
 * the northern and southern hemispheres. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "proto/tzinfo.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, int32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)((uint32_t)v >> (8 * i));
}

static void
put_ascii(uint8_t *p, const char *s)
{
	for (size_t i = 0; s[i] != '\0'; i++)
		put16(p + 2 * i, (uint8_t)s[i]);
}

/* "W. Europe Standard Time": Bias -60, standard from the last Sunday of
 * October 03:00, daylight from the last Sunday of March 02:00, -60. */
static void
berlin(uint8_t *b)
{
	memset(b, 0, TZINFO_BLOB_BYTES);
	put32(b, -60);
	put_ascii(b + 4, "W. Europe Standard Time");
	put16(b + 68 + 2, 10);
	put16(b + 68 + 6, 5);
	put16(b + 68 + 8, 3);
	put_ascii(b + 88, "W. Europe Daylight Time");
	put16(b + 152 + 2, 3);
	put16(b + 152 + 6, 5);
	put16(b + 152 + 8, 2);
	put32(b + 168, -60);
}

static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi};

	return (int64_t)timegm(&tm);
}

static void
test_decode_encode_exact(void **state)
{
	uint8_t b[TZINFO_BLOB_BYTES], out[TZINFO_BLOB_BYTES];
	struct tzinfo tz;

	(void)state;
	berlin(b);
	assert_int_equal(tzinfo_decode(b, sizeof(b), &tz), 0);
	assert_int_equal(tz.bias, -60);
	assert_string_equal(tz.std_name, "W. Europe Standard Time");
	assert_string_equal(tz.dst_name, "W. Europe Daylight Time");
	assert_int_equal(tz.std_date.month, 10);
	assert_int_equal(tz.std_date.day, 5);
	assert_int_equal(tz.std_date.hour, 3);
	assert_int_equal(tz.dst_date.month, 3);
	assert_int_equal(tz.dst_bias, -60);
	assert_true(tzinfo_has_dst(&tz));
	tzinfo_encode(&tz, out);
	assert_memory_equal(out, b, sizeof(b));
}

static void
test_names_utf16(void **state)
{
	uint8_t b[TZINFO_BLOB_BYTES] = {0}, out[TZINFO_BLOB_BYTES];
	struct tzinfo tz;

	(void)state;
	/* "Zürich" then an unpaired surrogate: U+FFFD. */
	put_ascii(b + 4, "Z");
	put16(b + 6, 0x00fc);
	put_ascii(b + 8, "rich");
	put16(b + 88, 0xdc00);
	assert_int_equal(tzinfo_decode(b, sizeof(b), &tz), 0);
	assert_string_equal(tz.std_name, "Z\xc3\xbcrich");
	assert_string_equal(tz.dst_name, "\xef\xbf\xbd");
	tzinfo_encode(&tz, out);
	assert_memory_equal(out + 4, b + 4, 64);
	/* A 40-character name is cut to 31 units and a NUL. */
	memset(&tz, 0, sizeof(tz));
	memset(tz.std_name, 'a', 40);
	tz.std_name[40] = '\0';
	tzinfo_encode(&tz, out);
	assert_int_equal(out[4 + 2 * 30], 'a');
	assert_int_equal(out[4 + 2 * 31], 0);
}

static void
test_refused(void **state)
{
	uint8_t b[TZINFO_BLOB_BYTES + 1];
	struct tzinfo tz;

	(void)state;
	berlin(b);
	assert_int_equal(tzinfo_decode(b, TZINFO_BLOB_BYTES - 1, &tz), -1);
	assert_int_equal(tzinfo_decode(b, TZINFO_BLOB_BYTES + 1, &tz), -1);
	assert_int_equal(tzinfo_decode(b, 0, &tz), -1);
	put16(b + 68 + 2, 13); /* month 13 */
	assert_int_equal(tzinfo_decode(b, TZINFO_BLOB_BYTES, &tz), -1);
	berlin(b);
	put16(b + 152 + 4, 7); /* day of week 7 */
	assert_int_equal(tzinfo_decode(b, TZINFO_BLOB_BYTES, &tz), -1);
	berlin(b);
	put32(b, 25 * 60); /* more than a day */
	assert_int_equal(tzinfo_decode(b, TZINFO_BLOB_BYTES, &tz), -1);
}

static void
test_rules_and_offsets(void **state)
{
	uint8_t b[TZINFO_BLOB_BYTES];
	struct tzinfo tz, other, sydney = {0};

	(void)state;
	berlin(b);
	assert_int_equal(tzinfo_decode(b, sizeof(b), &tz), 0);
	other = tz;
	memcpy(other.std_name, "x", 2);
	assert_true(tzinfo_same_rules(&tz, &other));
	other.dst_date.hour = 1;
	assert_false(tzinfo_same_rules(&tz, &other));
	/* 2026: DST from 29 March 01:00 UTC to 25 October 01:00 UTC. */
	assert_int_equal(tzinfo_utc_offset_min(&tz, utc(2026, 1, 15, 12, 0)),
			 60);
	assert_int_equal(tzinfo_utc_offset_min(&tz, utc(2026, 3, 29, 0, 59)),
			 60);
	assert_int_equal(tzinfo_utc_offset_min(&tz, utc(2026, 3, 29, 1, 0)),
			 120);
	assert_int_equal(tzinfo_utc_offset_min(&tz, utc(2026, 10, 25, 0, 59)),
			 120);
	assert_int_equal(tzinfo_utc_offset_min(&tz, utc(2026, 10, 25, 1, 0)),
			 60);
	/* Sydney: +10, DST (+11) from the first Sunday of October 02:00 to
	 * the first Sunday of April 03:00 (2026: 5 April, 4 October). */
	sydney.bias = -600;
	sydney.std_date.month = 4;
	sydney.std_date.day = 1;
	sydney.std_date.hour = 3;
	sydney.dst_date.month = 10;
	sydney.dst_date.day = 1;
	sydney.dst_date.hour = 2;
	sydney.dst_bias = -60;
	assert_int_equal(tzinfo_utc_offset_min(&sydney, utc(2026, 1, 15, 0, 0)),
			 660);
	assert_int_equal(
	    tzinfo_utc_offset_min(&sydney, utc(2026, 4, 4, 15, 59)), 660);
	assert_int_equal(tzinfo_utc_offset_min(&sydney, utc(2026, 4, 4, 16, 0)),
			 600);
	assert_int_equal(
	    tzinfo_utc_offset_min(&sydney, utc(2026, 10, 3, 15, 59)), 600);
	assert_int_equal(
	    tzinfo_utc_offset_min(&sydney, utc(2026, 10, 3, 16, 0)), 660);
	/* No DST: the bias alone. */
	memset(&other, 0, sizeof(other));
	other.bias = 300;
	assert_false(tzinfo_has_dst(&other));
	assert_int_equal(tzinfo_utc_offset_min(&other, utc(2026, 7, 1, 0, 0)),
			 -300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_encode_exact),
	    cmocka_unit_test(test_names_utf16),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_rules_and_offsets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
