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
 *
 * Merge policies (docs/domain.md; dala_field_def.merge) decide which
 * VALUE a concurrent edit settles on; the decision above still says which
 * edits are concurrent. dala_merge_settle weighs two concurrent versions:
 * NEWEST keeps the newer; HIGHEST the value later in the field's
 * enumeration (the higher risk), ties and values outside it to the newer;
 * UNION joins the two sets. Each is a maximum or a union, so commutative,
 * associative and idempotent: folded over concurrent versions in any
 * order it settles on the same value, which is what lets the server settle
 * pair by pair as changes arrive. dala_field_state_settle is the same rule
 * over the heads of a dala_field_state: HIGHEST the greatest head by
 * (rank, version), UNION the union of the heads' sets, held by the newest
 * head whose set it is, if any. Like the winner, it is a function of the
 * set of heads alone. Fast-forwards are never settled: the heads are the
 * edits nobody edited on top of, so an edit made on top of a value
 * replaces it (an officer lowers a risk on purpose).
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

/* --- merge policies ---------------------------------------------------- */

/* A value's position in the field's enumeration; -1 (below all of it) for
 * a value outside it, not TEXT, or absent. */
static long value_rank(const dala_field_def *def, const dala_value *value)
{
    if (!def || !value || value->type != DALA_VALUE_TEXT || value->len == 0) return -1;
    const dala_enum_value *found = dala_enum_find(def->choices, (const char *)value->bytes, value->len);
    return found ? (long)(found - def->choices->values) : -1;
}

/* Orders two sides by (rank, version): <0, 0, >0. */
static int compare_ranked(const dala_field_def *def, const dala_value *a, const dala_version *a_version,
                          const dala_value *b, const dala_version *b_version)
{
    long a_rank = value_rank(def, a), b_rank = value_rank(def, b);
    if (a_rank != b_rank) return a_rank < b_rank ? -1 : 1;
    return dala_version_compare(a_version, b_version);
}

/* The members of a set value in turn: TEXT, values joined by ','. Empty
 * members are skipped; any other type is the empty set. */
typedef struct set_cursor {
    const uint8_t *pos, *end;
} set_cursor;

static set_cursor set_begin(const dala_value *set)
{
    set_cursor cursor = {NULL, NULL};
    if (set && set->type == DALA_VALUE_TEXT && set->len) {
        cursor.pos = set->bytes;
        cursor.end = set->bytes + set->len;
    }
    return cursor;
}

/* The next member into *member and *len; 0 at the end. */
static int set_next(set_cursor *cursor, const uint8_t **member, size_t *len)
{
    while (cursor->pos) {
        const uint8_t *comma = memchr(cursor->pos, ',', (size_t)(cursor->end - cursor->pos));
        const uint8_t *stop = comma ? comma : cursor->end;
        *member = cursor->pos;
        *len = (size_t)(stop - cursor->pos);
        cursor->pos = comma ? comma + 1 : NULL;
        if (*len) return 1;
    }
    return 0;
}

static int set_has(const dala_value *set, const void *member, size_t len)
{
    set_cursor cursor = set_begin(set);
    const uint8_t *item;
    size_t item_len;
    while (set_next(&cursor, &item, &item_len))
        if (item_len == len && memcmp(item, member, len) == 0) return 1;
    return 0;
}

/* Whether every member of `a` is one of `b`. */
static int set_within(const dala_value *a, const dala_value *b)
{
    set_cursor cursor = set_begin(a);
    const uint8_t *item;
    size_t len;
    while (set_next(&cursor, &item, &len))
        if (!set_has(b, item, len)) return 0;
    return 1;
}

static int sets_equal(const dala_value *a, const dala_value *b)
{
    return set_within(a, b) && set_within(b, a);
}

/* Byte order of two members. */
static int compare_members(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    int order = memcmp(a, b, a_len < b_len ? a_len : b_len);
    return order ? order : (a_len > b_len) - (a_len < b_len);
}

static int put_member(dala_buf *out, const void *member, size_t len)
{
    int rc = out->len ? dala_buf_append(out, ",", 1) : DALA_OK;
    return rc ? rc : dala_buf_append(out, member, len);
}

/* The next member of `a` or `b` outside `choices`, in byte order, after
 * `last` (NULL: the first); NULL when there is none. */
static const uint8_t *next_outsider(size_t *len, const dala_enum *choices, const dala_value *a,
                                    const dala_value *b, const uint8_t *last, size_t last_len)
{
    const uint8_t *best = NULL, *item;
    size_t best_len = 0, item_len;
    const dala_value *sets[2] = {a, b};
    for (int s = 0; s < 2; s++) {
        set_cursor cursor = set_begin(sets[s]);
        while (set_next(&cursor, &item, &item_len)) {
            if (dala_enum_find(choices, (const char *)item, item_len)) continue;
            if (last && compare_members(item, item_len, last, last_len) <= 0) continue;
            if (best && compare_members(item, item_len, best, best_len) >= 0) continue;
            best = item;
            best_len = item_len;
        }
    }
    *len = best_len;
    return best;
}

/* The union of two sets, canonical, into `out` (reset first). `out` must
 * not hold the bytes of `a` or `b`. */
static int set_union(dala_buf *out, const dala_enum *choices, const dala_value *a, const dala_value *b)
{
    int rc = DALA_OK;
    dala_buf_reset(out);
    for (size_t i = 0; !rc && choices && i < choices->count; i++) {
        const char *value = choices->values[i].value;
        size_t len = strlen(value);
        if (set_has(a, value, len) || set_has(b, value, len)) rc = put_member(out, value, len);
    }
    const uint8_t *member = NULL;
    size_t len = 0;
    while (!rc && (member = next_outsider(&len, choices, a, b, member, len)) != NULL)
        rc = put_member(out, member, len);
    if (rc) dala_buf_reset(out);
    return rc;
}

/* The bytes of `buf` as a TEXT value (borrowed). */
static dala_value text_of(const dala_buf *buf)
{
    dala_value value = {DALA_VALUE_TEXT, 0, 0, buf->data, buf->len};
    return value;
}

int dala_merge_settle(const dala_merge_side **out, dala_buf *joined, const dala_field_def *def,
                      const dala_merge_side *a, const dala_merge_side *b)
{
    assert(out != NULL && a != NULL && b != NULL);
    const dala_merge_side *newer = dala_version_compare(&a->version, &b->version) >= 0 ? a : b;
    const dala_merge_side *older = newer == a ? b : a;
    dala_merge_policy policy = def ? def->merge : DALA_MERGE_NEWEST;
    *out = newer;
    if (policy == DALA_MERGE_HIGHEST) {
        if (compare_ranked(def, older->value, &older->version, newer->value, &newer->version) > 0) *out = older;
    } else if (policy == DALA_MERGE_UNION) {
        assert(joined != NULL);
        int rc = set_union(joined, def->choices, newer->value, older->value);
        if (rc) return rc;
        dala_value all = text_of(joined);
        if (!sets_equal(newer->value, &all)) *out = sets_equal(older->value, &all) ? older : NULL;
    }
    return DALA_OK;
}

int dala_field_state_settle(const dala_field_head **out, dala_buf *joined, const dala_field_state *state,
                            const dala_field_def *def, dala_head_value_fn value_of, void *context)
{
    assert(out != NULL && state != NULL && state->has_winner && value_of != NULL);
    dala_merge_policy policy = def ? def->merge : DALA_MERGE_NEWEST;
    *out = &state->winner;
    if (policy == DALA_MERGE_HIGHEST) {
        for (size_t i = 0; i < state->conflict_count; i++) {
            const dala_field_head *head = &state->conflicts[i];
            if (compare_ranked(def, value_of(context, head), &head->version, value_of(context, *out),
                               &(*out)->version) > 0)
                *out = head;
        }
    } else if (policy == DALA_MERGE_UNION) {
        assert(joined != NULL);
        dala_buf other = DALA_BUF_INIT;
        other.cap_bytes = joined->cap_bytes;
        int rc = set_union(joined, def->choices, value_of(context, &state->winner), NULL);
        for (size_t i = 0; !rc && i < state->conflict_count; i++) {
            dala_value so_far = text_of(joined);
            rc = set_union(&other, def->choices, &so_far, value_of(context, &state->conflicts[i]));
            if (rc) break;
            dala_buf swap = *joined; /* the union so far goes on in `joined` */
            *joined = other;
            other = swap;
        }
        dala_buf_free(&other);
        if (rc) return rc;
        dala_value all = text_of(joined);
        *out = NULL;
        if (sets_equal(value_of(context, &state->winner), &all)) *out = &state->winner;
        for (size_t i = 0; !*out && i < state->conflict_count; i++)
            if (sets_equal(value_of(context, &state->conflicts[i]), &all)) *out = &state->conflicts[i];
    }
    return DALA_OK;
}

void dala_field_state_free(dala_field_state *state)
{
    if (state == NULL) return;
    free(state->conflicts);
    free(state->based_on);
    *state = (dala_field_state)DALA_FIELD_STATE_INIT;
}
