/* The core includes the helper library's JSON writer under its old name: see include/destek_jbuf.h. */
#ifndef DESTEK_JBUF_H
#define DESTEK_JBUF_H
#include "destek_jbuf.h"
#endif
