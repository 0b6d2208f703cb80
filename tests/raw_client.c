/* raw_client.c - see raw_client.h. */
#include "raw_client.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int raw_post(int port, const char *path, const char *content_type, const void *body, size_t len,
             int *status, dala_buf *answer)
{
    char error[256];
    struct mg_connection *conn = mg_connect_client("127.0.0.1", port, 0, error, sizeof error);
    if (!conn) return -1;
    mg_printf(conn,
              "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              path, content_type, len);
    if (len) mg_write(conn, body, len);
    int rc = -1;
    if (mg_get_response(conn, error, sizeof error, 60000) >= 0) {
        *status = mg_get_response_info(conn)->status_code;
        char chunk[16384];
        int n;
        while ((n = mg_read(conn, chunk, sizeof chunk)) > 0) dala_buf_append(answer, chunk, (size_t)n);
        rc = 0;
    }
    mg_close_connection(conn);
    return rc;
}

int raw_enroll(raw_device *dev, int port, const char *code)
{
    char body[256], hex[65];
    if (dala_keypair_generate(&dev->keys)) return -1;
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", dev->keys.public_key[i]);
    int n = snprintf(body, sizeof body, "code=%s&public_key=%s", code, hex);
    dala_buf answer = DALA_BUF_INIT;
    int status = 0, rc = -1;
    if (raw_post(port, "/v1/enroll", "application/x-www-form-urlencoded", body, (size_t)n, &status,
                 &answer) == 0 && status == 200 && dala_buf_append(&answer, "", 1) == DALA_OK) {
        const char *text = (const char *)answer.data;
        const char *id = strstr(text, "\"device_id\":");
        const char *key = strstr(text, "\"server_public_key\":\"");
        if (id && key) {
            dev->id = strtoull(id + 12, NULL, 10);
            key += 21;
            rc = 0;
            for (int i = 0; i < 32; i++) {
                unsigned byte;
                if (sscanf(key + 2 * i, "%2x", &byte) != 1) rc = -1;
                dev->server_public[i] = (uint8_t)byte;
            }
        }
    }
    dala_buf_free(&answer);
    return rc;
}

int raw_seal_request(dala_handshake **hs, dala_buf *frame, const raw_device *dev,
                     const dala_sync_request *request)
{
    dala_buf body = DALA_BUF_INIT;
    dala_frame_header header = {DALA_PROTOCOL_VERSION, DALA_FRAME_HELLO, DALA_SUITE_AES256GCM,
                                DALA_COMPRESS_DEFLATE, dala_schema_version(), dev->id, 1, 0};
    int rc = dala_sync_request_encode(&body, request);
    if (!rc) rc = dala_handshake_new(hs, 1, &dev->keys, dev->server_public, NULL);
    if (!rc) rc = dala_handshake_write(*hs, frame, &header, body.data, body.len);
    dala_buf_free(&body);
    return rc;
}

int raw_post_frame(int port, dala_handshake *hs, const dala_buf *frame, dala_buf *body,
                   dala_buf *error)
{
    dala_buf answer = DALA_BUF_INIT;
    int status = 0;
    if (raw_post(port, "/v1/sync", "application/octet-stream", frame->data, frame->len, &status,
                 &answer)) {
        dala_buf_free(&answer);
        return -1;
    }
    if (status == 200 && hs && dala_handshake_read(hs, body, NULL, answer.data, answer.len, 1 << 26))
        status = -2; /* the REPLY did not open */
    if (status != 200 && error) dala_buf_append(error, answer.data, answer.len);
    dala_buf_free(&answer);
    return status;
}

int raw_push(int port, const raw_device *dev, uint64_t seq, const dala_change *changes,
             size_t count, dala_buf *body, dala_sync_response *response)
{
    dala_buf batch = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    dala_handshake *hs = NULL;
    int status = -1;
    if (dala_batch_encode(&batch, dala_schema_version(), seq, changes, count) == DALA_OK) {
        dala_sync_request request = {0, 100, 0, NULL, batch.data, batch.len, 0, NULL, 0};
        if (raw_seal_request(&hs, &frame, dev, &request) == DALA_OK)
            status = raw_post_frame(port, hs, &frame, body, NULL);
        if (status == 200 && dala_sync_response_decode(response, body->data, body->len)) status = -2;
    }
    dala_handshake_free(hs);
    dala_buf_free(&batch);
    dala_buf_free(&frame);
    return status;
}

dala_change raw_visit_change(dala_field *fields, uint8_t id_seed, uint64_t hlc, uint64_t device,
                             const char *purpose)
{
    static const char *date = "2026-11-20";
    dala_change change = {"field_visit", {0}, hlc, device, 0, fields};
    memset(change.record_id, id_seed, 16);
    fields[change.field_count++] = (dala_field){"visit_date", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)date, 10}, 0};
    fields[change.field_count++] = (dala_field){"risk_level", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"low", 3}, 0};
    if (purpose)
        fields[change.field_count++] =
            (dala_field){"purpose", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)purpose, strlen(purpose)}, 0};
    return change;
}

/* 127.0.0.1:`port` as a socket address. */
static struct sockaddr_in loopback_address(int port)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons((uint16_t)port);
    return address;
}

int raw_listen_loopback(int *port, int backlog)
{
    struct sockaddr_in address = loopback_address(0);
    socklen_t len = sizeof address;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

int raw_connect(int port)
{
    struct sockaddr_in address = loopback_address(port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int raw_send_all(int fd, const void *data, size_t len)
{
    const char *next = data;
    while (len > 0) {
        ssize_t n = send(fd, next, len, MSG_NOSIGNAL);
        if (n <= 0) return -1;
        next += n;
        len -= (size_t)n;
    }
    return 0;
}
