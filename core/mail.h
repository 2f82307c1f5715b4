/* The core includes the helper library's MIME functions under their old name: see include/destek_mail.h. */
#ifndef DESTEK_MAIL_H
#define DESTEK_MAIL_H
#include "destek_mail.h"
#endif
