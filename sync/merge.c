/* merge.c - the per-field three-way merge of DESIGN.md ("Merge").
 *
 * A version is who wrote a field when: (hlc, device_id). Versions are
 * totally ordered by hlc, then device_id, so every node picks the same
 * winner between concurrent edits without talking to the others.
 *
 * dala_merge_decide is the pure decision for one incoming edit against the
 * field's current version:
 *   - the same version again                     -> DUPLICATE;
 *   - no current version and base 0              -> FAST_FORWARD;
 *   - no current version and some other base     -> WINS (the edit was made
 *     on top of something this node never saw: concurrent with nothing);
 *   - base equal to the current version's hlc    -> FAST_FORWARD;
 *   - otherwise the two edits were concurrent: the newer by (hlc,
 *     device_id) WINS, the older LOSES and is kept as a conflict.
 *
 * dala_field_state makes the result independent of arrival order. Let S be
 * the set of edits applied so far and R the set of their base_hlc values
 * (kept sorted in based_on, 0 included). The heads are the edits of S whose
 * hlc is not in R: the ones nobody has edited on top of. The winner is the
 * greatest head by (hlc, device_id); the conflicts are the other heads,
 * newest first. Both are functions of the set S alone, so every node that
 * has applied the same edits, in whatever order and with whatever
 * repetitions, holds the same winner and the same conflicts. The state is
 * never empty of heads once S is not: the edit with the greatest hlc is
 * always a head, because every base is below the hlc of its own edit.
 *
 * dala_field_state_apply(out, state, incoming):
 *   1. base_hlc >= hlc is DALA_EINVAL: an HLC is always later than the
 *      version it was based on.
 *   2. The same version as the winner or an open conflict is DUPLICATE and
 *      changes nothing (the first copy's base and value_ref are kept).
 *   3. An edit whose hlc is already in R is SUPERSEDED: something applied
 *      earlier was based on it, so it is history and never a head. Its base
 *      still goes into R, which closes any head it was based on. Applying
 *      again any edit that is no longer a head (superseded on arrival, or
 *      closed since) is therefore a no-op: its base is in R already and so
 *      is its hlc. It reports SUPERSEDED again, not DUPLICATE, because the
 *      state does not remember versions that are no longer heads, and a
 *      late edit met for the first time must never be reported DUPLICATE,
 *      lest a caller drop it from history. Callers key history by version.
 *   4. Otherwise *out is dala_merge_decide against the winner that stood
 *      before; base_hlc goes into R, every head whose hlc equals it is
 *      closed (winner or conflict), the incoming edit becomes a head, and
 *      the greatest head becomes the winner.
 * A base_hlc names a version by its hlc only, so an edit based on hlc h
 * closes every head with hlc h, whatever device wrote it.
 *
 * value_ref travels with its version untouched. Both arrays are grown
 * before anything changes, so on DALA_ENOMEM the state is as it was. The
 * outcome pointer may be NULL. A state costs one uint64_t per distinct
 * base ever applied, plus one head per open conflict.
 */
#include "sync_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int dala_version_compare(const dala_version *a, const dala_version *b)
{
    assert(a != NULL && b != NULL);
    if (a->hlc != b->hlc) return a->hlc < b->hlc ? -1 : 1;
    if (a->device_id != b->device_id) return a->device_id < b->device_id ? -1 : 1;
    return 0;
}

dala_merge_outcome dala_merge_decide(const dala_version *current, const dala_version *incoming,
                                     uint64_t incoming_base_hlc)
{
    assert(incoming != NULL);
    if (current == NULL)
        return incoming_base_hlc == 0 ? DALA_MERGE_FAST_FORWARD : DALA_MERGE_WINS;
    if (dala_version_compare(incoming, current) == 0) return DALA_MERGE_DUPLICATE;
    if (incoming_base_hlc == current->hlc) return DALA_MERGE_FAST_FORWARD;
    return dala_version_compare(incoming, current) > 0 ? DALA_MERGE_WINS : DALA_MERGE_LOSES;
}

/* --- growing ------------------------------------------------------------ */

/* Makes room for at least `need` elements of `size` bytes in *array, whose
 * capacity is *alloc. Doubles (at least 4); on failure nothing changes. */
static int grow(void **array, size_t *alloc, size_t need, size_t size, const char *what)
{
    if (need <= *alloc) return DALA_OK;
    size_t new_alloc = *alloc ? *alloc : 4;
    while (new_alloc < need) {
        if (new_alloc > SIZE_MAX / 2) new_alloc = need;
        else new_alloc *= 2;
    }
    if (new_alloc > SIZE_MAX / size)
        return dala_error_set(DALA_ENOMEM, "merge: %s of %zu entries is too large", what, need);
    void *grown = dala_realloc(*array, new_alloc * size);
    if (grown == NULL)
        return dala_error_set(DALA_ENOMEM, "merge: growing %s to %zu entries: out of memory",
                              what, new_alloc);
    *array = grown;
    *alloc = new_alloc;
    return DALA_OK;
}

/* Makes room for one more conflict and one more based_on entry. */
static int reserve_one_more(dala_field_state *state)
{
    void *conflicts = state->conflicts, *based_on = state->based_on;
    int rc = grow(&conflicts, &state->alloc_conflicts, state->conflict_count + 1,
                  sizeof *state->conflicts, "the conflict list");
    state->conflicts = conflicts;
    if (rc != DALA_OK) return rc;
    rc = grow(&based_on, &state->alloc_based, state->based_count + 1,
              sizeof *state->based_on, "the based-on list");
    state->based_on = based_on;
    return rc;
}

/* --- the based-on set R ------------------------------------------------- */

/* The index of the first based_on entry >= hlc (based_count if none). */
static size_t based_lower_bound(const dala_field_state *state, uint64_t hlc)
{
    size_t low = 0, high = state->based_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (state->based_on[mid] < hlc) low = mid + 1;
        else high = mid;
    }
    return low;
}

static int based_contains(const dala_field_state *state, uint64_t hlc)
{
    size_t i = based_lower_bound(state, hlc);
    return i < state->based_count && state->based_on[i] == hlc;
}

/* Adds hlc to R if absent; the room was reserved by reserve_one_more. */
static void based_insert(dala_field_state *state, uint64_t hlc)
{
    size_t i = based_lower_bound(state, hlc);
    if (i < state->based_count && state->based_on[i] == hlc) return;
    memmove(&state->based_on[i + 1], &state->based_on[i],
            (state->based_count - i) * sizeof *state->based_on);
    state->based_on[i] = hlc;
    state->based_count++;
}

/* --- the conflicts, newest first ---------------------------------------- */

/* The index of the first conflict not newer than `version`. */
static size_t conflict_lower_bound(const dala_field_state *state, const dala_version *version)
{
    size_t low = 0, high = state->conflict_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (dala_version_compare(&state->conflicts[mid].version, version) > 0) low = mid + 1;
        else high = mid;
    }
    return low;
}

static int conflict_contains(const dala_field_state *state, const dala_version *version)
{
    size_t i = conflict_lower_bound(state, version);
    return i < state->conflict_count &&
           dala_version_compare(&state->conflicts[i].version, version) == 0;
}

/* Inserts a head in order; the room was reserved by reserve_one_more. */
static void conflict_insert(dala_field_state *state, const dala_field_head *head)
{
    size_t i = conflict_lower_bound(state, &head->version);
    memmove(&state->conflicts[i + 1], &state->conflicts[i],
            (state->conflict_count - i) * sizeof *state->conflicts);
    state->conflicts[i] = *head;
    state->conflict_count++;
}

/* Removes the conflicts whose hlc is `hlc` (they sit next to each other). */
static void conflicts_close(dala_field_state *state, uint64_t hlc)
{
    dala_version newest = {hlc, UINT64_MAX};
    size_t first = conflict_lower_bound(state, &newest), end = first;
    while (end < state->conflict_count && state->conflicts[end].version.hlc == hlc) end++;
    memmove(&state->conflicts[first], &state->conflicts[end],
            (state->conflict_count - end) * sizeof *state->conflicts);
    state->conflict_count -= end - first;
}

/* --- applying ----------------------------------------------------------- */

/* Closes every head whose hlc is `base_hlc`, and promotes the newest
 * conflict if that closed the winner. (From states built by apply, an edit
 * that closes the winner is always newer than every other head and takes
 * its place next; the promotion keeps "winner = greatest head" true
 * without leaning on that.) */
static void heads_close(dala_field_state *state, uint64_t base_hlc)
{
    conflicts_close(state, base_hlc);
    if (!state->has_winner || state->winner.version.hlc != base_hlc) return;
    state->has_winner = 0;
    if (state->conflict_count == 0) return;
    state->winner = state->conflicts[0];
    state->has_winner = 1;
    memmove(&state->conflicts[0], &state->conflicts[1],
            (state->conflict_count - 1) * sizeof *state->conflicts);
    state->conflict_count--;
}

/* Adds a new head: the winner if it is the greatest, else a conflict. */
static void head_add(dala_field_state *state, const dala_field_head *head)
{
    if (!state->has_winner) {
        state->winner = *head;
        state->has_winner = 1;
    } else if (dala_version_compare(&head->version, &state->winner.version) > 0) {
        conflict_insert(state, &state->winner);
        state->winner = *head;
    } else {
        conflict_insert(state, head);
    }
}

static int is_present(const dala_field_state *state, const dala_version *version)
{
    if (state->has_winner && dala_version_compare(&state->winner.version, version) == 0)
        return 1;
    return conflict_contains(state, version);
}

int dala_field_state_apply(dala_merge_outcome *out, dala_field_state *state,
                           const dala_field_head *incoming)
{
    assert(state != NULL && incoming != NULL);
    const dala_version *version = &incoming->version;
    if (incoming->base_hlc >= version->hlc)
        return dala_error_set(DALA_EINVAL,
                              "merge: edit at hlc %" PRIu64 " by device %" PRIu64
                              " claims base %" PRIu64 ", not earlier than itself",
                              version->hlc, version->device_id, incoming->base_hlc);
    if (is_present(state, version)) {
        if (out) *out = DALA_MERGE_DUPLICATE;
        return DALA_OK;
    }
    int rc = reserve_one_more(state);
    if (rc != DALA_OK) return rc;

    int is_superseded = based_contains(state, version->hlc);
    dala_merge_outcome outcome =
        is_superseded ? DALA_MERGE_SUPERSEDED
                      : dala_merge_decide(state->has_winner ? &state->winner.version : NULL,
                                          version, incoming->base_hlc);
    based_insert(state, incoming->base_hlc);
    heads_close(state, incoming->base_hlc);
    if (!is_superseded) head_add(state, incoming);
    if (out) *out = outcome;
    return DALA_OK;
}

void dala_field_state_free(dala_field_state *state)
{
    if (state == NULL) return;
    free(state->conflicts);
    free(state->based_on);
    *state = (dala_field_state)DALA_FIELD_STATE_INIT;
}
