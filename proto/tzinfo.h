/*
 * The EAS time zone: the TIME_ZONE_INFORMATION structure that Calendar
 * TimeZone (MS-ASCAL 2.2.2.46) and Email MeetingRequest TimeZone carry as
 * base64 (MS-ASDTYPE 2.7).  172 bytes, little-endian: Bias (int32,
 * minutes, UTC = local + Bias), StandardName (32 UTF-16 units),
 * StandardDate (SYSTEMTIME, 16 bytes), StandardBias (int32), DaylightName,
 * DaylightDate, DaylightBias.  A SYSTEMTIME with wYear 0 is a yearly rule:
 * wMonth, wDayOfWeek (0 Sunday) and wDay, the week of the month 1..5
 * (5 = the last), at wHour:wMinute local time.  wMonth 0 in StandardDate
 * means no daylight saving time.
 *
 * Pure code (no libical): decoding and encoding of the blob; the IANA
 * mapping lives in mailbox/ical.c.
 */
#ifndef EASD_PROTO_TZINFO_H
#define EASD_PROTO_TZINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TZINFO_BLOB_BYTES 172
/* A zone name: 32 UTF-16 units, at most 3 UTF-8 bytes each, and a NUL. */
#define TZINFO_NAME_BYTES (31 * 3 + 1)

struct tzinfo_systime {
	uint16_t year, month, day_of_week, day, hour, minute, second, msec;
};

struct tzinfo {
	int32_t bias; /* minutes: UTC = local standard time + bias */
	char std_name[TZINFO_NAME_BYTES];
	struct tzinfo_systime std_date;
	int32_t std_bias;
	char dst_name[TZINFO_NAME_BYTES];
	struct tzinfo_systime dst_date;
	int32_t dst_bias; /* usually -60 */
};

/* Decode a raw blob (exactly TZINFO_BLOB_BYTES).  Names are converted
 * from UTF-16LE to UTF-8 up to their first NUL (an unpaired surrogate
 * becomes U+FFFD).  -1 when len is wrong or a field is out of range
 * (month > 12, day_of_week > 6, day > 31, hour > 23, minute > 59). */
int tzinfo_decode(const uint8_t *blob, size_t len, struct tzinfo *tz_r);
/* Encode tz into out[TZINFO_BLOB_BYTES]; names are cut to 31 UTF-16
 * units, and a character outside the BMP becomes U+FFFD. */
void tzinfo_encode(const struct tzinfo *tz, uint8_t *out);
/* True when tz has a yearly daylight saving rule. */
bool tzinfo_has_dst(const struct tzinfo *tz);
/* The same offsets and rules (names, seconds and years ignored). */
bool tzinfo_same_rules(const struct tzinfo *a, const struct tzinfo *b);
/* The UTC offset in minutes (local = UTC + offset) at Unix time t, from
 * the yearly rules (for the UTC year of t). */
int32_t tzinfo_utc_offset_min(const struct tzinfo *tz, int64_t t);

#endif
