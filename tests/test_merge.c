/* test_merge.c - the per-field merge: each decision of dala_merge_decide,
 * the bookkeeping of dala_field_state (duplicates, closed conflicts,
 * superseded late edits), the merge policies (dala_merge_settle, and
 * dala_record_apply_policies with the server's hooks faked), and a
 * property test that replays random histories of several devices in many
 * orders and checks that every replica converges on the same winner, the
 * same conflicts and, under each policy, the same settled value. */
#include "dala_sync.h"
#include "sync_int.h" /* the merge policies */
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>

/* A head for the tests: version (hlc, device), base and value_ref. */
static dala_field_head edit_of(uint64_t hlc, uint64_t device_id, uint64_t base_hlc,
                               int64_t value_ref)
{
    dala_field_head head = {{hlc, device_id}, base_hlc, value_ref};
    return head;
}

/* Applies `head` and returns the outcome; a failing call fails the test. */
static dala_merge_outcome apply(dala_field_state *state, dala_field_head head)
{
    dala_merge_outcome outcome = (dala_merge_outcome)-1;
    CHECK_OK(dala_field_state_apply(&outcome, state, &head));
    return outcome;
}

/* --- dala_version_compare and dala_merge_decide ------------------------- */

static void test_merge_version_compare_orders_by_hlc_then_device(void)
{
    dala_version a = {100, 9}, b = {101, 1}, c = {101, 2}, c2 = {101, 2};
    CHECK(dala_version_compare(&a, &b) < 0);
    CHECK(dala_version_compare(&b, &a) > 0);
    CHECK(dala_version_compare(&b, &c) < 0);
    CHECK(dala_version_compare(&c, &b) > 0);
    CHECK_EQ_INT(dala_version_compare(&c, &c2), 0);
    dala_version top = {UINT64_MAX, UINT64_MAX}, low = {UINT64_MAX, 0};
    CHECK(dala_version_compare(&low, &top) < 0);
}

static void test_merge_duplicate_when_same_version(void)
{
    dala_version current = {200, 3}, incoming = {200, 3};
    CHECK_EQ_INT(dala_merge_decide(&current, &incoming, 100), DALA_MERGE_DUPLICATE);
    CHECK_EQ_INT(dala_merge_decide(&current, &incoming, 0), DALA_MERGE_DUPLICATE);
}

static void test_merge_fast_forwards_first_edit_based_on_nothing(void)
{
    dala_version incoming = {200, 3};
    CHECK_EQ_INT(dala_merge_decide(NULL, &incoming, 0), DALA_MERGE_FAST_FORWARD);
}

static void test_merge_edit_based_on_unseen_version_wins_on_empty_field(void)
{
    dala_version incoming = {200, 3};
    CHECK_EQ_INT(dala_merge_decide(NULL, &incoming, 150), DALA_MERGE_WINS);
}

static void test_merge_fast_forwards_when_base_matches(void)
{
    dala_version current = {200, 3}, incoming = {300, 1};
    CHECK_EQ_INT(dala_merge_decide(&current, &incoming, 200), DALA_MERGE_FAST_FORWARD);
}

static void test_merge_newer_concurrent_edit_wins(void)
{
    dala_version current = {200, 3}, incoming = {300, 1};
    CHECK_EQ_INT(dala_merge_decide(&current, &incoming, 100), DALA_MERGE_WINS);
    CHECK_EQ_INT(dala_merge_decide(&current, &incoming, 0), DALA_MERGE_WINS);
}

static void test_merge_older_concurrent_edit_loses(void)
{
    dala_version current = {300, 1}, incoming = {200, 3};
    CHECK_EQ_INT(dala_merge_decide(&current, &incoming, 100), DALA_MERGE_LOSES);
}

static void test_merge_equal_hlc_breaks_tie_by_device(void)
{
    dala_version current = {300, 4}, higher = {300, 5}, lower = {300, 3};
    CHECK_EQ_INT(dala_merge_decide(&current, &higher, 100), DALA_MERGE_WINS);
    CHECK_EQ_INT(dala_merge_decide(&current, &lower, 100), DALA_MERGE_LOSES);
}

/* --- dala_field_state --------------------------------------------------- */

static void test_merge_rejects_base_not_before_hlc(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(100, 1, 0, 1));
    dala_merge_outcome outcome = DALA_MERGE_WINS;
    dala_field_head same = edit_of(200, 2, 200, 2), later = edit_of(200, 2, 201, 2);
    CHECK_EQ_INT(dala_field_state_apply(&outcome, &state, &same), DALA_EINVAL);
    CHECK_EQ_INT(dala_field_state_apply(&outcome, &state, &later), DALA_EINVAL);
    CHECK(strstr(dala_errmsg(), "201") != NULL);
    CHECK_EQ_INT(outcome, DALA_MERGE_WINS); /* untouched */
    CHECK_EQ_U64(state.winner.version.hlc, 100);
    CHECK_EQ_INT(state.conflict_count, 0);
    CHECK_EQ_INT(state.based_count, 1);
    dala_field_state_free(&state);
}

static void test_merge_first_edit_becomes_winner(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    CHECK_EQ_INT(apply(&state, edit_of(100, 1, 0, 7)), DALA_MERGE_FAST_FORWARD);
    CHECK(state.has_winner);
    CHECK_EQ_U64(state.winner.version.hlc, 100);
    CHECK_EQ_U64(state.winner.version.device_id, 1);
    CHECK_EQ_INT(state.winner.value_ref, 7);
    CHECK_EQ_INT(state.conflict_count, 0);
    CHECK_EQ_INT(state.based_count, 1);
    CHECK_EQ_U64(state.based_on[0], 0);
    dala_field_state_free(&state);
}

static void test_merge_fast_forward_replaces_winner_without_conflict(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(100, 1, 0, 1));
    CHECK_EQ_INT(apply(&state, edit_of(200, 2, 100, 2)), DALA_MERGE_FAST_FORWARD);
    CHECK_EQ_U64(state.winner.version.hlc, 200);
    CHECK_EQ_INT(state.winner.value_ref, 2);
    CHECK_EQ_INT(state.conflict_count, 0);
    dala_field_state_free(&state);
}

static void test_merge_keeps_losers_as_conflicts_newest_first(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    CHECK_EQ_INT(apply(&state, edit_of(300, 1, 0, 1)), DALA_MERGE_FAST_FORWARD);
    CHECK_EQ_INT(apply(&state, edit_of(100, 2, 0, 2)), DALA_MERGE_LOSES);
    CHECK_EQ_INT(apply(&state, edit_of(400, 3, 0, 3)), DALA_MERGE_WINS);
    CHECK_EQ_INT(apply(&state, edit_of(300, 4, 0, 4)), DALA_MERGE_LOSES);
    CHECK_EQ_U64(state.winner.version.hlc, 400);
    CHECK_EQ_INT(state.winner.value_ref, 3);
    CHECK_EQ_INT(state.conflict_count, 3);
    if (state.conflict_count == 3) {
        CHECK_EQ_INT(state.conflicts[0].value_ref, 4); /* (300, 4) */
        CHECK_EQ_INT(state.conflicts[1].value_ref, 1); /* (300, 1) */
        CHECK_EQ_INT(state.conflicts[2].value_ref, 2); /* (100, 2) */
    }
    dala_field_state_free(&state);
}

static void test_merge_duplicate_apply_is_a_no_op(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(300, 1, 0, 1));
    apply(&state, edit_of(200, 2, 50, 2));
    /* Same versions again, even with another base or value_ref. */
    CHECK_EQ_INT(apply(&state, edit_of(300, 1, 0, 1)), DALA_MERGE_DUPLICATE);
    CHECK_EQ_INT(apply(&state, edit_of(200, 2, 50, 99)), DALA_MERGE_DUPLICATE);
    CHECK_EQ_INT(apply(&state, edit_of(300, 1, 250, 98)), DALA_MERGE_DUPLICATE);
    CHECK_EQ_U64(state.winner.version.hlc, 300);
    CHECK_EQ_INT(state.winner.value_ref, 1);
    CHECK_EQ_INT(state.conflict_count, 1);
    if (state.conflict_count == 1) CHECK_EQ_INT(state.conflicts[0].value_ref, 2);
    CHECK_EQ_INT(state.based_count, 2); /* {0, 50}: 250 was not added */
    dala_field_state_free(&state);
}

static void test_merge_edit_based_on_conflict_closes_it(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(300, 1, 0, 1));
    apply(&state, edit_of(200, 2, 0, 2)); /* a conflict */
    /* Device 2 edits on top of its own version, still older than 300. */
    CHECK_EQ_INT(apply(&state, edit_of(250, 2, 200, 3)), DALA_MERGE_LOSES);
    CHECK_EQ_INT(state.conflict_count, 1);
    if (state.conflict_count == 1) CHECK_EQ_INT(state.conflicts[0].value_ref, 3);
    /* A supervisor resolves it, seeing the conflict: closes it, loses. */
    CHECK_EQ_INT(apply(&state, edit_of(260, 5, 250, 4)), DALA_MERGE_LOSES);
    CHECK_EQ_INT(state.conflict_count, 1);
    if (state.conflict_count == 1) CHECK_EQ_INT(state.conflicts[0].value_ref, 4);
    /* Device 1 takes the winner further: the conflict (260) stays open. */
    CHECK_EQ_INT(apply(&state, edit_of(400, 1, 300, 5)), DALA_MERGE_FAST_FORWARD);
    CHECK_EQ_INT(state.conflict_count, 1);
    /* An edit on top of the conflict that wins closes it too. */
    CHECK_EQ_INT(apply(&state, edit_of(500, 2, 260, 6)), DALA_MERGE_WINS);
    CHECK_EQ_INT(state.winner.value_ref, 6);
    CHECK_EQ_INT(state.conflict_count, 1);
    if (state.conflict_count == 1) CHECK_EQ_INT(state.conflicts[0].value_ref, 5);
    dala_field_state_free(&state);
}

static void test_merge_conflicts_stay_sorted_as_winners_change(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(500, 1, 0, 1));
    apply(&state, edit_of(300, 2, 0, 2));
    apply(&state, edit_of(200, 3, 0, 3));
    /* An edit on the winner replaces it and leaves the conflicts open. */
    CHECK_EQ_INT(apply(&state, edit_of(600, 4, 500, 4)), DALA_MERGE_FAST_FORWARD);
    CHECK_EQ_INT(state.winner.value_ref, 4);
    CHECK_EQ_INT(state.conflict_count, 2);
    /* An edit on the oldest conflict closes it, wins, and the old winner
     * joins the conflicts in order. */
    CHECK_EQ_INT(apply(&state, edit_of(650, 3, 200, 5)), DALA_MERGE_WINS);
    CHECK_EQ_INT(state.winner.value_ref, 5);
    CHECK_EQ_INT(state.conflict_count, 2);
    if (state.conflict_count == 2) {
        CHECK_EQ_INT(state.conflicts[0].value_ref, 4);
        CHECK_EQ_INT(state.conflicts[1].value_ref, 2);
    }
    dala_field_state_free(&state);
}

static void test_merge_late_edit_after_its_successor_is_superseded(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    /* B (200) was based on A (100), but B reaches this node first. */
    CHECK_EQ_INT(apply(&state, edit_of(200, 2, 100, 2)), DALA_MERGE_WINS);
    CHECK_EQ_INT(apply(&state, edit_of(100, 1, 0, 1)), DALA_MERGE_SUPERSEDED);
    CHECK_EQ_U64(state.winner.version.hlc, 200);
    CHECK_EQ_INT(state.winner.value_ref, 2);
    CHECK_EQ_INT(state.conflict_count, 0);
    CHECK_EQ_INT(state.based_count, 2); /* {0, 100} */
    dala_field_state_free(&state);
}

static void test_merge_superseded_edit_still_closes_its_base(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(50, 3, 0, 3));     /* C: will be edited on by A */
    apply(&state, edit_of(200, 2, 100, 2));  /* B, based on A (100) */
    CHECK_EQ_INT(state.conflict_count, 1);   /* C is still open */
    CHECK_EQ_INT(apply(&state, edit_of(100, 1, 50, 1)), DALA_MERGE_SUPERSEDED);
    CHECK_EQ_INT(state.winner.value_ref, 2);
    CHECK_EQ_INT(state.conflict_count, 0);   /* A closed C */
    dala_field_state_free(&state);
}

static void test_merge_reapplied_superseded_edit_changes_nothing(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(100, 1, 0, 1));
    apply(&state, edit_of(200, 2, 100, 2));
    apply(&state, edit_of(150, 3, 0, 3)); /* a conflict */
    size_t based_count = state.based_count;
    dala_merge_outcome outcome = apply(&state, edit_of(100, 1, 0, 1));
    /* The state does not remember superseded versions, so a re-applied one
     * reads SUPERSEDED (history only), never a fresh head. */
    CHECK_EQ_INT(outcome, DALA_MERGE_SUPERSEDED);
    CHECK_EQ_INT(state.winner.value_ref, 2);
    CHECK_EQ_INT(state.conflict_count, 1);
    if (state.conflict_count == 1) CHECK_EQ_INT(state.conflicts[0].value_ref, 3);
    CHECK_EQ_INT(state.based_count, based_count);
    dala_field_state_free(&state);
}

static void test_merge_edit_on_shared_hlc_closes_every_head_with_it(void)
{
    /* A base names an hlc, not a device: when two devices wrote at the same
     * hlc, an edit based on it closes both. */
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(100, 1, 0, 1));
    CHECK_EQ_INT(apply(&state, edit_of(100, 2, 0, 2)), DALA_MERGE_WINS);
    CHECK_EQ_INT(state.conflict_count, 1);
    CHECK_EQ_INT(apply(&state, edit_of(150, 1, 100, 3)), DALA_MERGE_FAST_FORWARD);
    CHECK_EQ_INT(state.winner.value_ref, 3);
    CHECK_EQ_INT(state.conflict_count, 0);
    dala_field_state_free(&state);
}

static void test_merge_accepts_null_outcome(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    dala_field_head head = edit_of(100, 1, 0, 1);
    CHECK_OK(dala_field_state_apply(NULL, &state, &head));
    CHECK(state.has_winner);
    dala_field_state_free(&state);
}

static void test_merge_free_resets_state_and_accepts_null(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(300, 1, 0, 1));
    apply(&state, edit_of(200, 2, 0, 2));
    dala_field_state_free(&state);
    CHECK_EQ_INT(state.has_winner, 0);
    CHECK_EQ_INT(state.conflict_count, 0);
    CHECK(state.conflicts == NULL);
    CHECK_EQ_INT(state.based_count, 0);
    CHECK(state.based_on == NULL);
    dala_field_state_free(&state); /* twice is fine */
    dala_field_state_free(NULL);
    CHECK_EQ_INT(apply(&state, edit_of(50, 1, 0, 3)), DALA_MERGE_FAST_FORWARD);
    dala_field_state_free(&state);
}

static void test_merge_state_unchanged_when_growth_would_overflow(void)
{
    /* Without a failing-allocation hook, this reaches DALA_ENOMEM through
     * the size-overflow check: based_on claims to be full at a capacity
     * that cannot double. The claim is false (the array has one entry), so
     * this relies on apply growing both arrays before it reads based_on. */
    dala_field_state state = DALA_FIELD_STATE_INIT;
    apply(&state, edit_of(100, 1, 0, 1));
    size_t real_count = state.based_count, real_alloc = state.alloc_based;
    uint64_t *real_based = state.based_on;
    state.based_count = state.alloc_based = SIZE_MAX / sizeof(uint64_t);

    dala_merge_outcome outcome = DALA_MERGE_LOSES;
    dala_field_head head = edit_of(200, 2, 100, 2);
    CHECK_EQ_INT(dala_field_state_apply(&outcome, &state, &head), DALA_ENOMEM);
    CHECK_EQ_INT(outcome, DALA_MERGE_LOSES);
    CHECK(state.has_winner);
    CHECK_EQ_INT(state.winner.value_ref, 1);
    CHECK_EQ_INT(state.conflict_count, 0);
    CHECK(state.based_on == real_based);
    CHECK_EQ_U64(state.based_count, SIZE_MAX / sizeof(uint64_t));
    state.based_count = real_count;
    state.alloc_based = real_alloc;
    CHECK_EQ_INT(apply(&state, head), DALA_MERGE_FAST_FORWARD);
    dala_field_state_free(&state);
}

/* --- merge policies: dala_merge_settle ---------------------------------- */

static const dala_enum_value risk_values[] = {{"low", "", ""}, {"medium", "", ""}, {"high", "", ""}};
static const dala_enum risk_enum = {"risk_level", 3, risk_values};
/* Not in byte order, so a union in byte order would show. */
static const dala_enum_value kind_values[] = {
    {"physical", "", ""}, {"psychological", "", ""}, {"sexual", "", ""}, {"economic", "", ""}};
static const dala_enum kind_enum = {"violence_type", 4, kind_values};

static const dala_field_def policy_fields[] = {
    /* sorted by name, as a table of the domain */
    {.name = "findings", .type = DALA_FIELD_TEXT, .merge = DALA_MERGE_NEWEST},
    {.name = "referral", .type = DALA_FIELD_ENUM, .choices = &risk_enum, .merge = DALA_MERGE_NEWEST},
    {.name = "risk_level", .type = DALA_FIELD_ENUM, .choices = &risk_enum, .merge = DALA_MERGE_HIGHEST},
    {.name = "violence_types", .type = DALA_FIELD_SET, .choices = &kind_enum, .merge = DALA_MERGE_UNION},
};
static const dala_table_def policy_table = {.name = "field_visit", .field_count = 4, .fields = policy_fields};
#define RISK_DEF (&policy_fields[2])
#define KINDS_DEF (&policy_fields[3])

static dala_value text_value(const char *text)
{
    dala_value value = {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)text, strlen(text)};
    return value;
}

/* Settles `a` against `b` (versions (a_hlc, 1) and (b_hlc, 2)); returns
 * "a", "b" or "joined", and the union's text in `joined`. */
static const char *settle_pair(dala_buf *joined, const dala_field_def *def, const char *a_text,
                               uint64_t a_hlc, const char *b_text, uint64_t b_hlc)
{
    dala_value a_value = text_value(a_text), b_value = text_value(b_text);
    dala_merge_side a = {&a_value, {a_hlc, 1}}, b = {&b_value, {b_hlc, 2}};
    const dala_merge_side *stands = &a, *again = &a;
    CHECK_OK(dala_merge_settle(&stands, joined, def, &a, &b));
    dala_buf before = *joined;
    CHECK_OK(dala_merge_settle(&again, joined, def, &b, &a)); /* commutative */
    CHECK(again == stands);
    CHECK(joined->len == before.len);
    return stands == &a ? "a" : stands == &b ? "b" : "joined";
}

/* The text of a buffer (the tests' unions are short). */
static const char *buf_text(const dala_buf *buf)
{
    static char text[256];
    snprintf(text, sizeof text, "%.*s", (int)buf->len, buf->data ? (const char *)buf->data : "");
    return text;
}

static void test_merge_settle_highest_keeps_the_value_later_in_the_enumeration(void)
{
    dala_buf joined = DALA_BUF_INIT;
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "high", 100, "low", 200), "a");
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "medium", 300, "high", 200), "b");
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "low", 100, "medium", 200), "b");
    CHECK_EQ_INT(joined.len, 0); /* untouched but for a union */
    dala_buf_free(&joined);
}

static void test_merge_settle_highest_ties_and_outside_values_go_to_the_newer(void)
{
    dala_buf joined = DALA_BUF_INIT;
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "high", 100, "high", 200), "b");
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "high", 300, "high", 200), "a");
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "unknown", 300, "low", 200), "b"); /* below all */
    CHECK_EQ_STR(settle_pair(&joined, RISK_DEF, "unknown", 300, "other", 200), "a");
    /* Without a policy, the newer: as dala_merge_decide. */
    CHECK_EQ_STR(settle_pair(&joined, NULL, "high", 100, "low", 200), "b");
    CHECK_EQ_STR(settle_pair(&joined, &policy_fields[1], "high", 100, "low", 200), "b");
    dala_buf_free(&joined);
}

static void test_merge_settle_union_joins_in_the_enumerations_order(void)
{
    dala_buf joined = DALA_BUF_INIT;
    CHECK_EQ_STR(settle_pair(&joined, KINDS_DEF, "economic,physical", 100, "sexual", 200), "joined");
    CHECK_EQ_STR(buf_text(&joined), "physical,sexual,economic");
    /* Each value once. */
    CHECK_EQ_STR(settle_pair(&joined, KINDS_DEF, "sexual,economic", 100, "economic,psychological", 200), "joined");
    CHECK_EQ_STR(buf_text(&joined), "psychological,sexual,economic");
    dala_buf_free(&joined);
}

static void test_merge_settle_union_keeps_the_side_that_holds_the_union(void)
{
    dala_buf joined = DALA_BUF_INIT;
    /* The newer holds it: the newer, as it is (its order kept). */
    CHECK_EQ_STR(settle_pair(&joined, KINDS_DEF, "physical", 100, "economic,physical", 200), "b");
    CHECK_EQ_STR(buf_text(&joined), "physical,economic");
    /* Only the older holds it: the older. */
    CHECK_EQ_STR(settle_pair(&joined, KINDS_DEF, "sexual,physical", 100, "physical", 200), "a");
    /* The same set both sides: the newer. */
    CHECK_EQ_STR(settle_pair(&joined, KINDS_DEF, "sexual,physical", 300, "physical,sexual", 200), "a");
    /* An empty set (a cleared field) adds nothing. */
    dala_value none = {DALA_VALUE_NULL, 0, 0, NULL, 0}, some = text_value("sexual");
    dala_merge_side cleared = {&none, {300, 1}}, older = {&some, {200, 2}};
    const dala_merge_side *stands = NULL;
    CHECK_OK(dala_merge_settle(&stands, &joined, KINDS_DEF, &cleared, &older));
    CHECK(stands == &older);
    CHECK_EQ_STR(buf_text(&joined), "sexual");
    dala_buf_free(&joined);
}

static void test_merge_settle_union_keeps_members_outside_the_enumeration(void)
{
    dala_buf joined = DALA_BUF_INIT;
    CHECK_EQ_STR(settle_pair(&joined, KINDS_DEF, "zeta,economic,,beta", 100, "physical,beta,alpha", 200), "joined");
    CHECK_EQ_STR(buf_text(&joined), "physical,economic,alpha,beta,zeta");
    dala_buf_free(&joined);
}

/* Reads a head's value_ref as an index into an array of values. */
static const dala_value *value_at(void *context, const dala_field_head *head)
{
    return &((const dala_value *)context)[head->value_ref];
}

static void test_merge_state_settle_reads_every_head(void)
{
    dala_value values[] = {text_value("high"), text_value("low"), text_value("medium"),
                           text_value("physical"), text_value("economic"), text_value("sexual,physical")};
    dala_field_state risk = DALA_FIELD_STATE_INIT, kinds = DALA_FIELD_STATE_INIT;
    apply(&risk, edit_of(100, 1, 0, 0));  /* high */
    apply(&risk, edit_of(300, 2, 50, 1)); /* low, concurrent, newer */
    apply(&risk, edit_of(200, 3, 50, 2)); /* medium */
    dala_buf joined = DALA_BUF_INIT;
    const dala_field_head *stands = NULL;
    CHECK_OK(dala_field_state_settle(&stands, &joined, &risk, RISK_DEF, value_at, values));
    CHECK(stands && stands->version.hlc == 100);
    CHECK_OK(dala_field_state_settle(&stands, &joined, &risk, NULL, value_at, values));
    CHECK(stands == &risk.winner);
    /* An edit on top of the high risk closes it: the officer lowered it. */
    apply(&risk, edit_of(400, 1, 100, 1));
    CHECK_OK(dala_field_state_settle(&stands, &joined, &risk, RISK_DEF, value_at, values));
    CHECK(stands && stands->version.hlc == 200); /* medium, over the two lows */

    apply(&kinds, edit_of(100, 1, 0, 3)); /* physical */
    apply(&kinds, edit_of(200, 2, 50, 4)); /* economic */
    CHECK_OK(dala_field_state_settle(&stands, &joined, &kinds, KINDS_DEF, value_at, values));
    CHECK(stands == NULL);
    CHECK_EQ_STR(buf_text(&joined), "physical,economic");
    apply(&kinds, edit_of(150, 3, 50, 5)); /* sexual,physical */
    CHECK_OK(dala_field_state_settle(&stands, &joined, &kinds, KINDS_DEF, value_at, values));
    CHECK(stands == NULL);
    CHECK_EQ_STR(buf_text(&joined), "physical,sexual,economic");
    dala_buf_free(&joined);
    dala_field_state_free(&risk);
    dala_field_state_free(&kinds);
}

/* --- merge policies: dala_record_apply_policies -------------------------- */

/* The server's side, faked: a clock for fresh versions, a history answer,
 * and the conflicts reported. */
typedef struct fake_server {
    uint64_t clock;
    int fresh_count;
    int is_history;
    int history_asked;
    int conflict_count;
    dala_version winner, loser;
    char winner_text[64], loser_text[64];
} fake_server;

static int fake_fresh_version(void *context, dala_version *out, const dala_version *above)
{
    fake_server *server = context;
    server->fresh_count++;
    if (server->clock <= above->hlc) server->clock = above->hlc + 1;
    *out = (dala_version){server->clock++, 0};
    return DALA_OK;
}

static int fake_is_history(void *context, int *is_history, const char *field)
{
    fake_server *server = context;
    (void)field;
    server->history_asked++;
    *is_history = server->is_history;
    return DALA_OK;
}

static int fake_keep_conflict(void *context, const dala_record_conflict *conflict)
{
    fake_server *server = context;
    server->conflict_count++;
    server->winner = conflict->winner;
    server->loser = conflict->loser;
    snprintf(server->winner_text, sizeof server->winner_text, "%.*s", (int)conflict->winner_value->len,
             (const char *)conflict->winner_value->bytes);
    snprintf(server->loser_text, sizeof server->loser_text, "%.*s", (int)conflict->loser_value->len,
             (const char *)conflict->loser_value->bytes);
    return 0;
}

/* Merges one field's edit at (hlc, device) based on base_hlc with the
 * server's policies; returns how many fields changed. */
static size_t merge_edit(dala_record *record, fake_server *server, const char *name, const char *text,
                         uint64_t hlc, uint64_t device, uint64_t base_hlc, uint64_t seq)
{
    dala_field field = {name, text_value(text), base_hlc};
    dala_change change = {"field_visit", {0}, hlc, device, 1, &field};
    dala_merge_hooks hooks = {&policy_table, fake_fresh_version, fake_is_history, server};
    size_t changed = 99;
    CHECK_OK(dala_record_apply_policies(&changed, record, &change, seq, fake_keep_conflict, server, &hooks));
    return changed;
}

/* Whether the record's field holds `text` at version (hlc, device). */
static int holds(const dala_record *record, const char *name, const char *text, uint64_t hlc, uint64_t device)
{
    const dala_record_field *field = dala_record_find(record, name);
    return field && field->value.type == DALA_VALUE_TEXT && field->value.len == strlen(text) &&
           memcmp(field->value.bytes, text, field->value.len) == 0 && field->version.hlc == hlc &&
           field->version.device_id == device;
}

/* The server has kept `count` conflicts, the last of them `winner` over
 * `loser`, the losing edit's version at `loser_hlc`. */
static void check_kept_at(const char *file, int line, const fake_server *server, int count, const char *winner,
                          uint64_t loser_hlc, const char *loser)
{
    if (server->conflict_count != count || strcmp(server->winner_text, winner) || server->loser.hlc != loser_hlc ||
        strcmp(server->loser_text, loser))
        test_fail(file, line, "%d conflicts, the last %s over %s at %" PRIu64 "; expected %d, %s over %s at %" PRIu64,
                  server->conflict_count, server->winner_text, server->loser_text, server->loser.hlc, count, winner,
                  loser, loser_hlc);
}

#define CHECK_KEPT(server, count, winner, loser_hlc, loser) \
    check_kept_at(__FILE__, __LINE__, &(server), (count), (winner), (loser_hlc), (loser))

static void test_merge_record_newer_lower_risk_leaves_the_higher_with_a_fresh_version(void)
{
    dala_record record = DALA_RECORD_INIT;
    fake_server server = {.clock = 1000};
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "high", 100, 1, 0, 1), 1);
    /* Device 2 lowered it concurrently, later: the higher risk stays,
     * under a server version newer than both, so every tablet takes it. */
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "low", 200, 2, 50, 2), 1);
    CHECK(holds(&record, "risk_level", "high", 1000, 0));
    CHECK_EQ_INT(dala_record_find(&record, "risk_level")->seq, 2);
    CHECK_EQ_INT(server.fresh_count, 1);
    CHECK_EQ_INT(server.history_asked, 1);
    CHECK_KEPT(server, 1, "high", 200, "low");
    CHECK_EQ_U64(server.winner.hlc, 1000);
    CHECK_EQ_U64(server.winner.device_id, 0);
    CHECK_EQ_U64(server.loser.device_id, 2);
    /* Device 2 edits again on top of its own low, not of the settled
     * value: still concurrent, so the high risk stays. */
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "medium", 1500, 2, 200, 3), 1);
    CHECK(holds(&record, "risk_level", "high", 1501, 0));
    CHECK_EQ_STR(server.loser_text, "medium");
    /* An officer who saw the settled value lowers it on purpose: a
     * fast-forward, no policy, no conflict. */
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "medium", 1600, 1, 1501, 4), 1);
    CHECK(holds(&record, "risk_level", "medium", 1600, 1));
    CHECK_EQ_INT(server.conflict_count, 2);
    CHECK_EQ_INT(server.fresh_count, 2);
    dala_record_clear(&record);
}

static void test_merge_record_older_higher_risk_beats_the_newer_lower(void)
{
    dala_record record = DALA_RECORD_INIT;
    fake_server server = {.clock = 10};
    merge_edit(&record, &server, "risk_level", "low", 200, 2, 0, 1);
    /* It loses by version, wins by policy: the server's clock is behind
     * the field's version, and the fresh one still passes it. */
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "high", 100, 1, 50, 2), 1);
    CHECK(holds(&record, "risk_level", "high", 201, 0));
    CHECK_KEPT(server, 1, "high", 200, "low");
    dala_record_clear(&record);
}

static void test_merge_record_newer_higher_risk_wins_as_without_policy(void)
{
    dala_record record = DALA_RECORD_INIT;
    fake_server server = {.clock = 1000};
    merge_edit(&record, &server, "risk_level", "low", 100, 1, 0, 1);
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "high", 200, 2, 50, 2), 1);
    CHECK(holds(&record, "risk_level", "high", 200, 2));
    /* An older lower one loses as it always did. */
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "medium", 150, 3, 50, 3), 0);
    CHECK(holds(&record, "risk_level", "high", 200, 2));
    CHECK_EQ_INT(server.fresh_count, 0);
    CHECK_EQ_INT(server.conflict_count, 2);
    CHECK_EQ_U64(server.winner.hlc, 200);
    CHECK_EQ_STR(server.loser_text, "medium");
    /* A field without a policy: the newer wins. */
    merge_edit(&record, &server, "referral", "high", 100, 1, 0, 4);
    CHECK_EQ_INT(merge_edit(&record, &server, "referral", "low", 200, 2, 50, 5), 1);
    CHECK(holds(&record, "referral", "low", 200, 2));
    CHECK_EQ_INT(server.fresh_count, 0);
    dala_record_clear(&record);
}

static void test_merge_record_history_does_not_bring_its_value_back(void)
{
    dala_record record = DALA_RECORD_INIT;
    fake_server server = {.clock = 1000};
    merge_edit(&record, &server, "risk_level", "high", 100, 1, 0, 1);
    merge_edit(&record, &server, "risk_level", "low", 200, 2, 100, 2); /* lowered on top */
    /* A late copy of the first edit: history, so it loses as it is. */
    server.is_history = 1;
    CHECK_EQ_INT(merge_edit(&record, &server, "risk_level", "high", 100, 1, 0, 3), 0);
    CHECK(holds(&record, "risk_level", "low", 200, 2));
    CHECK_EQ_INT(server.history_asked, 1);
    CHECK_EQ_INT(server.fresh_count, 0);
    CHECK_EQ_INT(server.conflict_count, 1); /* reported; the server knows it is history */
    CHECK_EQ_U64(server.loser.hlc, 100);
    dala_record_clear(&record);
}

static void test_merge_record_union_larger_than_both_names_the_older_as_loser(void)
{
    dala_record record = DALA_RECORD_INIT;
    fake_server server = {.clock = 1000};
    merge_edit(&record, &server, "violence_types", "sexual,physical", 100, 1, 0, 1);
    CHECK_EQ_INT(merge_edit(&record, &server, "violence_types", "economic", 200, 2, 50, 2), 1);
    CHECK(holds(&record, "violence_types", "physical,sexual,economic", 1000, 0));
    CHECK_KEPT(server, 1, "physical,sexual,economic", 100, "sexual,physical");
    /* A newer set that holds the union already: it wins as it is. */
    CHECK_EQ_INT(merge_edit(&record, &server, "violence_types", "economic,sexual,physical,psychological",
                            1200, 3, 50, 3), 1);
    CHECK(holds(&record, "violence_types", "economic,sexual,physical,psychological", 1200, 3));
    CHECK_EQ_INT(server.fresh_count, 1);
    /* An older subset adds nothing: it loses, kept as a conflict. */
    CHECK_EQ_INT(merge_edit(&record, &server, "violence_types", "sexual", 150, 4, 50, 4), 0);
    CHECK_EQ_INT(server.conflict_count, 3);
    /* The older side's set is the union: the older value, fresh version. */
    dala_record_clear(&record);
    merge_edit(&record, &server, "violence_types", "physical", 300, 2, 0, 5);
    CHECK_EQ_INT(merge_edit(&record, &server, "violence_types", "physical,economic", 250, 1, 50, 6), 1);
    CHECK(holds(&record, "violence_types", "physical,economic", 1001, 0));
    CHECK_EQ_U64(server.loser.hlc, 300);
    CHECK_EQ_STR(server.loser_text, "physical");
    dala_record_clear(&record);
}

/* A fresh_version that breaks its contract: not newer. */
static int stale_version(void *context, dala_version *out, const dala_version *above)
{
    (void)context;
    *out = *above;
    return DALA_OK;
}

static void test_merge_record_refuses_a_fresh_version_not_newer(void)
{
    dala_record record = DALA_RECORD_INIT;
    fake_server server = {.clock = 1000};
    merge_edit(&record, &server, "risk_level", "high", 100, 1, 0, 1);
    dala_field field = {"risk_level", text_value("low"), 50};
    dala_change change = {"field_visit", {0}, 200, 2, 1, &field};
    dala_merge_hooks hooks = {&policy_table, stale_version, NULL, NULL};
    CHECK_EQ_INT(dala_record_apply_policies(NULL, &record, &change, 2, fake_keep_conflict, &server, &hooks),
                 DALA_ECLOCK);
    CHECK(holds(&record, "risk_level", "high", 100, 1));
    CHECK_EQ_INT(server.conflict_count, 0);
    /* Without hooks, or without a table, the newer wins. */
    CHECK_OK(dala_record_apply_policies(NULL, &record, &change, 2, NULL, NULL, NULL));
    CHECK(holds(&record, "risk_level", "low", 200, 2));
    dala_record_clear(&record);
}

/* --- the property test -------------------------------------------------- */

#define PROP_SEEDS 500
#define PROP_REPLICAS 8
#define PROP_MAX_DEVICES 6
#define PROP_MAX_FIELDS 3
#define PROP_MAX_EDITS 48
#define PROP_MAX_APPLIES (PROP_MAX_EDITS * 2)

/* splitmix64: a small deterministic PRNG, so a failing seed replays. */
static uint64_t prng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t prng_below(uint64_t *state, size_t n)
{
    return (size_t)(prng_next(state) % n);
}

/* An edit of one field, with the values the policies weigh: a risk (rank
 * -1 is a value outside the enumeration) and a set (bit i: member i of
 * prop_members; 0 is a cleared field). value_ref is the edit's index. */
typedef struct prop_edit {
    size_t field;
    dala_field_head head;
    int risk_rank;
    unsigned set_mask;
    dala_value risk, set; /* set's bytes in set_text, members in random order */
    char set_text[64];
} prop_edit;

/* The kinds of violence, then two members outside the enumeration, which
 * a union puts after it in byte order: this is the canonical order. */
static const char *const prop_members[] = {"physical", "psychological", "sexual", "economic", "w", "x"};
#define PROP_MEMBER_COUNT 6
static const char *const prop_risks[] = {"none", "low", "medium", "high"}; /* rank + 1 */

typedef struct prop_history {
    size_t field_count;
    size_t edit_count;
    prop_edit edits[PROP_MAX_EDITS];
} prop_history;

/* What the generator saw, so the test can check it covers the hard cases. */
typedef struct prop_coverage {
    unsigned equal_hlc_across_devices;
    unsigned superseded;
    unsigned open_conflicts;
    unsigned based_on_conflict;
    unsigned highest_not_winner; /* HIGHEST kept an older head's value */
    unsigned union_of_no_head;   /* UNION settled on a set no head holds */
} prop_coverage;

typedef struct prop_device {
    uint64_t clock;
    uint64_t view[PROP_MAX_FIELDS]; /* the hlc of the version it holds */
} prop_device;

/* The device learns a version: its view of the field and its clock. */
static void device_pull(prop_device *device, size_t field, uint64_t hlc)
{
    device->view[field] = hlc;
    if (hlc > device->clock) device->clock = hlc;
}

/* Picks what the device pulls before editing, if anything: a random
 * earlier edit of the field (maybe a loser or an old one), or the current
 * winner of a server that got every edit so far in order. */
static void maybe_pull(uint64_t *rng, prop_device *device, size_t field,
                       const prop_history *history, const dala_field_state *server,
                       prop_coverage *coverage)
{
    size_t roll = prng_below(rng, 4);
    if (roll == 0 && server->has_winner) {
        device_pull(device, field, server->winner.version.hlc);
    } else if (roll == 1 && history->edit_count > 0) {
        const prop_edit *edit = &history->edits[prng_below(rng, history->edit_count)];
        if (edit->field != field) return;
        for (size_t i = 0; i < server->conflict_count; i++)
            if (server->conflicts[i].version.hlc == edit->head.version.hlc)
                coverage->based_on_conflict++;
        device_pull(device, field, edit->head.version.hlc);
    }
}

/* Gives an edit a random risk and a random set, its members in random
 * order. */
static void prop_values(prop_edit *edit, uint64_t *rng)
{
    edit->risk_rank = (int)prng_below(rng, 4) - 1;
    edit->risk = text_value(prop_risks[edit->risk_rank + 1]);
    edit->set_mask = (unsigned)prng_below(rng, 1u << PROP_MEMBER_COUNT);
    size_t order[PROP_MEMBER_COUNT], count = 0, len = 0;
    for (size_t i = 0; i < PROP_MEMBER_COUNT; i++)
        if (edit->set_mask & (1u << i)) order[count++] = i;
    for (size_t i = count; i > 1; i--) {
        size_t j = prng_below(rng, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < count; i++)
        len += (size_t)snprintf(edit->set_text + len, sizeof edit->set_text - len, "%s%s", i ? "," : "",
                                prop_members[order[i]]);
    edit->set = text_value(edit->set_text);
    if (edit->set_mask == 0) edit->set.type = DALA_VALUE_NULL;
}

/* Generates one history: 2..6 devices editing 1..3 fields, each edit based
 * on the version its device held, HLCs strictly increasing along every
 * causal chain. Half the histories step their clocks by 1..3, so HLCs are
 * often equal across devices; the other half by up to 1000, so rarely. */
static void prop_generate(prop_history *history, uint64_t seed, prop_coverage *coverage)
{
    uint64_t rng = seed, value_rng = seed ^ UINT64_C(0x7a1e5eed); /* values apart: same histories */
    prop_device devices[PROP_MAX_DEVICES] = {{0, {0}}};
    dala_field_state server[PROP_MAX_FIELDS] = {DALA_FIELD_STATE_INIT, DALA_FIELD_STATE_INIT,
                                                DALA_FIELD_STATE_INIT};
    size_t device_count = 2 + prng_below(&rng, PROP_MAX_DEVICES - 1);
    size_t target = 4 + prng_below(&rng, PROP_MAX_EDITS - 3);
    size_t max_step = prng_below(&rng, 2) ? 3 : 1000;
    history->field_count = 1 + prng_below(&rng, PROP_MAX_FIELDS);
    history->edit_count = 0;
    for (size_t d = 0; d < device_count; d++) devices[d].clock = 1000 + prng_below(&rng, 4);

    while (history->edit_count < target) {
        size_t d = prng_below(&rng, device_count), field = prng_below(&rng, history->field_count);
        prop_device *device = &devices[d];
        maybe_pull(&rng, device, field, history, &server[field], coverage);
        uint64_t hlc = device->clock + 1 + prng_below(&rng, max_step);
        prop_edit *edit = &history->edits[history->edit_count];
        edit->field = field;
        edit->head = edit_of(hlc, d + 1, device->view[field], (int64_t)history->edit_count);
        prop_values(edit, &value_rng);
        device->clock = device->view[field] = hlc;
        CHECK_OK(dala_field_state_apply(NULL, &server[field], &edit->head));
        history->edit_count++;
    }
    for (size_t f = 0; f < PROP_MAX_FIELDS; f++) dala_field_state_free(&server[f]);
}

/* The expected state of one field, straight from the definition: heads are
 * the edits whose hlc no edit was based on, sorted newest first. */
typedef struct prop_expected {
    size_t head_count;
    dala_field_head heads[PROP_MAX_EDITS];
    size_t based_count;
    uint64_t based_on[PROP_MAX_EDITS];
    dala_version newest; /* the (hlc, device) maximum of all edits */
} prop_expected;

static int is_based_on(const prop_history *history, size_t field, uint64_t hlc)
{
    for (size_t i = 0; i < history->edit_count; i++)
        if (history->edits[i].field == field && history->edits[i].head.base_hlc == hlc) return 1;
    return 0;
}

static int compare_heads_newest_first(const void *a, const void *b)
{
    return -dala_version_compare(&((const dala_field_head *)a)->version,
                                 &((const dala_field_head *)b)->version);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void prop_expect(prop_expected *expected, const prop_history *history, size_t field)
{
    memset(expected, 0, sizeof *expected);
    for (size_t i = 0; i < history->edit_count; i++) {
        const prop_edit *edit = &history->edits[i];
        if (edit->field != field) continue;
        if (dala_version_compare(&edit->head.version, &expected->newest) > 0)
            expected->newest = edit->head.version;
        if (!is_based_on(history, field, edit->head.version.hlc))
            expected->heads[expected->head_count++] = edit->head;
        uint64_t base = edit->head.base_hlc;
        size_t b = 0;
        while (b < expected->based_count && expected->based_on[b] != base) b++;
        if (b == expected->based_count) expected->based_on[expected->based_count++] = base;
    }
    qsort(expected->heads, expected->head_count, sizeof expected->heads[0],
          compare_heads_newest_first);
    qsort(expected->based_on, expected->based_count, sizeof expected->based_on[0], compare_u64);
}

static int heads_equal(const dala_field_head *a, const dala_field_head *b)
{
    return dala_version_compare(&a->version, &b->version) == 0 && a->base_hlc == b->base_hlc &&
           a->value_ref == b->value_ref;
}

/* NULL when `state` holds exactly the expected winner, conflicts and
 * based-on set; else what differs. */
static const char *prop_mismatch(const dala_field_state *state, const prop_expected *expected)
{
    if (expected->head_count == 0) return state->has_winner ? "a winner from nowhere" : NULL;
    if (!state->has_winner) return "no winner";
    if (!heads_equal(&state->winner, &expected->heads[0])) return "another winner";
    if (dala_version_compare(&state->winner.version, &expected->newest) != 0)
        return "the winner is not the newest edit";
    if (state->conflict_count != expected->head_count - 1) return "another number of conflicts";
    for (size_t i = 0; i < state->conflict_count; i++)
        if (!heads_equal(&state->conflicts[i], &expected->heads[i + 1])) return "other conflicts";
    if (state->based_count != expected->based_count) return "another based-on count";
    for (size_t i = 0; i < state->based_count; i++)
        if (state->based_on[i] != expected->based_on[i]) return "another based-on set";
    return NULL;
}

/* Whether two states are the same, for a re-applied edit. */
static int states_equal(const dala_field_state *a, const dala_field_state *b)
{
    if (a->has_winner != b->has_winner || a->conflict_count != b->conflict_count ||
        a->based_count != b->based_count)
        return 0;
    if (a->has_winner && !heads_equal(&a->winner, &b->winner)) return 0;
    for (size_t i = 0; i < a->conflict_count; i++)
        if (!heads_equal(&a->conflicts[i], &b->conflicts[i])) return 0;
    return a->based_count == 0 || !memcmp(a->based_on, b->based_on,
                                          a->based_count * sizeof a->based_on[0]);
}

/* The values of a head (value_ref indexes the history's edits). */
static const dala_value *prop_risk_of(void *context, const dala_field_head *head)
{
    return &((const prop_history *)context)->edits[head->value_ref].risk;
}

static const dala_value *prop_set_of(void *context, const dala_field_head *head)
{
    return &((const prop_history *)context)->edits[head->value_ref].set;
}

static int prop_rank_of(const prop_history *history, const dala_field_head *head)
{
    return history->edits[head->value_ref].risk_rank;
}

static unsigned prop_mask_of(const prop_history *history, const dala_field_head *head)
{
    return history->edits[head->value_ref].set_mask;
}

/* The mask of a set value's members; UINT32_MAX if one is not a member
 * of prop_members or comes twice. */
static unsigned mask_of_value(const dala_value *value)
{
    unsigned mask = 0;
    if (value->type != DALA_VALUE_TEXT) return 0;
    const char *p = (const char *)value->bytes, *end = p + value->len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p)), *stop = comma ? comma : end;
        size_t i = 0;
        while (i < PROP_MEMBER_COUNT && !(strlen(prop_members[i]) == (size_t)(stop - p) &&
                                          memcmp(prop_members[i], p, (size_t)(stop - p)) == 0))
            i++;
        if (i == PROP_MEMBER_COUNT || (mask & (1u << i))) return UINT32_MAX;
        mask |= 1u << i;
        p = stop + 1;
    }
    return mask;
}

/* The canonical text of a mask: the members in prop_members' order. */
static void mask_text(char *out, size_t size, unsigned mask)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < PROP_MEMBER_COUNT; i++)
        if (mask & (1u << i))
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "", prop_members[i]);
}

/* Folds dala_merge_settle over the heads of `state` in a random order, as
 * a server settles concurrent edits pair by pair as they arrive (a value
 * neither side holds takes a version newer than both, as the server's).
 * NULL when the fold gives the highest risk `highest` and the union `all`. */
static const char *prop_fold_mismatch(const dala_field_state *state, const prop_history *history,
                                      const dala_field_head *highest, unsigned all, uint64_t *rng)
{
    const dala_field_head *heads[PROP_MAX_EDITS];
    size_t n = 0;
    heads[n++] = &state->winner;
    for (size_t i = 0; i < state->conflict_count; i++) heads[n++] = &state->conflicts[i];
    for (size_t i = n; i > 1; i--) {
        size_t j = prng_below(rng, i);
        const dala_field_head *t = heads[i - 1];
        heads[i - 1] = heads[j];
        heads[j] = t;
    }
    const dala_merge_side *stands;
    dala_merge_side risk = {prop_risk_of((void *)history, heads[0]), heads[0]->version};
    dala_merge_side set = {prop_set_of((void *)history, heads[0]), heads[0]->version};
    dala_buf joined = DALA_BUF_INIT, held = DALA_BUF_INIT;
    dala_value held_value;
    const char *problem = NULL;
    for (size_t i = 1; i < n && !problem; i++) {
        dala_merge_side next = {prop_risk_of((void *)history, heads[i]), heads[i]->version};
        if (dala_merge_settle(&stands, NULL, RISK_DEF, &risk, &next) || !stands) problem = "no risk settled";
        else risk = *stands;
        next.value = prop_set_of((void *)history, heads[i]);
        if (problem || dala_merge_settle(&stands, &joined, KINDS_DEF, &set, &next)) {
            problem = problem ? problem : dala_errmsg();
        } else if (stands) {
            set = *stands;
        } else {
            dala_buf_reset(&held);
            if (dala_buf_append(&held, joined.data, joined.len)) problem = dala_errmsg();
            held_value = text_value("");
            held_value.bytes = held.data;
            held_value.len = held.len;
            const dala_version *newer = dala_version_compare(&set.version, &next.version) > 0 ? &set.version
                                                                                             : &next.version;
            set.version = (dala_version){newer->hlc + 1, 0};
            set.value = &held_value;
        }
    }
    if (!problem && dala_version_compare(&risk.version, &highest->version) != 0)
        problem = "a pairwise fold settles on another risk";
    if (!problem && mask_of_value(set.value) != all) problem = "a pairwise fold settles on another union";
    dala_buf_free(&joined);
    dala_buf_free(&held);
    return problem;
}

/* NULL when the policies settle `state` on the values the definition
 * gives for the expected heads (HIGHEST: the greatest head by (rank,
 * version); UNION: the union of their sets, held by the newest head whose
 * set it is, if any), and a pairwise fold agrees; else what differs. */
static const char *prop_settle_mismatch(const dala_field_state *state, const prop_history *history,
                                        const prop_expected *expected, uint64_t *rng, prop_coverage *coverage)
{
    if (!state->has_winner) return NULL;
    const dala_field_head *highest = &expected->heads[0], *holder = NULL;
    unsigned all = 0;
    for (size_t i = 1; i < expected->head_count; i++)
        if (prop_rank_of(history, &expected->heads[i]) > prop_rank_of(history, highest))
            highest = &expected->heads[i];
    for (size_t i = 0; i < expected->head_count; i++) all |= prop_mask_of(history, &expected->heads[i]);
    for (size_t i = 0; i < expected->head_count && !holder; i++)
        if (prop_mask_of(history, &expected->heads[i]) == all) holder = &expected->heads[i];
    char want[64];
    mask_text(want, sizeof want, all);
    coverage->highest_not_winner += highest != &expected->heads[0];
    coverage->union_of_no_head += holder == NULL;

    const dala_field_head *stands = NULL;
    dala_buf joined = DALA_BUF_INIT;
    const char *problem = NULL;
    if (dala_field_state_settle(&stands, &joined, state, RISK_DEF, prop_risk_of, (void *)history))
        problem = dala_errmsg();
    else if (!stands || dala_version_compare(&stands->version, &highest->version) != 0)
        problem = "another highest risk";
    else if (dala_field_state_settle(&stands, &joined, state, KINDS_DEF, prop_set_of, (void *)history))
        problem = dala_errmsg();
    else if (joined.len != strlen(want) || (joined.len && memcmp(joined.data, want, joined.len) != 0))
        problem = "another union";
    else if ((stands == NULL) != (holder == NULL) ||
             (holder && dala_version_compare(&stands->version, &holder->version) != 0))
        problem = "another head holds the union";
    dala_buf_free(&joined);
    return problem ? problem : prop_fold_mismatch(state, history, highest, all, rng);
}

/* The order a replica applies the edits in: replica 0 the order they were
 * made, 1 the reverse, the others shuffled (causal order or not), and from
 * replica 4 on with some edits applied twice. */
static size_t prop_order(size_t *order, const prop_history *history, size_t replica,
                         uint64_t *rng)
{
    size_t n = history->edit_count, count = n;
    for (size_t i = 0; i < n; i++) order[i] = replica == 1 ? n - 1 - i : i;
    if (replica < 2) return count;
    if (replica >= 4)
        for (size_t extra = 1 + prng_below(rng, n); extra > 0; extra--)
            order[count++] = prng_below(rng, n);
    for (size_t i = count - 1; i > 0; i--) {
        size_t j = prng_below(rng, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    return count;
}

/* Applies one edit to a replica's field state. NULL when it went as it
 * should; else what went wrong. */
static const char *prop_apply(dala_field_state *state, const dala_field_head *head,
                              int is_repeat, prop_coverage *coverage)
{
    dala_field_state before = *state;
    dala_field_head conflicts[PROP_MAX_EDITS];
    uint64_t based_on[PROP_MAX_EDITS];
    if (is_repeat) {
        if (state->conflict_count)
            memcpy(conflicts, state->conflicts, state->conflict_count * sizeof conflicts[0]);
        if (state->based_count)
            memcpy(based_on, state->based_on, state->based_count * sizeof based_on[0]);
        before.conflicts = conflicts;
        before.based_on = based_on;
    }
    dala_merge_outcome outcome = DALA_MERGE_DUPLICATE;
    if (dala_field_state_apply(&outcome, state, head) != DALA_OK) return dala_errmsg();
    if (outcome == DALA_MERGE_SUPERSEDED) coverage->superseded++;
    if (is_repeat) {
        if (outcome != DALA_MERGE_DUPLICATE && outcome != DALA_MERGE_SUPERSEDED)
            return "a repeated edit was taken as new";
        return states_equal(&before, state) ? NULL : "a repeated edit changed the state";
    }
    if (outcome == DALA_MERGE_DUPLICATE) return "a new edit was taken as a duplicate";
    int is_winner = heads_equal(&state->winner, head);
    if ((outcome == DALA_MERGE_FAST_FORWARD || outcome == DALA_MERGE_WINS) && !is_winner)
        return "an edit that won is not the winner";
    if ((outcome == DALA_MERGE_LOSES || outcome == DALA_MERGE_SUPERSEDED) && is_winner)
        return "an edit that lost is the winner";
    return NULL;
}

/* Replays `history` on one replica and compares it with the definition.
 * NULL when all is well. */
static const char *prop_replay(const prop_history *history, size_t replica, uint64_t *rng,
                               const prop_expected expected[], prop_coverage *coverage)
{
    dala_field_state states[PROP_MAX_FIELDS] = {DALA_FIELD_STATE_INIT, DALA_FIELD_STATE_INIT,
                                                DALA_FIELD_STATE_INIT};
    size_t order[PROP_MAX_APPLIES];
    unsigned char applied[PROP_MAX_EDITS] = {0};
    size_t count = prop_order(order, history, replica, rng);
    const char *problem = NULL;
    for (size_t i = 0; i < count && problem == NULL; i++) {
        const prop_edit *edit = &history->edits[order[i]];
        problem = prop_apply(&states[edit->field], &edit->head, applied[order[i]], coverage);
        applied[order[i]] = 1;
    }
    for (size_t f = 0; f < history->field_count && problem == NULL; f++)
        problem = prop_mismatch(&states[f], &expected[f]);
    for (size_t f = 0; f < history->field_count && problem == NULL; f++)
        problem = prop_settle_mismatch(&states[f], history, &expected[f], rng, coverage);
    if (problem == NULL && replica == 0)
        for (size_t f = 0; f < history->field_count; f++)
            coverage->open_conflicts += states[f].conflict_count > 0;
    for (size_t f = 0; f < PROP_MAX_FIELDS; f++) dala_field_state_free(&states[f]);
    return problem;
}

static int has_equal_hlc_across_devices(const prop_history *history)
{
    for (size_t i = 0; i < history->edit_count; i++) {
        const dala_version *a = &history->edits[i].head.version;
        for (size_t j = i + 1; j < history->edit_count; j++) {
            const dala_version *b = &history->edits[j].head.version;
            if (a->hlc == b->hlc && a->device_id != b->device_id) return 1;
        }
    }
    return 0;
}

/* Every replica of the same edits, in any order and with repetitions,
 * holds the same winner and conflicts, and settles under each policy on
 * the same value: the one the definition gives for the set of heads. */
static void test_merge_any_order_gives_same_winner_conflicts_and_settled_value(void)
{
    prop_coverage coverage = {0, 0, 0, 0, 0, 0};
    for (uint64_t seed = 1; seed <= PROP_SEEDS; seed++) {
        prop_history history;
        prop_expected expected[PROP_MAX_FIELDS];
        prop_generate(&history, seed, &coverage);
        coverage.equal_hlc_across_devices += (unsigned)has_equal_hlc_across_devices(&history);
        for (size_t f = 0; f < history.field_count; f++) prop_expect(&expected[f], &history, f);
        uint64_t rng = seed ^ UINT64_C(0x5eed0f0dd0e5);
        for (size_t replica = 0; replica < PROP_REPLICAS; replica++) {
            const char *problem = prop_replay(&history, replica, &rng, expected, &coverage);
            if (problem != NULL) {
                test_fail(__FILE__, __LINE__, "seed %" PRIu64 ", replica %zu (%zu edits): %s",
                          seed, replica, history.edit_count, problem);
                return;
            }
        }
    }
    /* The generator must reach the cases that make merging hard. */
    CHECK(coverage.equal_hlc_across_devices > PROP_SEEDS / 10);
    CHECK(coverage.superseded > PROP_SEEDS);
    CHECK(coverage.open_conflicts > PROP_SEEDS / 10);
    CHECK(coverage.based_on_conflict > 0);
    CHECK(coverage.highest_not_winner > PROP_SEEDS / 10);
    CHECK(coverage.union_of_no_head > PROP_SEEDS / 10);
}

const dala_test merge_tests[] = {
    {"merge_version_compare_orders_by_hlc_then_device",
     test_merge_version_compare_orders_by_hlc_then_device},
    {"merge_duplicate_when_same_version", test_merge_duplicate_when_same_version},
    {"merge_fast_forwards_first_edit_based_on_nothing",
     test_merge_fast_forwards_first_edit_based_on_nothing},
    {"merge_edit_based_on_unseen_version_wins_on_empty_field",
     test_merge_edit_based_on_unseen_version_wins_on_empty_field},
    {"merge_fast_forwards_when_base_matches", test_merge_fast_forwards_when_base_matches},
    {"merge_newer_concurrent_edit_wins", test_merge_newer_concurrent_edit_wins},
    {"merge_older_concurrent_edit_loses", test_merge_older_concurrent_edit_loses},
    {"merge_equal_hlc_breaks_tie_by_device", test_merge_equal_hlc_breaks_tie_by_device},
    {"merge_rejects_base_not_before_hlc", test_merge_rejects_base_not_before_hlc},
    {"merge_first_edit_becomes_winner", test_merge_first_edit_becomes_winner},
    {"merge_fast_forward_replaces_winner_without_conflict",
     test_merge_fast_forward_replaces_winner_without_conflict},
    {"merge_keeps_losers_as_conflicts_newest_first",
     test_merge_keeps_losers_as_conflicts_newest_first},
    {"merge_duplicate_apply_is_a_no_op", test_merge_duplicate_apply_is_a_no_op},
    {"merge_edit_based_on_conflict_closes_it", test_merge_edit_based_on_conflict_closes_it},
    {"merge_conflicts_stay_sorted_as_winners_change",
     test_merge_conflicts_stay_sorted_as_winners_change},
    {"merge_late_edit_after_its_successor_is_superseded",
     test_merge_late_edit_after_its_successor_is_superseded},
    {"merge_superseded_edit_still_closes_its_base",
     test_merge_superseded_edit_still_closes_its_base},
    {"merge_reapplied_superseded_edit_changes_nothing",
     test_merge_reapplied_superseded_edit_changes_nothing},
    {"merge_edit_on_shared_hlc_closes_every_head_with_it",
     test_merge_edit_on_shared_hlc_closes_every_head_with_it},
    {"merge_accepts_null_outcome", test_merge_accepts_null_outcome},
    {"merge_free_resets_state_and_accepts_null", test_merge_free_resets_state_and_accepts_null},
    {"merge_state_unchanged_when_growth_would_overflow",
     test_merge_state_unchanged_when_growth_would_overflow},
    {"merge_any_order_gives_same_winner_conflicts_and_settled_value",
     test_merge_any_order_gives_same_winner_conflicts_and_settled_value},
    {"merge_settle_highest_keeps_the_value_later_in_the_enumeration",
     test_merge_settle_highest_keeps_the_value_later_in_the_enumeration},
    {"merge_settle_highest_ties_and_outside_values_go_to_the_newer",
     test_merge_settle_highest_ties_and_outside_values_go_to_the_newer},
    {"merge_settle_union_joins_in_the_enumerations_order", test_merge_settle_union_joins_in_the_enumerations_order},
    {"merge_settle_union_keeps_the_side_that_holds_the_union",
     test_merge_settle_union_keeps_the_side_that_holds_the_union},
    {"merge_settle_union_keeps_members_outside_the_enumeration",
     test_merge_settle_union_keeps_members_outside_the_enumeration},
    {"merge_state_settle_reads_every_head", test_merge_state_settle_reads_every_head},
    {"merge_record_newer_lower_risk_leaves_the_higher_with_a_fresh_version",
     test_merge_record_newer_lower_risk_leaves_the_higher_with_a_fresh_version},
    {"merge_record_older_higher_risk_beats_the_newer_lower",
     test_merge_record_older_higher_risk_beats_the_newer_lower},
    {"merge_record_newer_higher_risk_wins_as_without_policy",
     test_merge_record_newer_higher_risk_wins_as_without_policy},
    {"merge_record_history_does_not_bring_its_value_back", test_merge_record_history_does_not_bring_its_value_back},
    {"merge_record_union_larger_than_both_names_the_older_as_loser",
     test_merge_record_union_larger_than_both_names_the_older_as_loser},
    {"merge_record_refuses_a_fresh_version_not_newer", test_merge_record_refuses_a_fresh_version_not_newer},
    {NULL, NULL},
};
