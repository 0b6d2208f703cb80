/* server_cli.h - argument and config-file parsing of the dala-server
 * command, kept apart from main.c so main stays thin. */
#ifndef DALA_SERVER_CLI_H
#define DALA_SERVER_CLI_H

#include "dala_server.h"

#include <stdio.h>

/* Fills `options` from a config file (--config) and the flags of
 * `serve`; prints what is wrong and returns non-zero on a bad argument. */
int server_cli_parse_serve(dala_server_options *options, const char **port_file, int argc, char **argv);

/* Runs `admin ...`; returns the process exit code: 0, 1 (the command
 * failed, said on stderr in plain words) or 2 (bad arguments, an unknown
 * command: then no database is opened or created). `--help` anywhere
 * prints the command's usage (or all of them), `--version` the version;
 * both exit 0. */
int server_cli_admin(int argc, char **argv);
/* Prints one usage line per admin command to `out`. */
void server_cli_admin_usage(FILE *out);
/* Whether the switch `name` (e.g. "--help") is among the arguments. */
int server_cli_has_switch(int argc, char **argv, const char *name);
/* Reads a whole text file of at most `max_bytes` into *out (free()),
 * NUL-terminated; DALA_ELIMIT when it is larger. */
int server_cli_read_file(char **out, const char *path, size_t max_bytes);
/* The value after flag `name` in argv, or NULL. */
const char *server_cli_flag(int argc, char **argv, const char *name);

/* --- report notes (report_cli.c) ---------------------------------------- */

/* `dala-server admin report --unit CODE|NAME [--year Y --quarter Q]
 * [--lang kk|ru] [--csv]`: a unit's (or department's) figures for a
 * quarter, counted from the records now, as a table on stdout (or CSV
 * rows block,group,value,now,last); `admin report --reconsolidate NOTE-ID
 * --by LOGIN` takes the unit notes filed since into a consolidated,
 * unsigned department note. */
int server_cli_report(dala_admin *admin, int argc, char **argv);
/* `dala-server verify-report --db PATH --note ID`: checks a signed report
 * note's signature against the note as stored; `verify-report --file
 * NOTE.json` checks a signed note's file (signed.json) with no database.
 * Exit 0: valid; 1: not valid or no such note (the reason on stderr); 2:
 * bad arguments. */
int server_cli_verify_report(int argc, char **argv);

#endif
