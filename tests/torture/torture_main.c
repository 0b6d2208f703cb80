/* torture_main.c - the torture battery (issue 12): `build/torture --full`
 * (make torture), `--short` (make torture-short, the CI run), `--soak
 * --minutes N` (make soak). Runs each scenario against the real
 * dala-server binary and the real SDK, prints each scenario's figures and
 * the run's, and exits non-zero on any failure. Options: --seed N (the
 * PRNGs' seed; the default is fixed so runs repeat), --only NAME (one
 * scenario), --keep (leave the temporary folder). */
#include "torture.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

torture_run g_run;

typedef struct scenario {
    const char *name;
    void (*run)(void);
} scenario;

static const scenario scenarios[] = {
    {"network", scenario_network},
    {"kill-server", scenario_kill_server},
    {"kill-tablet", scenario_kill_tablet},
    {"slow-clients", scenario_slow_clients},
};

static int usage(void)
{
    fprintf(stderr, "usage: torture (--short | --full | --soak [--minutes N]) [--seed N] [--only NAME] [--keep]\n"
                    "scenarios: network, kill-server, kill-tablet, slow-clients\n");
    return 2;
}

/* The folder of this program, where dala and dala-server are built. */
static void find_bin_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) *slash = '\0';
    snprintf(g_run.bin_dir, sizeof g_run.bin_dir, "%s", slash ? exe : "build");
}

static int binaries_present(void)
{
    static const char *const names[] = {"dala", "dala-server"};
    for (size_t i = 0; i < 2; i++) {
        char path[sizeof g_run.bin_dir + 16];
        snprintf(path, sizeof path, "%s/%s", g_run.bin_dir, names[i]);
        if (access(path, X_OK) != 0) {
            fprintf(stderr, "torture: %s is missing: run `make` first\n", path);
            return 0;
        }
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int mode_set = 0;
    g_run.seed = 20260412;
    g_run.soak_minutes = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--short")) g_run.mode = MODE_SHORT, mode_set = 1;
        else if (!strcmp(argv[i], "--full")) g_run.mode = MODE_FULL, mode_set = 1;
        else if (!strcmp(argv[i], "--soak")) g_run.mode = MODE_SOAK, mode_set = 1;
        else if (!strcmp(argv[i], "--minutes") && i + 1 < argc) g_run.soak_minutes = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) g_run.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--keep")) g_run.keep_files = 1;
        else return usage();
    }
    if (!mode_set || g_run.soak_minutes < 1) return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* the proxy and the trickling clients write to closed sockets */
    find_bin_dir();
    if (!binaries_present()) return 2;
    snprintf(g_run.root, sizeof g_run.root, "/tmp/dala-torture-XXXXXX");
    if (!mkdtemp(g_run.root)) {
        perror("mkdtemp");
        return 2;
    }
    uint64_t started = monotonic_ms();
    torture_note("torture: %s run, seed %llu, files in %s",
                 g_run.mode == MODE_SHORT ? "short" : g_run.mode == MODE_FULL ? "full" : "soak",
                 (unsigned long long)g_run.seed, g_run.root);
    if (g_run.mode == MODE_SOAK) {
        scenario_soak();
    } else {
        int found = 0;
        for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
            if (only && strcmp(only, scenarios[i].name) != 0) continue;
            found = 1;
            scenarios[i].run();
        }
        if (!found) return usage();
    }
    figures_report_total(monotonic_ms() - started);
    unsigned long failures = torture_failures();
    torture_note("torture: %s after %.1f s: %lu failures", failures ? "FAILED" : "passed",
                 (double)(monotonic_ms() - started) / 1000.0, failures);
    if (g_run.keep_files) {
        torture_note("torture: files kept in %s", g_run.root);
    } else {
        char command[300];
        snprintf(command, sizeof command, "rm -rf '%s'", g_run.root);
        if (system(command) != 0) fprintf(stderr, "torture: could not remove %s\n", g_run.root);
    }
    return failures ? 1 : 0;
}
