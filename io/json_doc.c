/*
 * io/json_doc.c — see io/json_doc.h.
 */
#include "io/json_doc.h"

#include "kernels/core.h"

static void *json_alloc(size_t size)
{
    return sgs_alloc_array(size, 1);
}

long sgs_json_begin(void)
{
    cJSON_InitHooks(&(cJSON_Hooks){.malloc_fn = json_alloc, .free_fn = sgs_free});
    return sgs_alloc_failures();
}

void sgs_json_attach(cJSON *parent, const char *name, cJSON *item)
{
    cJSON_bool ok =
        parent && item &&
        (name ? cJSON_AddItemToObject(parent, name, item) : cJSON_AddItemToArray(parent, item));
    if (!ok)
        cJSON_Delete(item);
}

char *sgs_json_finish(cJSON *root, long mark, int formatted)
{
    char *text = NULL;
    if (root)
        text = formatted ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text && sgs_alloc_failures() != mark) {
        cJSON_free(text);
        text = NULL;
    }
    return text;
}
