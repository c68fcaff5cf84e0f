/*
 * TIME_ZONE_INFORMATION codec (see tzinfo.h).  Bounded: the blob has a
 * fixed size and every field a fixed offset; nothing is allocated.
 */
#include "proto/tzinfo.h"

#include <string.h>

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int32_t
get32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

/* UTF-16LE name of 32 units (stopping at NUL) to UTF-8. */
static void
get_name(const uint8_t *p, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < 32; i++) {
		uint32_t c = get16(p + 2 * i);

		if (c == 0)
			break;
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < 32) {
			uint32_t lo = get16(p + 2 * (i + 1));

			if (lo >= 0xdc00 && lo <= 0xdfff) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				i++;
			} else {
				c = 0xfffd;
			}
		} else if (c >= 0xd800 && c <= 0xdfff) {
			c = 0xfffd;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			/* Four bytes would not fit 31 * 3: U+FFFD. */
			out[o++] = (char)0xef;
			out[o++] = (char)0xbf;
			out[o++] = (char)0xbd;
		}
		if (o + 3 >= TZINFO_NAME_BYTES)
			break;
	}
	out[o] = '\0';
}

/* UTF-8 to UTF-16LE, at most 31 units and a NUL; bad bytes -> U+FFFD. */
static void
put_name(uint8_t *p, const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t n = 0;

	memset(p, 0, 64);
	while (*s != 0 && n < 31) {
		uint32_t c = *s++;

		if (c >= 0xc0 && c < 0xe0 && (*s & 0xc0) == 0x80) {
			c = (c & 0x1f) << 6 | (*s++ & 0x3f);
		} else if (c >= 0xe0 && c < 0xf0 && (s[0] & 0xc0) == 0x80 &&
			   (s[1] & 0xc0) == 0x80) {
			c = (c & 0x0f) << 12 | (uint32_t)(s[0] & 0x3f) << 6 |
			    (s[1] & 0x3f);
			s += 2;
		} else if (c >= 0x80) {
			while ((*s & 0xc0) == 0x80)
				s++;
			c = 0xfffd;
		}
		put16(p + 2 * n++, (uint16_t)c);
	}
}

static int
get_systime(const uint8_t *p, struct tzinfo_systime *t)
{
	t->year = get16(p);
	t->month = get16(p + 2);
	t->day_of_week = get16(p + 4);
	t->day = get16(p + 6);
	t->hour = get16(p + 8);
	t->minute = get16(p + 10);
	t->second = get16(p + 12);
	t->msec = get16(p + 14);
	return t->month > 12 || t->day_of_week > 6 || t->day > 31 ||
		       t->hour > 23 || t->minute > 59 || t->second > 59 ||
		       t->msec > 999
		   ? -1
		   : 0;
}

static void
put_systime(uint8_t *p, const struct tzinfo_systime *t)
{
	put16(p, t->year);
	put16(p + 2, t->month);
	put16(p + 4, t->day_of_week);
	put16(p + 6, t->day);
	put16(p + 8, t->hour);
	put16(p + 10, t->minute);
	put16(p + 12, t->second);
	put16(p + 14, t->msec);
}

int
tzinfo_decode(const uint8_t *blob, size_t len, struct tzinfo *tz_r)
{
	memset(tz_r, 0, sizeof(*tz_r));
	if (len != TZINFO_BLOB_BYTES)
		return -1;
	tz_r->bias = get32(blob);
	get_name(blob + 4, tz_r->std_name);
	tz_r->std_bias = get32(blob + 84);
	get_name(blob + 88, tz_r->dst_name);
	tz_r->dst_bias = get32(blob + 168);
	/* Biases beyond a day are no zone (MS-ASDTYPE 2.7). */
	if (tz_r->bias < -24 * 60 || tz_r->bias > 24 * 60 ||
	    tz_r->std_bias < -24 * 60 || tz_r->std_bias > 24 * 60 ||
	    tz_r->dst_bias < -24 * 60 || tz_r->dst_bias > 24 * 60)
		return -1;
	if (get_systime(blob + 68, &tz_r->std_date) < 0 ||
	    get_systime(blob + 152, &tz_r->dst_date) < 0)
		return -1;
	return 0;
}

void
tzinfo_encode(const struct tzinfo *tz, uint8_t *out)
{
	memset(out, 0, TZINFO_BLOB_BYTES);
	put32(out, tz->bias);
	put_name(out + 4, tz->std_name);
	put_systime(out + 68, &tz->std_date);
	put32(out + 84, tz->std_bias);
	put_name(out + 88, tz->dst_name);
	put_systime(out + 152, &tz->dst_date);
	put32(out + 168, tz->dst_bias);
}

bool
tzinfo_has_dst(const struct tzinfo *tz)
{
	return tz->std_date.month != 0 && tz->dst_date.month != 0;
}

static bool
same_rule(const struct tzinfo_systime *a, const struct tzinfo_systime *b)
{
	return a->month == b->month && a->day_of_week == b->day_of_week &&
	       a->day == b->day && a->hour == b->hour && a->minute == b->minute;
}

bool
tzinfo_same_rules(const struct tzinfo *a, const struct tzinfo *b)
{
	if (a->bias + a->std_bias != b->bias + b->std_bias ||
	    tzinfo_has_dst(a) != tzinfo_has_dst(b))
		return false;
	if (!tzinfo_has_dst(a))
		return true;
	return a->dst_bias == b->dst_bias &&
	       same_rule(&a->std_date, &b->std_date) &&
	       same_rule(&a->dst_date, &b->dst_date);
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int64_t
year_of(int64_t t)
{
	int64_t days = (t >= 0 ? t : t - 86399) / 86400, y = 1970;

	/* Bounded: at most one step per year between 1970 and t. */
	while (days_from_civil(y + 1, 1, 1) <= days && y < 10000)
		y++;
	while (days_from_civil(y, 1, 1) > days && y > 0)
		y--;
	return y;
}

/* Local seconds since the epoch of a yearly rule in year y. */
static int64_t
rule_local(const struct tzinfo_systime *r, int64_t y)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned dim = mdays[r->month - 1];
	int64_t first = days_from_civil(y, r->month, 1), day;
	unsigned dow1, week = r->day < 1 ? 1 : r->day > 5 ? 5 : r->day;

	if (r->month == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	dow1 = (unsigned)(((first % 7) + 7 + 4) % 7); /* 1970-01-01: Thu */
	day = (int64_t)((r->day_of_week + 7 - dow1) % 7) + 7 * (week - 1);
	while (day >= (int64_t)dim)
		day -= 7;
	return (first + day) * 86400 + r->hour * 3600 + r->minute * 60;
}

int32_t
tzinfo_utc_offset_min(const struct tzinfo *tz, int64_t t)
{
	int64_t y, dst_on, dst_off;
	bool in_dst;

	if (!tzinfo_has_dst(tz) || tz->std_date.year != 0)
		return -(tz->bias + tz->std_bias);
	y = year_of(t);
	/* Onsets in UTC: DST begins at standard local time, ends at
	 * daylight local time. */
	dst_on = rule_local(&tz->dst_date, y) +
		 (int64_t)(tz->bias + tz->std_bias) * 60;
	dst_off = rule_local(&tz->std_date, y) +
		  (int64_t)(tz->bias + tz->dst_bias) * 60;
	if (dst_on < dst_off) /* northern hemisphere */
		in_dst = t >= dst_on && t < dst_off;
	else
		in_dst = t >= dst_on || t < dst_off;
	return -(tz->bias + (in_dst ? tz->dst_bias : tz->std_bias));
}
