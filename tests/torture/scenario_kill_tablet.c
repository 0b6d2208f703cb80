/* scenario_kill_tablet.c - kill -9 of a tablet in the middle of a sync:
 * the real `dala --store X sync` command runs as a child process and is
 * killed with SIGKILL at a random moment (while it pushes a batch, commits
 * an acknowledgement, or applies a pulled page); sometimes two of them run
 * on one store at once, which the README allows (the second waits) and
 * which stranded tablets in issue 12. Afterwards the store must open and
 * sync, and the convergence check ends the run. The stores are sealed
 * under a PIN the command reads from a file (--pin-file), made with a
 * cheap PBKDF2 count so the kills land in the sync, not in the PIN's key
 * derivation. */
#include "torture.h"

#include "key_file.h" /* dala_pin_iterations_set */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts `dala --store <path> sync` with its output in the world's folder. */
static pid_t start_cli_sync(world *w, const tablet *t)
{
    char binary[4200], log[700], pin_file[700];
    snprintf(binary, sizeof binary, "%s/dala", g_run.bin_dir);
    snprintf(log, sizeof log, "%s/%s-cli.log", w->h.dir, t->name);
    snprintf(pin_file, sizeof pin_file, "%s/tablets.pin", w->h.dir);
    char *argv[] = {"dala", "--store", (char *)t->path, "--pin-file", pin_file, "sync", "--max-push", "20",
                    "--timeout-ms", "5000", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = freopen(log, "a", stdout);
        if (out) dup2(STDOUT_FILENO, STDERR_FILENO);
        execv(binary, argv);
        _exit(127);
    }
    return pid;
}

/* Waits (at most 60 s) for a child that was not killed; it must exit 0. */
static void reap_cli(world *w, const tablet *t, pid_t pid, int may_fail)
{
    int status = 0;
    uint64_t started = monotonic_ms();
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (monotonic_ms() - started > 60000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            torture_fail("%s: `dala sync` on %s ran for more than 60 s; killed", w->name, t->name);
            return;
        }
        usleep(2000);
    }
    if (!may_fail && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        torture_fail("%s: `dala sync` on %s ended with status 0x%x; see %s/%s-cli.log", w->name, t->name, status,
                     w->h.dir, t->name);
}

/* One round on tablet `t`: capture, start one sync (or two at once), kill
 * the first at a random moment within `window_ms`. Returns 1 if it was
 * killed while still running. */
static int kill_round(world *w, tablet *t, int window_ms)
{
    tablet_capture(t, 60 + (int)world_random(w, 60));
    tablet_edit(t, 12, 20);
    int twice = world_random(w, 4) == 0;
    pid_t first = start_cli_sync(w, t), second = twice ? start_cli_sync(w, t) : -1;
    if (twice) atomic_fetch_add(&w->fig.concurrent_syncs, 1);
    usleep((useconds_t)(2 + world_random(w, (uint64_t)window_ms)) * 1000u);
    int status, killed = 0;
    if (first > 0 && waitpid(first, &status, WNOHANG) == 0) {
        kill(first, SIGKILL);
        waitpid(first, &status, 0);
        killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    } else if (first > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        torture_fail("%s: `dala sync` on %s ended with status 0x%x before the kill", w->name, t->name, status);
    }
    if (second > 0) reap_cli(w, t, second, 0); /* the one not killed must finish well */
    return killed;
}

void scenario_kill_tablet(void)
{
    int is_full = g_run.mode != MODE_SHORT;
    int target = is_full ? 22 : 8, kills = 0, window_ms = 300;
    world w;
    torture_note("kill-tablet: `dala sync` killed with kill -9 mid-sync %d times, sometimes beside a second one",
                 target);
    if (world_open(&w, "kill-tablet", 1, 100, g_run.seed ^ 0x544142u)) goto done;
    char pin_file[700];
    snprintf(pin_file, sizeof pin_file, "%s/tablets.pin", w.h.dir);
    if (write_pin_file(pin_file, CLI_TEST_PIN)) goto done;
    w.pin = CLI_TEST_PIN;
    dala_pin_iterations_set(1000); /* the stores keep this count */
    int added = 0;
    while (added < 3 && world_add_tablet(&w, 0, added == 0)) added++;
    dala_pin_iterations_set(0);
    if (added < 3) goto done;
    for (int round = 0; kills < target && round < target * 4; round++) {
        tablet *t = w.tablets[(size_t)round % w.tablet_count];
        if (kill_round(&w, t, window_ms)) {
            kills++;
            atomic_fetch_add(&w.fig.tablet_kills, 1);
            window_ms = window_ms * 11 / 10;
        } else {
            window_ms = window_ms * 3 / 4 > 20 ? window_ms * 3 / 4 : 20; /* it finished first: kill sooner */
        }
        /* The store opens, and syncs. */
        if (tablet_reopen(t)) break;
        int rc = tablet_sync(t, 10000, 0, NULL);
        if (rc)
            torture_fail("%s: %s does not sync after `dala sync` was killed: %d (%s)", w.name, t->name, rc,
                         dala_errmsg());
    }
    if (kills < target) torture_fail("%s: only %d of %d kills landed mid-sync", w.name, kills, target);
    world_converge(&w, 3);
done:
    figures_report(&w);
    world_close(&w);
}
