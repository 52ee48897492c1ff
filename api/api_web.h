/*
 * api_web: the web app's files, compiled into holdpoint-api from api/web/
 * by api/embed_web.cmake (api_web_data.c, generated).
 */
#ifndef HP_API_WEB_H
#define HP_API_WEB_H

#include <stddef.h>

typedef struct api_web_file {
    const char *name; /* "app.js" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} api_web_file;

/* The build's asset hash (16 hex digits): assets live under
 * /app/assets/<api_web_hash>/. */
extern const char api_web_hash[];
extern const api_web_file api_web_files[];
extern const size_t api_web_files_count;

#endif
