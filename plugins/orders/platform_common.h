/* platform_common.h — small readers the ikas and IdeaSoft converters share (static inline; orders module only). */
#ifndef ORD_PLATFORM_COMMON_H
#define ORD_PLATFORM_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ctype.h>

#include "orders.h"
#include "destek_util.h"

static inline const char *pc_str(const cJSON *o, const char *name)
{
  const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
  return s && *s ? s : NULL;
}

/* A member that is a string or a whole number, as text in out[64]; -1 when neither. */
static inline int pc_id(const cJSON *o, const char *name, char out[64])
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0) {
    snprintf(out, 64, "%.0f", v->valuedouble);
    return 0;
  }
  if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < 64) {
    snprintf(out, 64, "%s", v->valuestring);
    return 0;
  }
  return -1;
}

/* An amount (549.9 or "549.90") in minor units; 0 when absent. */
static inline int64_t pc_money(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  int64_t m = 0;
  if (cJSON_IsString(v) && ord_money_minor(v->valuestring, &m) == 0) return m < 0 ? 0 : m;
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e11) return (int64_t)(v->valuedouble * 100 + 0.5);
  return 0;
}

/* A time member: milliseconds since 1970 (ikas) or ISO-8601 text, as ISO UTC in out; -1 when absent. */
static inline int pc_time(const cJSON *o, const char *name, char out[21])
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (cJSON_IsNumber(v) && v->valuedouble > 0) {
    util_iso_time((time_t)(v->valuedouble / 1000), out);
    return 0;
  }
  if (cJSON_IsString(v)) return ord_time_utc(v->valuestring, out);
  return -1;
}

static inline void pc_add(cJSON *o, const char *name, const char *value)
{
  if (value) cJSON_AddStringToObject(o, name, value);
}

static inline char *pc_name_new(const char *f, const char *l)
{
  if (!f && !l) return NULL;
  char *s = NULL;
  if (asprintf(&s, "%s%s%s", f ? f : "", f && l ? " " : "", l ? l : "") < 0) abort();
  return s;
}
#endif
