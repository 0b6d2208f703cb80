/* test_merge.c - the per-field merge: each decision of dala_merge_decide,
 * the bookkeeping of dala_field_state (duplicates, closed conflicts,
 * superseded late edits), and a property test that replays random
 * histories of several devices in many orders and checks that every
 * replica converges on the same winner and the same conflicts. */
#include "dala_sync.h"
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

typedef struct prop_edit {
    size_t field;
    dala_field_head head;
} prop_edit;

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

/* Generates one history: 2..6 devices editing 1..3 fields, each edit based
 * on the version its device held, HLCs strictly increasing along every
 * causal chain. Half the histories step their clocks by 1..3, so HLCs are
 * often equal across devices; the other half by up to 1000, so rarely. */
static void prop_generate(prop_history *history, uint64_t seed, prop_coverage *coverage)
{
    uint64_t rng = seed;
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

static void test_merge_any_order_gives_same_winner_and_conflicts(void)
{
    prop_coverage coverage = {0, 0, 0, 0};
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
    {"merge_any_order_gives_same_winner_and_conflicts",
     test_merge_any_order_gives_same_winner_and_conflicts},
    {NULL, NULL},
};
