/* web_assets.c - serves the supervisors' pages from the copies compiled
 * into the binary (server/web/, scripts/embed-assets.sh): `/` is
 * index.html, `/<name>` the others; nothing is read from disk and nothing
 * comes from another server. The Content-Security-Policy allows scripts,
 * styles and connections to this server only, so a value a tablet typed
 * can never run as script in a supervisor's browser. */
#include "web_int.h"

#include <string.h>

#define CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " \
            "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

int route_web_asset(struct mg_connection *conn, void *server)
{
    const struct mg_request_info *info = mg_get_request_info(conn);
    const char *name = strcmp(info->local_uri, "/") == 0 ? "index.html" : info->local_uri + 1;
    const web_asset *asset = NULL;
    for (size_t i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].name, name) == 0) asset = &web_assets[i];
    int is_get = strcmp(info->request_method, "GET") == 0 || strcmp(info->request_method, "HEAD") == 0;
    if (!asset || !is_get) {
        int status = asset ? 405 : 404;
        http_send_error(conn, status, asset ? DALA_EINVAL : DALA_ENOTFOUND,
                        asset ? "pages take GET only" : "no such resource");
        server_log_request(server, conn, status, 0, 0);
        return status;
    }
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-cache\r\n"
              "Content-Security-Policy: " CSP "\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
              "Referrer-Policy: no-referrer\r\n\r\n",
              asset->content_type, *asset->len);
    if (strcmp(info->request_method, "HEAD") != 0) mg_write(conn, asset->data, *asset->len);
    server_log_request(server, conn, 200, 0, 0);
    return 200;
}
