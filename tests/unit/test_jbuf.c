/* jbuf: the JSON it writes is what cJSON prints for the same values, byte for byte, and parses back unchanged. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "jbuf.h"

/* The text jbuf_str writes for s, and cJSON's for the same string, compared. */
static void same_as_cjson(const char *s)
{
  struct jbuf b;
  jbuf_init(&b, 1);   /* tiny: every write has to grow it */
  jbuf_str(&b, s);
  char *mine = jbuf_take(&b, NULL);
  cJSON *str = cJSON_CreateString(s);
  char *theirs = cJSON_PrintUnformatted(str);
  CHECK(!strcmp(mine, theirs));
  cJSON *back = cJSON_Parse(mine);
  CHECK(back && cJSON_IsString(back) && !strcmp(back->valuestring, s));
  cJSON_Delete(back);
  cJSON_Delete(str);
  free(theirs);
  free(mine);
}

int main(void)
{
  /* every ASCII byte on its own and in a run */
  char one[2] = { 0, 0 }, all[129];
  for (int c = 1; c < 128; c++) {
    one[0] = (char)c;
    same_as_cjson(one);
    all[c - 1] = (char)c;
  }
  all[127] = 0;
  same_as_cjson(all);
  same_as_cjson("");
  same_as_cjson("Kargo İADE — şçğöüı ISPARTA 🚚 \"tırnak\" \\ters\\ </script>");

  struct jbuf b;
  jbuf_init(&b, 8);
  JBUF_LIT(&b, "[");
  int64_t ints[] = { 0, 1, -1, 42, 1000000007, INT64_MAX, INT64_MIN };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    if (i) JBUF_LIT(&b, ",");
    jbuf_int(&b, ints[i]);
  }
  JBUF_LIT(&b, ",");
  jbuf_null(&b);
  JBUF_LIT(&b, ",");
  jbuf_bool(&b, 1);
  JBUF_LIT(&b, ",");
  jbuf_bool(&b, 0);
  JBUF_LIT(&b, ",");
  jbuf_str(&b, NULL);
  JBUF_LIT(&b, ",");
  jbuf_strn(&b, "abcdef", 3);
  JBUF_LIT(&b, "]");
  size_t len;
  char *text = jbuf_take(&b, &len);
  CHECK(len == strlen(text));
  CHECK(!strcmp(text, "[0,1,-1,42,1000000007,9223372036854775807,-9223372036854775808,null,true,false,null,\"abc\"]"));
  CHECK(b.data == NULL && b.len == 0);
  free(text);

  /* a large document grows without losing anything */
  jbuf_init(&b, 16);
  for (int i = 0; i < 100000; i++) jbuf_str(&b, "x\n");
  text = jbuf_take(&b, &len);
  CHECK(len == 100000 * 5);
  CHECK(!memcmp(text + len - 5, "\"x\\n\"", 5));
  free(text);
  jbuf_init(&b, 16);
  jbuf_free(&b);
  CHECK(b.data == NULL);
  CHECK_DONE();
}
