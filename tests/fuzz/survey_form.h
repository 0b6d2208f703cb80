/* survey_form.h - a small anonymous questionnaire with every question
 * type and skip logic, shared by the survey fuzz target and its seeds. */
#ifndef DALA_FUZZ_SURVEY_FORM_H
#define DALA_FUZZ_SURVEY_FORM_H

static const char fuzz_survey_form[] =
    "{\"code\":\"fz\",\"version\":1,\"kk\":\"Сауалнама\",\"ru\":\"Анкета\",\"anonymous\":true,\"questions\":["
    "{\"id\":\"q1\",\"type\":\"single\",\"required\":true,\"kk\":\"а\",\"ru\":\"а\",\"options\":["
    "{\"value\":\"yes\",\"kk\":\"Иә\",\"ru\":\"Да\"},{\"value\":\"no\",\"kk\":\"Жоқ\",\"ru\":\"Нет\"}]},"
    "{\"id\":\"q2\",\"type\":\"multi\",\"max_choices\":2,\"kk\":\"ә\",\"ru\":\"б\",\"show_if\":{\"question\":\"q1\",\"in\":[\"yes\"]},"
    "\"options\":[{\"value\":\"a\",\"kk\":\"a\",\"ru\":\"a\"},{\"value\":\"b\",\"kk\":\"b\",\"ru\":\"b\"},"
    "{\"value\":\"c\",\"kk\":\"c\",\"ru\":\"c\"}]},"
    "{\"id\":\"q3\",\"type\":\"number\",\"required\":true,\"min\":0,\"max\":20,\"integer\":true,\"kk\":\"б\",\"ru\":\"в\"},"
    "{\"id\":\"q4\",\"type\":\"text\",\"max_len\":40,\"kk\":\"в\",\"ru\":\"г\"},"
    "{\"id\":\"q5\",\"type\":\"date\",\"not_future\":true,\"kk\":\"г\",\"ru\":\"д\"}]}";

#endif
