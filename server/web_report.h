/* web_report.h - what the report notes' routes share (web_reports.c: the
 * notes and their workflow; web_report_out.c: the downloads, the
 * printable page and the charts). docs/reports.md has the API. */
#ifndef DALA_WEB_REPORT_H
#define DALA_WEB_REPORT_H

#include "report_note.h"
#include "web_int.h"

/* Loads note `id_text` if the user may read it: readers of records whose
 * scope holds the note's unit (inspectors read none). DALA_ENOTFOUND
 * alike for a note out of scope and one that does not exist. */
int web_report_load(report_note *out, web_request *r, const char *id_text);

/* The note as JSON (docs/reports.md), its figures with labels and the
 * change against last year, and for a filed note what the records give
 * now where that differs. */
int web_report_put(json_out *j, web_request *r, const report_note *note);

int web_route_reports(web_request *r);
int web_route_report(web_request *r, const char *id, const char *action);
int web_route_report_csv(web_request *r, const report_note *note);
int web_route_report_json(web_request *r, const report_note *note);
int web_route_report_print(web_request *r, const report_note *note);
int web_route_report_chart(web_request *r, const report_note *note);
int web_route_report_signed(web_request *r, const report_note *note);

#endif /* DALA_WEB_REPORT_H */
