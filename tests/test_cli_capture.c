/* test_cli_capture.c - the `dala` command as an officer uses it, run as a
 * real program against the real server on 127.0.0.1:0: it enrols, pulls
 * the published questionnaire, asks it question by question with the skip
 * logic applied and a wrong answer asked again, asks a person's record
 * field by field in Russian with a mistyped IIN refused and asked again,
 * names her in an offence by picking her from a list, shows records under
 * their labels, and syncs what it captured. The store is sealed under a
 * PIN the command reads from a file only its owner may read (--pin-file),
 * as scripts give it. */
#include "e2e_support.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CLI_TIMEOUT_MS 20000

/* run_dala with `input` (NULL: none) on standard input, killed after
 * CLI_TIMEOUT_MS. */
static int run_dala_with(char **out, const char *dir, const char *input, const char *const *args)
{
    return run_dala(out, NULL, dir, NULL, input, args, CLI_TIMEOUT_MS);
}

/* Enrols the tablet of officer A with the dala command and syncs once. */
static int enrol_tablet(harness *h)
{
    char code[32], *out = NULL;
    if (harness_code(h, code, h->officer_a, h->unit_a)) return -1;
    const char *enrol[] = {"enroll", "--server", h->url, "--code", code, NULL};
    int status = run_dala_with(&out, h->dir, NULL, enrol);
    CHECK_EQ_INT(status, 0);
    free(out);
    const char *sync[] = {"sync", NULL};
    if (!status) status = run_dala_with(&out, h->dir, NULL, sync);
    CHECK_EQ_INT(status, 0);
    free(out);
    return status;
}

/* The last line of `text` (a saved record's id). */
static void last_line(char *out, size_t size, const char *text)
{
    const char *end = text + strlen(text);
    while (end > text && end[-1] == '\n') end--;
    const char *start = end;
    while (start > text && start[-1] != '\n') start--;
    snprintf(out, size, "%.*s", (int)(end - start), start);
}

static void test_cli_capture_asks_a_questionnaire_with_its_skip_logic(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    char form[DALA_ID_TEXT_BYTES], *out = NULL, id[64];
    publish_form(&h, 1, NULL, NULL, form);
    if (enrol_tablet(&h)) goto done;
    /* q1 gets 9 (no such option) first; q7 "no" hides q8-q16. */
    static const char answers[] = "9\n2\n1\n1\n3\n1\n2\n2\n1\n2\n3\n\n";
    const char *capture[] = {"capture", "--form", "vaw-household", "--set", "collected_on=2026-01-05", NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, answers, capture), 0);
    if (!out) goto done;
    CHECK_CONTAINS(out, "жауап сәйкес емес: қайталаңыз");
    CHECK_CONTAINS(out, "\nq7. ");
    CHECK_CONTAINS(out, "\nq17. ");
    CHECK(strstr(out, "\nq8. ") == NULL);
    CHECK(strstr(out, "\nq15. ") == NULL);
    last_line(id, sizeof id, out);
    free(out);
    const char *sync[] = {"sync", NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, NULL, sync), 0);
    free(out);
    char *answers_held = central_field(&h, id, "answers"), *form_held = central_field(&h, id, "form_id");
    CHECK_CONTAINS(answers_held, "\"q7\":\"no\"");
    CHECK(answers_held && !strstr(answers_held, "\"q8\""));
    CHECK(form_held && strcmp(form_held, form) == 0);
    free(answers_held);
    free(form_held);
done:
    harness_stop(&h);
}

static void test_cli_capture_asks_a_record_field_by_field_and_again_when_refused(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    char *out = NULL, id[64];
    if (enrol_tablet(&h)) goto done;
    /* role 1 (victim), names, patronymic skipped, sex 1 (female), birth date,
     * a mistyped IIN, the rest skipped; then the IIN asked again. */
    static const char fields[] = "1\nСейітова\nӘсел\n\n1\n1990-05-14\n900514440019\n\n\n\n\n\n\n\n900514440018\n";
    const char *capture[] = {"--lang", "ru", "capture", "--table", "person", "--ask", NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, fields, capture), 0);
    if (!out) goto done;
    CHECK_CONTAINS(out, "Фамилия *");
    CHECK_CONTAINS(out, "1) Потерпевший");
    CHECK_CONTAINS(out, "ИИН: содержит неверную контрольную цифру");
    last_line(id, sizeof id, out);
    free(out);
    const char *show[] = {"show", id, NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, NULL, show), 0);
    CHECK_CONTAINS(out, "\"iin\": \"900514440018\"");
    CHECK_CONTAINS(out, "\"first_name\": \"Әсел\"");
    free(out);
    /* An offence names her as the victim by picking her from a list, and
     * reads back under its labels with her summary beside the reference. */
    static const char offence[] = "2\n1\nkoap.73\n2026-01-04\n\n1\n\n1\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n";
    const char *ask_offence[] = {"--lang", "ru", "capture", "--table", "offence", "--ask", NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, offence, ask_offence), 0);
    CHECK_CONTAINS(out, "1) Потерпевший · Сейітова · Әсел");
    last_line(id, sizeof id, out);
    free(out);
    const char *labelled[] = {"--lang", "ru", "show", id, "--labels", NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, NULL, labelled), 0);
    CHECK_CONTAINS(out, "Вид правонарушения: Административное правонарушение");
    CHECK_CONTAINS(out, "(Потерпевший · Сейітова · Әсел)");
    CHECK_CONTAINS(out, ": Супруг");
    free(out);
    /* A record type the tablet does not write is refused plainly. */
    const char *review[] = {"capture", "--table", "review", "--ask", NULL};
    CHECK_EQ_INT(run_dala_with(&out, h.dir, "", review), 2);
    CHECK_CONTAINS(out, "review is not a record type this tablet writes");
    free(out);
done:
    harness_stop(&h);
}

const dala_test cli_capture_tests[] = {
    {"cli_capture_asks_a_questionnaire_with_its_skip_logic", test_cli_capture_asks_a_questionnaire_with_its_skip_logic},
    {"cli_capture_asks_a_record_field_by_field_and_again_when_refused",
     test_cli_capture_asks_a_record_field_by_field_and_again_when_refused},
    {NULL, NULL},
};
