/* test_merge_policy.c - the schema's merge policies across the real
 * server on 127.0.0.1:0: two tablets edit one field visit's risk level at
 * once, offline, and whichever reaches the server first, every node ends
 * on the higher risk, under a version of the server's newer than both
 * edits, with the conflict kept; a tablet that holds that value lowers it
 * on purpose and that wins. The same for a set field, whose concurrent
 * edits are joined. */
#include "e2e_support.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* device_field, device_field_version and SOLE_CONFLICT are in
 * e2e_support.h. */

static void sleep_ms(long ms)
{
    struct timespec pause = {0, ms * 1000000L};
    nanosleep(&pause, NULL);
}

/* Waits until `device`'s clock is past `version`: each tablet's clock is
 * its estimate of the server's, so two tablets may disagree by a few
 * milliseconds. It probes with edits of another field (children_count),
 * which no other tablet touches, so they add no conflict. */
static void wait_until_later(dala_store *device, const char *id, dala_version version)
{
    for (int probe = 0; probe < 200; probe++) {
        char fields[64];
        snprintf(fields, sizeof fields, "{\"children_count\": %d}", 1 + probe % 5);
        CHECK_OK(dala_record_put(NULL, device, GEN_TABLE, id, fields));
        dala_version seen = device_field_version(device, id, "children_count");
        if (dala_version_compare(&seen, &version) > 0) return;
        sleep_ms(5);
    }
    test_fail(__FILE__, __LINE__, "the tablet's clock never passed the other's");
}

/* The case: the field, the value both tablets start from, the one tablet
 * a1 writes, the one tablet a2 writes a little later (so its version is the
 * newer), what every node must settle on, and which value is reported as
 * the loser. */
typedef struct policy_case {
    const char *field;
    const char *start, *first, *second;
    const char *settled;
    const char *loser;   /* as JSON */
    int loser_is_first;  /* the loser's version is a1's (else a2's) */
    const char *lowered; /* what a1 then writes on top of the settled value */
} policy_case;

/* Every node holds `want` in `field`, the server included. */
static void check_everywhere(harness *h, dala_store *const *devices, const char *id, const char *field,
                             const char *want)
{
    for (int d = 0; d < 2; d++) {
        char *held = device_field(devices[d], id, field);
        check_text(__FILE__, __LINE__, held, want, d ? "on a2" : "on a1");
    }
    check_text(__FILE__, __LINE__, central_field(h, id, field), want, "on the server");
}

/* Runs `c` with a1's change reaching the server first, or a2's. */
static void run_case(const policy_case *c, int second_syncs_first)
{
    harness h;
    char id[DALA_ID_TEXT_BYTES], fields[256];
    dala_store *a1 = NULL, *a2 = NULL;
    if (harness_start(&h, 0)) return;
    a1 = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    a2 = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!a1 || !a2) goto done;
    snprintf(fields, sizeof fields, "{" VISIT ", \"risk_level\": \"low\", \"%s\": \"%s\"}", c->field, c->start);
    if (strcmp(c->field, "risk_level") == 0)
        snprintf(fields, sizeof fields, "{" VISIT ", \"risk_level\": \"%s\"}", c->start);
    CHECK_OK(dala_record_put(id, a1, GEN_TABLE, NULL, fields));
    sync_ok(a1);
    sync_ok(a2);

    /* Both edit the field while offline; a2 later. */
    snprintf(fields, sizeof fields, "{\"%s\": \"%s\"}", c->field, c->first);
    CHECK_OK(dala_record_put(NULL, a1, GEN_TABLE, id, fields));
    wait_until_later(a2, id, device_field_version(a1, id, c->field));
    snprintf(fields, sizeof fields, "{\"%s\": \"%s\"}", c->field, c->second);
    CHECK_OK(dala_record_put(NULL, a2, GEN_TABLE, id, fields));
    dala_version first = device_field_version(a1, id, c->field), second = device_field_version(a2, id, c->field);
    CHECK(dala_version_compare(&second, &first) > 0);
    dala_store *order[2] = {second_syncs_first ? a2 : a1, second_syncs_first ? a1 : a2};
    for (int round = 0; round < 2; round++) {
        sync_ok(order[0]);
        sync_ok(order[1]);
    }

    dala_store *devices[2] = {a1, a2};
    check_everywhere(&h, devices, id, c->field, c->settled);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0), 1);
    dala_version settled_version = {0, 0};
    for (int d = 0; d < 2; d++) {
        conflict_copy copy = SOLE_CONFLICT(devices[d], id, c->field, c->loser);
        const dala_version *loser = c->loser_is_first ? &first : &second;
        CHECK_EQ_U64(copy.loser.hlc, loser->hlc);
        CHECK_EQ_U64(copy.loser.device_id, loser->device_id);
        /* The settled value is the server's, newer than both edits, and
         * every tablet holds it under that version. */
        CHECK_EQ_U64(copy.winner.device_id, 0);
        CHECK(dala_version_compare(&copy.winner, &second) > 0);
        dala_version held = device_field_version(devices[d], id, c->field);
        CHECK_EQ_U64(held.hlc, copy.winner.hlc);
        CHECK_EQ_U64(held.device_id, 0);
        CHECK_EQ_U64(device_status(devices[d]).pending_changes, 0);
        CHECK_EQ_U64(device_status(devices[d]).conflict_count, 1);
        settled_version = copy.winner;
        if (d == 0) { /* the server's conflict record holds the settled value as the winner's */
            sqlite3 *db = central_open(&h);
            char *conflict = db ? central_fields_json(db, copy.conflict_id) : NULL;
            CHECK_JSON(conflict, "$.winner_value", c->settled);
            free(conflict);
            sqlite3_close(db);
        }
    }

    /* a1 holds the settled value and changes it on top of it, on purpose:
     * a fast-forward, no policy, no new conflict. */
    snprintf(fields, sizeof fields, "{\"%s\": \"%s\"}", c->field, c->lowered);
    CHECK_OK(dala_record_put(NULL, a1, GEN_TABLE, id, fields));
    for (int round = 0; round < 2; round++) {
        sync_ok(a1);
        sync_ok(a2);
    }
    check_everywhere(&h, devices, id, c->field, c->lowered);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0), 1);
    dala_version lowered = device_field_version(a2, id, c->field);
    CHECK(dala_version_compare(&lowered, &settled_version) > 0);
    CHECK_EQ_U64(lowered.device_id, device_status(a1).device_id);
done:
    dala_store_close(a1);
    dala_store_close(a2);
    e2e_stop(&h);
}

static const policy_case risk_case = {"risk_level", "medium", "high", "low", "high", "\"low\"", 0, "medium"};

static void test_merge_policy_newer_lower_risk_leaves_the_higher_on_every_node(void)
{
    run_case(&risk_case, 0);
}

static void test_merge_policy_older_higher_risk_arriving_last_still_settles_it(void)
{
    run_case(&risk_case, 1);
}

/* Sets: the union, in the enumeration's order; the loser named is the
 * older edit (a1's), since the union is neither's. */
static const policy_case set_case = {"violence_types", "physical", "sexual,physical", "economic",
                                     "physical,sexual,economic", "\"sexual,physical\"", 1, "physical,economic"};

static void test_merge_policy_concurrent_sets_are_joined_on_every_node(void)
{
    run_case(&set_case, 0);
}

static void test_merge_policy_concurrent_sets_are_joined_whichever_arrives_first(void)
{
    run_case(&set_case, 1);
}

const dala_test merge_policy_tests[] = {
    {"merge_policy_newer_lower_risk_leaves_the_higher_on_every_node",
     test_merge_policy_newer_lower_risk_leaves_the_higher_on_every_node},
    {"merge_policy_older_higher_risk_arriving_last_still_settles_it",
     test_merge_policy_older_higher_risk_arriving_last_still_settles_it},
    {"merge_policy_concurrent_sets_are_joined_on_every_node", test_merge_policy_concurrent_sets_are_joined_on_every_node},
    {"merge_policy_concurrent_sets_are_joined_whichever_arrives_first",
     test_merge_policy_concurrent_sets_are_joined_whichever_arrives_first},
    {NULL, NULL},
};
