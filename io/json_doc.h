/*
 * io/json_doc.h — build a JSON document with cJSON and know whether it is whole.
 *
 * cJSON's add functions return false when an allocation fails and carry on: the part is
 * missing from the document, and an item made beforehand for cJSON_AddItemTo* is neither
 * attached nor freed. Under memory pressure a summary would then be written incomplete, with
 * exit 0, and leak. Every document is therefore built between sgs_json_begin and
 * sgs_json_finish, with items attached through sgs_json_attach:
 *
 *   long mark = sgs_json_begin();
 *   cJSON *root = cJSON_CreateObject();
 *   sgs_json_attach(root, "input", input_object(st));
 *   char *text = sgs_json_finish(root, mark, 1);   // NULL: out of memory, nothing to write
 */
#ifndef SGS_JSON_DOC_H
#define SGS_JSON_DOC_H

#include <cjson/cJSON.h>

/* Route cJSON's allocations through the project's allocator (kernels/core.h), so that the
 * failure count below and the failure-injection seam see them, and return the count of
 * failed allocations so far: the mark to give sgs_json_finish. */
long sgs_json_begin(void);

/* Attach `item` to the object `parent` under `name`, or append it to the array `parent` when
 * `name` is NULL. When it cannot (no parent, no item, no memory) `item` is freed. */
void sgs_json_attach(cJSON *parent, const char *name, cJSON *item);

/* The text of `root` (indented when `formatted`), to be freed with cJSON_free; `root` is
 * deleted. NULL when any allocation failed since `mark`: the document is not whole. */
char *sgs_json_finish(cJSON *root, long mark, int formatted);

#endif
