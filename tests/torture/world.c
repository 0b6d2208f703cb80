/* world.c - one scenario's world: a fresh central database in its own
 * folder with a body and `unit_count` units under the seeded department,
 * the real dala-server as a child process, and tablets enrolled into the
 * units through the admin API (one officer each, as in the field). */
#include "torture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

uint64_t torture_splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t world_random(world *w, uint64_t bound)
{
    pthread_mutex_lock(&w->prng_lock);
    uint64_t value = torture_splitmix(&w->prng);
    pthread_mutex_unlock(&w->prng_lock);
    return bound ? value % bound : value;
}

/* The organisation tree of the world: units below pd-astana. */
static int make_tree(world *w, size_t unit_count)
{
    dala_admin *admin = NULL;
    int64_t department, body;
    int rc = dala_admin_open(&admin, w->h.db_path);
    if (!rc) rc = dala_admin_unit_find(&department, admin, "pd-astana");
    if (!rc) rc = dala_admin_unit_add(&body, admin, department, "body", "Torture district police");
    for (size_t i = 0; !rc && i < unit_count; i++) {
        char name[64];
        snprintf(name, sizeof name, "Torture unit %zu", i + 1);
        rc = dala_admin_unit_add(&w->units[i], admin, body, "unit", name);
    }
    dala_admin_close(admin);
    if (rc) {
        torture_fail("%s: cannot make the organisation tree: %s", w->name, dala_errmsg());
        return -1;
    }
    w->unit_count = unit_count;
    return 0;
}

int world_open(world *w, const char *name, size_t unit_count, uint32_t page, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    snprintf(w->name, sizeof w->name, "%s", name);
    model_init(&w->model);
    pthread_mutex_init(&w->prng_lock, NULL);
    w->prng = seed;
    w->page = page;
    w->started_ms = monotonic_ms();
    if (unit_count > TORTURE_MAX_UNITS) unit_count = TORTURE_MAX_UNITS;
    snprintf(w->h.dir, sizeof w->h.dir, "%s/%s", g_run.root, name);
    if (mkdir(w->h.dir, 0700) != 0 && errno != EEXIST) {
        torture_fail("%s: mkdir %s: %s", name, w->h.dir, strerror(errno));
        return -1;
    }
    snprintf(w->h.db_path, sizeof w->h.db_path, "%s/central.db", w->h.dir);
    snprintf(w->server.port_file, sizeof w->server.port_file, "%s/port", w->h.dir);
    snprintf(w->server.log_file, sizeof w->server.log_file, "%s/dala-server.log", w->h.dir);
    if (make_tree(w, unit_count)) return -1;
    return server_child_start(w, 0);
}

/* Opens the tablet's store sealed under the world's PIN and enrols it as
 * `t->officer`'s device with a fresh code; NULL after a failure. */
static dala_store *enrol_sealed(world *w, tablet *t)
{
    char code[32];
    dala_store *store = NULL;
    dala_store_key key = {DALA_STORE_KEY_VERSION, w->pin, NULL, 0};
    if (harness_code(&w->h, code, t->officer, t->unit)) return NULL;
    int rc = dala_store_open_keyed(&store, t->path, &key);
    if (!rc) rc = dala_store_enroll(store, w->h.url, code, NULL);
    if (rc) {
        torture_fail("%s: %s: sealed store: %d (%s)", w->name, t->name, rc, dala_errmsg());
        dala_store_close(store);
        return NULL;
    }
    return store;
}

/* The tablets' transport: the built-in one, sent to the port the tablet
 * is pointed at (the server's, or the fault proxy's). */
static int routed_post(void *context, const char *url, const char *content_type, const void *body,
                       size_t body_len, int *status_out, void **response_out, size_t *response_len_out,
                       size_t max_response_bytes, int timeout_ms)
{
    tablet *t = context;
    const dala_transport *builtin = dala_transport_builtin();
    const char *path = strstr(url, "/v1/");
    char routed[256];
    snprintf(routed, sizeof routed, "http://127.0.0.1:%d%s", atomic_load(&t->via_port), path ? path : "/");
    return builtin->post(builtin->context, routed, content_type, body, body_len, status_out, response_out,
                         response_len_out, max_response_bytes, timeout_ms);
}

tablet *world_add_tablet(world *w, size_t unit_index, int is_editor)
{
    if (w->tablet_count == TORTURE_MAX_TABLETS || unit_index >= w->unit_count) return NULL;
    tablet *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->w = w;
    t->index = (int)w->tablet_count;
    t->unit = w->units[unit_index];
    t->is_editor = is_editor;
    snprintf(t->name, sizeof t->name, "tablet%02d", t->index);
    snprintf(t->path, sizeof t->path, "%s/%s.db", w->h.dir, t->name);
    char login[64];
    snprintf(login, sizeof login, "%s.officer%02d", w->name, t->index);
    t->officer = central_user_add(&w->h, login, "inspector", t->unit);
    records_gen_init(&t->gen, w->prng ^ (0x1000u + (uint64_t)t->index * 7919u));
    if (t->officer) t->store = w->pin ? enrol_sealed(w, t) : device_enrol(&w->h, t->name, t->officer, t->unit);
    if (!t->store) {
        torture_fail("%s: %s could not enrol", w->name, t->name);
        free(t);
        return NULL;
    }
    t->device_id = device_status(t->store).device_id;
    atomic_store(&t->via_port, w->h.port);
    t->transport.version = DALA_TRANSPORT_VERSION;
    t->transport.post = routed_post;
    t->transport.context = t;
    w->tablets[w->tablet_count++] = t;
    return t;
}

void world_close(world *w)
{
    server_child_stop(w);
    for (size_t i = 0; i < w->tablet_count; i++) {
        tablet *t = w->tablets[i];
        dala_store_close(t->store);
        for (size_t k = 0; k < t->kept_count; k++) gen_record_free(&t->kept[k]);
        free(t->kept);
        free(t);
    }
    w->tablet_count = 0;
    model_free(&w->model);
    pthread_mutex_destroy(&w->prng_lock);
}
