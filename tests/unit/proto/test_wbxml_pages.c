/* Unit tests for proto/wbxml_pages.c and proto/codepages.def: the tag
 * constants, names and reverse lookups agree, the table is sorted and has
 * no duplicate names, and the 16.x additions are where MS-ASWBXML puts
 * them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/wbxml.h"

struct entry {
	unsigned page;
	unsigned token;
	uint16_t tag;
	const char *name;
};

static const struct entry entries[] = {
#define WBXML_PAGE(num, id, ns)
#define WBXML_TAG(page, tok, id, name) {page, tok, EAS_##id, name},
#include "proto/codepages.def"
#undef WBXML_PAGE
#undef WBXML_TAG
};

#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

static void
test_every_tag_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < NENTRIES; i++) {
		const struct entry *e = &entries[i];
		uint16_t tag = 0;

		assert_int_equal(e->tag, WBXML_TAG_MAKE(e->page, e->token));
		assert_true(e->token >= 0x05 && e->token <= 0x3f);
		assert_string_equal(wbxml_tag_name(e->tag), e->name);
		assert_int_equal(
		    wbxml_tag_lookup(wbxml_page_name(e->page), e->name, &tag),
		    0);
		/* A name may appear only once per page, so lookup finds
		 * exactly this token. */
		assert_int_equal(tag, e->tag);
	}
}

static void
test_table_sorted(void **state)
{
	(void)state;
	for (size_t i = 1; i < NENTRIES; i++)
		assert_true(entries[i - 1].tag < entries[i].tag);
}

static void
test_pages(void **state)
{
	static const char *const names[WBXML_PAGE_MAX + 1] = {
	    "AirSync",
	    "Contacts",
	    "Email",
	    "AirNotify",
	    "Calendar",
	    "Move",
	    "GetItemEstimate",
	    "FolderHierarchy",
	    "MeetingResponse",
	    "Tasks",
	    "ResolveRecipients",
	    "ValidateCert",
	    "Contacts2",
	    "Ping",
	    "Provision",
	    "Search",
	    "GAL",
	    "AirSyncBase",
	    "Settings",
	    "DocumentLibrary",
	    "ItemOperations",
	    "ComposeMail",
	    "Email2",
	    "Notes",
	    "RightsManagement",
	    "Find"};
	uint8_t page;

	(void)state;
	for (unsigned p = 0; p <= WBXML_PAGE_MAX; p++) {
		assert_string_equal(wbxml_page_name(p), names[p]);
		assert_int_equal(wbxml_page_lookup(names[p], &page), 0);
		assert_int_equal(page, p);
	}
	assert_null(wbxml_page_name(WBXML_PAGE_MAX + 1));
	assert_null(wbxml_page_name(255));
	assert_int_equal(wbxml_page_lookup("ItemEstimate", &page), -1);
	assert_int_equal(WBXML_PAGE_FIND, 25);
	assert_int_equal(WBXML_PAGE_AIRSYNCBASE, 17);
}

static void
test_known_values(void **state)
{
	uint16_t tag;

	(void)state;
	/* Spot checks against MS-ASWBXML 2.1.2.1. */
	assert_int_equal(EAS_AIRSYNC_SYNC, 0x0005);
	assert_int_equal(EAS_AIRSYNC_SYNC_KEY, 0x000b);
	assert_int_equal(EAS_FOLDERHIERARCHY_FOLDER_SYNC, 0x0716);
	assert_int_equal(EAS_FOLDERHIERARCHY_SERVER_ID, 0x0708);
	assert_int_equal(EAS_AIRSYNCBASE_BODY_PREFERENCE, 0x1105);
	assert_int_equal(EAS_AIRSYNCBASE_LOCATION, 0x1120);
	assert_int_equal(EAS_AIRSYNCBASE_INSTANCE_ID, 0x112d);
	assert_int_equal(EAS_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE, 0x0e3b);
	assert_int_equal(EAS_MEETINGRESPONSE_PROPOSED_START_TIME, 0x0810);
	assert_int_equal(EAS_MEETINGRESPONSE_PROPOSED_END_TIME, 0x0811);
	assert_int_equal(EAS_CALENDAR_CLIENT_UID, 0x043c);
	assert_int_equal(EAS_EMAIL2_IS_DRAFT, 0x1615);
	assert_int_equal(EAS_EMAIL2_SEND, 0x1617);
	assert_int_equal(EAS_COMPOSEMAIL_FORWARDEES, 0x1515);
	assert_int_equal(EAS_FIND_FIND, 0x1905);
	assert_int_equal(EAS_FIND_PICTURE, 0x1922);
	assert_int_equal(EAS_PING_HEARTBEAT_INTERVAL, 0x0d08);
	assert_int_equal(EAS_GETITEMESTIMATE_ESTIMATE, 0x060c);
	assert_int_equal(wbxml_tag_lookup("Find", "GalSearchCriterion", &tag),
			 0);
	assert_int_equal(tag, 0x1919);
	assert_int_equal(wbxml_tag_lookup("AirSync", "NoSuchThing", &tag), -1);
	assert_int_equal(wbxml_tag_lookup("Nope", "Sync", &tag), -1);
	/* Unassigned tokens have no name. */
	assert_null(wbxml_tag_name(WBXML_TAG_MAKE(17, 0x09)));
	assert_null(wbxml_tag_name(WBXML_TAG_MAKE(25, 0x0f)));
	assert_null(wbxml_tag_name(WBXML_TAG_MAKE(0, 0x3f)));
	assert_null(wbxml_tag_name(WBXML_TAG_MAKE(0, 0x01)));
	assert_null(wbxml_tag_name(0x1a05));
}

static void
test_describe(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(
	    wbxml_tag_describe(EAS_AIRSYNC_SYNC_KEY, out, sizeof(out)),
	    strlen("AirSync:SyncKey"));
	assert_string_equal(out, "AirSync:SyncKey");
	wbxml_tag_describe(WBXML_TAG_MAKE(0, 0x3f), out, sizeof(out));
	assert_string_equal(out, "AirSync:0x3F");
	wbxml_tag_describe(0x1a05, out, sizeof(out));
	assert_string_equal(out, "26:0x05");
	/* Truncation keeps the string terminated and reports the need. */
	assert_int_equal(wbxml_tag_describe(EAS_AIRSYNC_SYNC_KEY, out, 4),
			 strlen("AirSync:SyncKey"));
	assert_string_equal(out, "Air");
}

static void
test_strerror(void **state)
{
	(void)state;
	for (int e = 0; e < WBXML_ERR_COUNT_; e++) {
		assert_non_null(wbxml_strerror((enum wbxml_err)e));
		assert_string_not_equal(wbxml_strerror((enum wbxml_err)e),
					"unknown error");
	}
	assert_string_equal(wbxml_strerror(WBXML_ERR_COUNT_), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_tag_round_trips),
	    cmocka_unit_test(test_table_sorted),
	    cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_known_values),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
